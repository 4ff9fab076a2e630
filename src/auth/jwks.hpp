// Jwks: the public keys of an OpenID provider, parsed from its JSON Web Key Set (RFC 7517) for
// the ID-token verifier. Only signing keys the verifier can use are kept: RSA keys ("kty":
// "RSA", n and e, at least 2048 bits) and P-256 EC keys ("kty": "EC", "crv": "P-256", x and y
// on the curve). A key marked for another use ("use" other than "sig") or another algorithm
// ("alg" other than RS256 / ES256) is skipped, as is a key of any other type or one that is not
// a valid key (too short, off the curve); a key without a "kid" is kept under the empty kid.
// Parse() refuses a document that is not a JWKS or is over kMaxBytes.
//
// Immutable after Parse(); thread-safe; cheap to copy (the keys are shared).
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <openssl/evp.h>

#include "core/result.hpp"

namespace countersign {

enum class JwkType { kRsa, kEcP256 };

struct Jwk {
  std::string kid;
  JwkType type = JwkType::kRsa;
  std::shared_ptr<EVP_PKEY> key;  // never null
};

class Jwks {
 public:
  static constexpr size_t kMaxBytes = 64 * 1024;
  static constexpr size_t kMaxKeys = 64;

  Jwks() = default;

  // Error::Invalid saying what is wrong with `json` as a key set.
  static Result<Jwks> Parse(std::string_view json);

  // The key with `kid`, or nullptr.
  const Jwk* Find(std::string_view kid) const;
  size_t size() const { return keys_.size(); }

 private:
  std::map<std::string, Jwk, std::less<>> keys_;
};

}  // namespace countersign
