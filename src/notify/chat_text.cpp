#include "notify/chat_text.hpp"

#include "core/choice_meaning.hpp"

namespace countersign {

size_t Utf8CharBytes(std::string_view text, size_t pos) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  size_t length = 1;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
  } else {
    return 1;
  }
  if (pos + length > text.size()) return 1;
  for (size_t i = 1; i < length; ++i) {
    if ((static_cast<unsigned char>(text[pos + i]) & 0xc0) != 0x80) return 1;
  }
  return length;
}

size_t Utf16Units(std::string_view character) { return character.size() == 4 ? 2 : 1; }

size_t TextLength(std::string_view text) {
  size_t units = 0;
  for (size_t pos = 0; pos < text.size();) {
    const size_t bytes = Utf8CharBytes(text, pos);
    units += Utf16Units(text.substr(pos, bytes));
    pos += bytes;
  }
  return units;
}

std::string TruncateText(std::string_view text, size_t max_units) {
  if (TextLength(text) <= max_units) return std::string(text);
  if (max_units == 0) return {};
  // Room for the ellipsis, which is one unit.
  const size_t budget = max_units - 1;
  size_t units = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t bytes = Utf8CharBytes(text, pos);
    const size_t width = Utf16Units(text.substr(pos, bytes));
    if (units + width > budget) break;
    units += width;
    pos += bytes;
  }
  std::string out(text.substr(0, pos));
  out += kEllipsis;
  return out;
}

std::string TruncateEscaped(std::string_view raw, size_t max_units,
                            std::string (*escape)(std::string_view)) {
  std::string escaped = escape(TruncateText(raw, max_units));
  if (TextLength(escaped) <= max_units) return escaped;
  std::string cut = TruncateText(escaped, max_units);
  if (cut.size() < kEllipsis.size()) return cut;
  // A cut right after a lone escaping backslash would escape the ellipsis; drop it.
  std::string_view kept(cut.data(), cut.size() - kEllipsis.size());
  size_t slashes = 0;
  while (slashes < kept.size() && kept[kept.size() - 1 - slashes] == '\\') ++slashes;
  if (slashes % 2 == 1) kept.remove_suffix(1);
  return std::string(kept) + std::string(kEllipsis);
}

std::string ChoiceButtonText(const Choice& choice, size_t max_units) {
  const std::string suffix = ChoiceMeaning::Suffix(choice);
  const size_t suffix_units = TextLength(suffix);
  // Room for at least two characters of the label (one and the ellipsis).
  if (suffix.empty() || max_units < suffix_units + 2) {
    return TruncateText(choice.label + suffix, max_units);
  }
  return TruncateText(choice.label, max_units - suffix_units) + suffix;
}

}  // namespace countersign
