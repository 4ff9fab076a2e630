// JoseTestKey: a signing key made for a test (RSA 2048 or P-256), its public half as a JWK,
// and compact JWS tokens signed with it as an OpenID provider signs ID tokens (RS256; ES256
// with the raw r||s signature JOSE uses). For the ID-token verifier's and the OIDC client's
// tests. Immutable after construction; thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <openssl/evp.h>
#include <boost/json/object.hpp>

namespace countersign::testing {

class JoseTestKey {
 public:
  static JoseTestKey Rsa(std::string kid);
  static JoseTestKey Ec(std::string kid);

  const std::string& kid() const { return kid_; }
  bool ec() const { return ec_; }
  // The public key as a JWK: {"kty":"RSA","n","e",...} or {"kty":"EC","crv":"P-256","x","y"}.
  boost::json::object Jwk() const;
  // The JWS signature of `text` (ES256: raw r||s).
  std::string Sign(std::string_view text) const;
  // header.payload.signature for `claims`, the header naming `alg` (default: the key's own)
  // and this key's kid.
  std::string Token(const boost::json::object& claims, std::string alg = "") const;

 private:
  JoseTestKey(std::shared_ptr<EVP_PKEY> key, bool ec, std::string kid)
      : key_(std::move(key)), ec_(ec), kid_(std::move(kid)) {}

  std::shared_ptr<EVP_PKEY> key_;
  bool ec_ = false;
  std::string kid_;
};

}  // namespace countersign::testing
