// Ed25519FuzzKey: one fixed Ed25519 key pair, for fuzz targets that must sign what they hand
// a verifier (receipts, Discord interactions) so the parser behind the signature check is
// reached. Fixed, not random, so a crash input reproduces. Not for anything but fuzzing.
// Thread-safe once constructed (each Sign() uses its own OpenSSL context).
#pragma once

#include <string>
#include <string_view>

struct evp_pkey_st;

namespace countersign::fuzz {

class Ed25519FuzzKey {
 public:
  Ed25519FuzzKey();
  ~Ed25519FuzzKey();
  Ed25519FuzzKey(const Ed25519FuzzKey&) = delete;
  Ed25519FuzzKey& operator=(const Ed25519FuzzKey&) = delete;

  // The raw 32-byte public key.
  const std::string& public_key() const { return public_key_; }
  // The raw 64-byte signature of `message`; empty only if OpenSSL fails.
  std::string Sign(std::string_view message) const;

 private:
  evp_pkey_st* key_ = nullptr;
  std::string public_key_;
};

// Lower-case hex of `bytes`.
std::string Hex(std::string_view bytes);

}  // namespace countersign::fuzz
