#include "testing/ed25519_test_key.hpp"

#include <stdexcept>

#include <openssl/evp.h>

#include "core/sha256.hpp"

namespace countersign::testing {

Ed25519TestKey::Ed25519TestKey() {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
  if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &key_) != 1) {
    EVP_PKEY_CTX_free(ctx);
    throw std::runtime_error("cannot generate an Ed25519 key");
  }
  EVP_PKEY_CTX_free(ctx);
  unsigned char raw[32];
  size_t length = sizeof raw;
  if (EVP_PKEY_get_raw_public_key(key_, raw, &length) != 1 || length != sizeof raw) {
    throw std::runtime_error("cannot read the Ed25519 public key");
  }
  public_key_hex_ = HexEncode(std::string_view(reinterpret_cast<const char*>(raw), length));
}

Ed25519TestKey::~Ed25519TestKey() { EVP_PKEY_free(key_); }

std::string Ed25519TestKey::SignHex(std::string_view message) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char signature[64];
  size_t length = sizeof signature;
  const bool ok =
      ctx && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key_) == 1 &&
      EVP_DigestSign(ctx, signature, &length,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) throw std::runtime_error("cannot sign with the Ed25519 key");
  return HexEncode(std::string_view(reinterpret_cast<const char*>(signature), length));
}

}  // namespace countersign::testing
