// SHA-256 and constant-time comparison (OpenSSL). Thread-safe; pure functions.
#pragma once

#include <string>
#include <string_view>

namespace countersign {

// Lower-case hex digest of `data`.
std::string Sha256Hex(std::string_view data);

// Compares without an early exit, so timing does not reveal where the inputs differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace countersign
