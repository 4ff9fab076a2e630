// ASCII case folding for protocol text (header names, host names, addresses, keywords). It
// never depends on the locale and leaves every byte outside A-Z as it is.
#pragma once

#include <string>
#include <string_view>

namespace countersign {

inline std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace countersign
