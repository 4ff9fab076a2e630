#include "ed25519_fuzz_key.hpp"

#include <cstdlib>

#include <openssl/evp.h>

namespace countersign::fuzz {

Ed25519FuzzKey::Ed25519FuzzKey() {
  static constexpr unsigned char kSeed[32] = {0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba,
                                              0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4, 0x44, 0x49,
                                              0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac,
                                              0x03, 0x1c, 0xae, 0x7f, 0x60};  // RFC 8032 test 1
  key_ = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, kSeed, sizeof kSeed);
  unsigned char raw[32];
  size_t length = sizeof raw;
  if (!key_ || EVP_PKEY_get_raw_public_key(key_, raw, &length) != 1) std::abort();
  public_key_.assign(reinterpret_cast<const char*>(raw), length);
}

Ed25519FuzzKey::~Ed25519FuzzKey() { EVP_PKEY_free(key_); }

std::string Ed25519FuzzKey::Sign(std::string_view message) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char signature[64];
  size_t length = sizeof signature;
  const bool signed_ok =
      ctx && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key_) == 1 &&
      EVP_DigestSign(ctx, signature, &length,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!signed_ok) return {};
  return std::string(reinterpret_cast<const char*>(signature), length);
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    out.push_back(kDigits[static_cast<unsigned char>(c) >> 4]);
    out.push_back(kDigits[static_cast<unsigned char>(c) & 0xf]);
  }
  return out;
}

}  // namespace countersign::fuzz
