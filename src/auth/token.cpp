#include "auth/token.hpp"

#include <openssl/rand.h>

#include "core/sha256.hpp"

namespace countersign {

std::string GenerateToken() {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  unsigned char bytes[32];
  RAND_bytes(bytes, sizeof bytes);
  std::string out = "cs_";
  // Base64url without padding: 32 bytes -> 43 characters.
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 63]);
  return out;
}

std::string HashToken(std::string_view token) { return Sha256Hex(token); }

}  // namespace countersign
