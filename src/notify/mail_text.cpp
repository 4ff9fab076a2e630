#include "notify/mail_text.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <ctime>

#include "notify/chat_text.hpp"

namespace countersign {
namespace {

constexpr size_t kLineLimit = 78;       // RFC 5322 §2.1.1: SHOULD
constexpr size_t kEncodedWordMax = 75;  // RFC 2047 §2
constexpr std::string_view kWordOpen = "=?UTF-8?B?";
constexpr std::string_view kWordClose = "?=";

bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7f; }

bool IsAtext(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (std::isalnum(u) && u < 0x80) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

bool IsLdh(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x80 && std::isalnum(u)) || c == '-';
}

bool IsDotAtom(std::string_view text, bool (*allowed)(char)) {
  if (text.empty() || text.front() == '.' || text.back() == '.') return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '.') {
      if (text[i + 1] == '.') return false;
      continue;
    }
    if (!allowed(text[i])) return false;
  }
  return true;
}

bool IsDomain(std::string_view domain) {
  if (domain.empty() || domain.size() > 253 || !IsDotAtom(domain, IsLdh)) return false;
  size_t begin = 0;
  while (begin <= domain.size()) {
    size_t end = domain.find('.', begin);
    if (end == std::string_view::npos) end = domain.size();
    const std::string_view label = domain.substr(begin, end - begin);
    if (label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    begin = end + 1;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t n = (static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16) |
                       (static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8) |
                       static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 2]));
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest == 2) n |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// `text` as encoded-words joined by folding; the first word leaves room for `first_used`
// characters before it on its line.
std::string EncodedWords(std::string_view text, size_t first_used) {
  std::string out;
  size_t pos = 0;
  bool first = true;
  do {
    const size_t used = first ? first_used : 1;
    const size_t room = kLineLimit > used + kWordOpen.size() + kWordClose.size()
                            ? kLineLimit - used - kWordOpen.size() - kWordClose.size()
                            : 0;
    const size_t max_encoded =
        std::min(room, kEncodedWordMax - kWordOpen.size() - kWordClose.size());
    const size_t max_bytes = std::max<size_t>(max_encoded / 4 * 3, 6);
    size_t end = pos;
    while (end < text.size()) {
      const size_t n = Utf8CharBytes(text, end);
      if (end + n - pos > max_bytes && end > pos) break;
      end += n;
    }
    if (!first) out += "\r\n ";
    out += kWordOpen;
    out += Base64(text.substr(pos, end - pos));
    out += kWordClose;
    pos = end;
    first = false;
  } while (pos < text.size());
  return out;
}

std::string WithoutControls(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (IsControl(static_cast<unsigned char>(c))) c = ' ';
  }
  return out;
}

bool IsPrintableAscii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f;
  });
}

}  // namespace

bool IsMailAddress(std::string_view address) {
  const size_t at = address.find('@');
  if (at == std::string_view::npos || address.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  const std::string_view local = address.substr(0, at);
  return local.size() <= 64 && IsDotAtom(local, IsAtext) && IsDomain(address.substr(at + 1));
}

std::optional<Mailbox> ParseMailbox(std::string_view text) {
  text = Trim(text);
  if (std::any_of(text.begin(), text.end(),
                  [](char c) { return IsControl(static_cast<unsigned char>(c)); })) {
    return std::nullopt;
  }
  if (text.empty() || text.back() != '>') {
    if (!IsMailAddress(text)) return std::nullopt;
    return Mailbox{"", std::string(text)};
  }
  const size_t open = text.rfind('<');
  if (open == std::string_view::npos) return std::nullopt;
  Mailbox out;
  out.address = std::string(text.substr(open + 1, text.size() - open - 2));
  if (!IsMailAddress(out.address)) return std::nullopt;
  std::string_view name = Trim(text.substr(0, open));
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
    name = name.substr(1, name.size() - 2);
    for (size_t i = 0; i < name.size(); ++i) {
      if (name[i] == '\\' && i + 1 < name.size()) {
        out.display_name += name[++i];
      } else if (name[i] == '"' || name[i] == '\\') {
        return std::nullopt;
      } else {
        out.display_name += name[i];
      }
    }
  } else {
    if (name.find_first_of("\"<>") != std::string_view::npos) return std::nullopt;
    out.display_name = std::string(name);
  }
  return out;
}

std::string FormatMailbox(const Mailbox& mailbox) {
  if (mailbox.display_name.empty()) return mailbox.address;
  const std::string name = WithoutControls(mailbox.display_name);
  std::string out;
  if (IsPrintableAscii(name) && name.find("=?") == std::string::npos) {
    out = "\"";
    for (char c : name) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += "\"";
  } else {
    out = EncodedWords(name, 6);  // "From: "
  }
  return out + " <" + mailbox.address + ">";
}

bool IsMessageId(std::string_view id) {
  if (id.size() < 5 || id.size() > 250 || id.front() != '<' || id.back() != '>') return false;
  const std::string_view inner = id.substr(1, id.size() - 2);
  const size_t at = inner.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == inner.size() ||
      inner.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  return std::all_of(inner.begin(), inner.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f && c != '<' && c != '>';
  });
}

std::string EncodeHeaderText(std::string_view text, size_t name_length) {
  const std::string clean = WithoutControls(text);
  if (IsPrintableAscii(clean) && clean.find("=?") == std::string::npos &&
      name_length + clean.size() <= kLineLimit) {
    return clean;
  }
  return EncodedWords(clean, name_length);
}

std::string Base64Lines(std::string_view bytes) {
  const std::string encoded = Base64(bytes);
  std::string out;
  out.reserve(encoded.size() + encoded.size() / 76 * 2 + 2);
  for (size_t i = 0; i < encoded.size(); i += 76) {
    out.append(encoded, i, 76);
    out += "\r\n";
  }
  return out;
}

std::string MailDate(TimePoint t) {
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t seconds = static_cast<std::time_t>(
      std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char out[64];
  std::snprintf(out, sizeof out, "%s, %02d %s %04d %02d:%02d:%02d +0000",
                kDays[static_cast<size_t>(tm.tm_wday) % 7], tm.tm_mday,
                kMonths[static_cast<size_t>(tm.tm_mon) % 12], tm.tm_year + 1900, tm.tm_hour,
                tm.tm_min, tm.tm_sec);
  return out;
}

}  // namespace countersign
