// Ed25519TestKey: a fresh Ed25519 key pair for tests that play a platform which signs its
// callbacks (Discord's interactions). Generated with OpenSSL in the constructor; Sign() is
// what the platform computes. Not thread-safe (tests use one per fixture).
#pragma once

#include <string>
#include <string_view>

struct evp_pkey_st;

namespace countersign::testing {

class Ed25519TestKey {
 public:
  Ed25519TestKey();
  ~Ed25519TestKey();
  Ed25519TestKey(const Ed25519TestKey&) = delete;
  Ed25519TestKey& operator=(const Ed25519TestKey&) = delete;

  // The raw 32-byte public key as lower-case hex (what Discord shows as "Public Key").
  const std::string& public_key_hex() const { return public_key_hex_; }
  // The 64-byte signature of `message`, as lower-case hex.
  std::string SignHex(std::string_view message) const;

 private:
  evp_pkey_st* key_ = nullptr;
  std::string public_key_hex_;
};

}  // namespace countersign::testing
