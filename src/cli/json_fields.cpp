#include "cli/json_fields.hpp"

#include <boost/json/serialize.hpp>

namespace countersign {

std::string DisplaySafe(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    // C1 controls arrive as UTF-8 0xC2 0x80..0x9F; some terminals act on them too.
    const bool c1 = c == 0xC2 && i + 1 < text.size() &&
                    static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                    static_cast<unsigned char>(text[i + 1]) <= 0x9F;
    if (c < 0x20 || c == 0x7F || c1) {
      const auto shown = c1 ? static_cast<unsigned char>(text[++i]) : c;
      out += "\\x";
      out.push_back(kHex[shown >> 4]);
      out.push_back(kHex[shown & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::string Text(const boost::json::value& value) {
  if (const auto* s = value.if_string()) return DisplaySafe(*s);
  if (value.is_number() || value.is_bool()) return boost::json::serialize(value);
  return "";
}

std::string TextField(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr ? Text(*value) : "";
}

std::optional<std::int64_t> IntField(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (value == nullptr) return std::nullopt;
  if (const auto* i = value->if_int64()) return *i;
  if (const auto* u = value->if_uint64()) return static_cast<std::int64_t>(*u);
  return std::nullopt;
}

const boost::json::array& ArrayField(const boost::json::object& object, std::string_view key) {
  static const boost::json::array kEmpty;
  const auto* value = object.if_contains(key);
  const auto* array = value != nullptr ? value->if_array() : nullptr;
  return array != nullptr ? *array : kEmpty;
}

const boost::json::object& ObjectField(const boost::json::object& object, std::string_view key) {
  static const boost::json::object kEmpty;
  const auto* value = object.if_contains(key);
  const auto* inner = value != nullptr ? value->if_object() : nullptr;
  return inner != nullptr ? *inner : kEmpty;
}

std::string Join(const boost::json::array& array, std::string_view separator) {
  std::string out;
  for (const auto& element : array) {
    if (!out.empty()) out += separator;
    out += Text(element);
  }
  return out;
}

std::string ShortTime(std::string_view timestamp) {
  // The API always writes RFC 3339 in UTC with milliseconds.
  if (timestamp.size() < 20 || timestamp[10] != 'T' || timestamp.back() != 'Z') {
    return std::string(timestamp);
  }
  std::string out(timestamp.substr(0, 19));
  out[10] = ' ';
  return out + "Z";
}

void PrintWarnings(std::ostream& out, const boost::json::object& answer) {
  for (const auto& warning : ArrayField(answer, "warnings")) {
    out << "countersign: warning: " << Text(warning) << "\n";
  }
}

}  // namespace countersign
