// SHA-256, HMAC-SHA256 and constant-time comparison (OpenSSL). Thread-safe; pure functions.
#pragma once

#include <string>
#include <string_view>

namespace countersign {

// Lower-case hex digest of `data`.
std::string Sha256Hex(std::string_view data);

// Lower-case hex of arbitrary bytes.
std::string HexEncode(std::string_view bytes);

// The raw 32-byte HMAC-SHA256 of `data` under `key`.
std::string HmacSha256(std::string_view key, std::string_view data);
// Lower-case hex of HmacSha256(key, data).
std::string HmacSha256Hex(std::string_view key, std::string_view data);

// Compares without an early exit, so timing does not reveal where the inputs differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace countersign
