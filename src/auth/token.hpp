// Bearer tokens: how they are made and how they are stored (only their SHA-256).
#pragma once

#include <string>
#include <string_view>

namespace countersign {

// "cs_" followed by 43 URL-safe characters (256 random bits).
std::string GenerateToken();

// The value the store keeps: lower-case hex SHA-256 of the whole token.
std::string HashToken(std::string_view token);

}  // namespace countersign
