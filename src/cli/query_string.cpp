#include "cli/query_string.hpp"

namespace countersign {

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0F]);
    }
  }
  return out;
}

QueryString& QueryString::Add(std::string_view key, std::string_view value) {
  if (value.empty()) return *this;
  text_.push_back(text_.empty() ? '?' : '&');
  text_ += PercentEncode(key);
  text_.push_back('=');
  text_ += PercentEncode(value);
  return *this;
}

QueryString& QueryString::Add(std::string_view key, long long value) {
  return Add(key, std::to_string(value));
}

}  // namespace countersign
