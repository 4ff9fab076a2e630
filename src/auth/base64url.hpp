// Base64url without padding (RFC 4648 §5, as JOSE uses it: RFC 7515 §2). Pure functions;
// thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace countersign {

std::string Base64UrlEncode(std::string_view bytes);

// Strict: only the URL-safe alphabet, no padding, no whitespace, and the unused low bits of
// the last character must be zero, so every byte string has exactly one encoding. nullopt
// when `text` is not such an encoding.
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace countersign
