#include "auth/token.hpp"

#include <openssl/rand.h>

#include "auth/base64url.hpp"
#include "core/sha256.hpp"

namespace countersign {

std::string GenerateToken() {
  unsigned char bytes[32];
  RAND_bytes(bytes, sizeof bytes);
  return "cs_" +
         Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

std::string HashToken(std::string_view token) { return Sha256Hex(token); }

}  // namespace countersign
