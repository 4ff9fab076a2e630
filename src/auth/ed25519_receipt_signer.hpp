// Ed25519ReceiptSigner: the server's ReceiptSigner, an Ed25519 key (RFC 8037 "EdDSA") kept in
// the data directory.
//
// The key lives in `receipt_key.pem` (PKCS#8 PEM, unencrypted, mode 0600). LoadOrCreate()
// reads it, or on first start generates one and publishes it atomically: written to a
// temporary name created O_EXCL with mode 0600, fsynced, then linked into place, so a crash
// never leaves a partial key under the real name. The key id (`kid`) is the RFC 7638 JWK
// thumbprint of the public key: base64url(SHA-256('{"crv":"Ed25519","kty":"OKP","x":"…"}')).
//
// The receipt's JOSE header is {"alg":"EdDSA","typ":"JWT","kid":…}; its payload is
// {"request_id","tenant","action","arguments_sha256","outcome","approvers","decided_at","exp",
// "iat"} plus, when the claims have them, "jti", "receipt_use", "not_after" and "max_uses",
// with the times as integer Unix seconds (JWT NumericDate, rounded down). `iat` is
// `decided_at`: a receipt is issued for the decision; the jti makes each receipt unique.
//
// OpenSSL reads, writes and generates the key file; signing is libsodium's, from the same
// 32-byte seed. Without a nonce pool a signature is RFC 8032's crypto_sign_detached:
// deterministic, so both libraries give the same bytes (auth.Ed25519ReceiptSignerTest checks
// it), and libsodium's takes half the time (16 against 31 us here). The server gives the signer
// an Ed25519NoncePool (UseNoncePool): then a signature takes a nonce made ahead of time by an
// idle-priority thread and costs about 1.5 us on the signing thread, which for a receipt is the
// single writer, inside the approval's transaction. Such signatures verify like any other, but
// the same claims signed twice give two different tokens. When the pool is empty the signer
// signs the RFC 8032 way.
// The signer keeps only libsodium's form of the key (wiped when it is destroyed), not OpenSSL's.
//
// Thread-safe: after construction (and UseNoncePool, if called) Sign() and Jwks() only read the
// key; the pool is thread-safe.
#pragma once

#include <array>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include <openssl/types.h>

#include "auth/ed25519_nonce_pool.hpp"
#include "auth/receipt_signer.hpp"
#include "core/result.hpp"

namespace countersign {

class Ed25519ReceiptSigner final : public ReceiptSigner {
 public:
  static constexpr const char* kKeyFileName = "receipt_key.pem";

  // Loads `data_dir`/receipt_key.pem, creating it when it does not exist. Errors name the
  // file: Error::Unavailable when it cannot be read or written, Error::Invalid when it is
  // not an unencrypted Ed25519 private key in PEM.
  static Result<std::unique_ptr<Ed25519ReceiptSigner>> LoadOrCreate(
      const std::filesystem::path& data_dir);

  // Parses a PEM private key (PKCS#8 or OpenSSL's own PEM for Ed25519). Errors as above.
  static Result<std::unique_ptr<Ed25519ReceiptSigner>> FromPem(const std::string& pem);

  ~Ed25519ReceiptSigner() override;
  Ed25519ReceiptSigner(const Ed25519ReceiptSigner&) = delete;
  Ed25519ReceiptSigner& operator=(const Ed25519ReceiptSigner&) = delete;

  // Empty only when OpenSSL itself fails (out of memory); treat that as an internal error.
  std::string Sign(const ReceiptClaims& claims) const override;
  std::string SignJws(const boost::json::object& payload) const override;
  boost::json::object Jwks() const override;

  // From now on, signs with `pool`'s nonces while it has any. Call before other threads sign.
  void UseNoncePool(std::unique_ptr<Ed25519NoncePool> pool) { pool_ = std::move(pool); }
  // The pool given to UseNoncePool, or null.
  Ed25519NoncePool* nonce_pool() const { return pool_.get(); }

  const std::string& kid() const { return kid_; }
  // The public key's 32 bytes, base64url: the JWK's `x`.
  const std::string& x() const { return x_; }

 private:
  struct KeyFree {
    void operator()(EVP_PKEY* key) const;
  };

  Ed25519ReceiptSigner(const std::array<unsigned char, 64>& secret, std::string x, std::string kid);

  // The compact JWS of `payload` (JSON text) under the fixed header.
  std::string SignPayload(std::string_view payload) const;
  // Signs `message` into `signature` (64 bytes) with a pool nonce if there is one, else the
  // RFC 8032 way. False only when libsodium fails.
  bool SignMessage(std::string_view message, unsigned char* signature) const;

  std::array<unsigned char, 64> secret_;  // libsodium's form: the seed, then the public key
  std::array<unsigned char, 32> scalar_;  // the secret scalar a (RFC 8032 §5.1.5), reduced mod L
  std::string x_;
  std::string kid_;
  std::string header_b64_;  // base64url of the fixed JOSE header
  std::unique_ptr<Ed25519NoncePool> pool_;
};

}  // namespace countersign
