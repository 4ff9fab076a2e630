// IdTokenVerifier: checks an OpenID Connect ID token (a compact JWS, RFC 7515; OpenID Connect
// Core §3.1.3.7) for the web inbox's sign-in, and answers its claims.
//
// The rules: three base64url parts; a header whose "alg" is RS256 or ES256 (never "none",
// HS256 or anything else) and which names no "crit" extension; the key the header's "kid"
// names in the provider's key set, of the algorithm's type; a signature that verifies with
// it (ES256: the raw 64-byte r||s form JOSE uses); a payload whose "iss" is the configured
// issuer exactly, whose "aud" (a string or an array) holds the client id, whose "azp", when
// present or when there are several audiences, is the client id; "exp" after now and "iat"
// not after now, each with `skew` of allowance on the injected clock; and "nonce" equal to
// the one the sign-in began with. Any failure is Error::Unauthorized saying which rule failed
// (for the log; not for the person).
//
// Immutable; thread-safe. The clock must outlive the verifier.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "auth/jwks.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"

namespace countersign {

struct IdTokenRules {
  std::string issuer;
  std::string client_id;
  Millis skew = std::chrono::seconds(60);
};

class IdTokenVerifier {
 public:
  static constexpr size_t kMaxTokenBytes = 16 * 1024;

  IdTokenVerifier(const Clock& clock, IdTokenRules rules);

  // The "kid" of `token`'s header (empty when it names none), so the caller can fetch the key
  // set again for a key it does not know; Error::Unauthorized when the header is unreadable
  // or its "alg" is not RS256 / ES256.
  static Result<std::string> KeyIdOf(std::string_view token);

  // The token's claims when every rule above holds.
  Result<boost::json::object> Verify(std::string_view token, const Jwks& keys,
                                     std::string_view nonce) const;

 private:
  Status CheckClaims(const boost::json::object& claims, std::string_view nonce) const;

  const Clock& clock_;
  const IdTokenRules rules_;
};

}  // namespace countersign
