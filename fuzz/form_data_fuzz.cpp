// Fuzzes ParseFormData (http/form_data.hpp), the one-click link pages' and Slack's
// url-encoded bodies. Invariant: a parsed form, re-encoded (every byte but the unreserved
// ones as %XX), parses to the same fields.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/form_data.hpp"

namespace {

void AppendEncoded(std::string_view text, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '-' ||
        b == '.' || b == '_' || b == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xf]);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace countersign;
  auto form = ParseFormData(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!form.ok()) return 0;
  std::string encoded;
  for (const auto& [key, value] : form.value()) {
    if (!encoded.empty()) encoded.push_back('&');
    AppendEncoded(key, encoded);
    encoded.push_back('=');
    AppendEncoded(value, encoded);
  }
  auto again = ParseFormData(encoded);
  if (!again.ok() || again.value() != form.value()) __builtin_trap();
  return 0;
}
