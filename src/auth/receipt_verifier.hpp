// ReceiptVerifier: checks a receipt the way an executor should before it acts, using nothing
// but the public keys of GET /v1/keys (a JWKS).
//
// Verify() checks, in order: the token is a compact JWS whose header says alg "EdDSA" and
// names a `kid`, with no `crit`; the JWKS has an Ed25519 key with that kid; the signature
// verifies; the payload has every claim with the right JSON type (the optional `jti`,
// `receipt_use`, `not_after` and `max_uses` only when present: older receipts lack them);
// `outcome` is "approved"; `exp` and, when present, `not_after` have not passed (valid while
// now < exp, RFC 7519 §4.1.4); and, when expected, `action` and `arguments_sha256` equal the
// expected values. The first failed check is the verdict.
// Immutable after construction; Verify() and VerifyJws() are thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/result.hpp"

namespace countersign {

enum class ReceiptFault {
  kMalformed,          // not a compact JWS with an EdDSA header and the receipt's claims
  kUnknownKey,         // no key in the JWKS has the header's kid
  kBadSignature,       // the signature does not verify with that key
  kNotApproved,        // outcome is not "approved"
  kExpired,            // now >= exp, or now >= not_after
  kActionMismatch,     // action differs from the expected one
  kArgumentsMismatch,  // arguments_sha256 differs from the expected one
};

// Stable snake_case names: "malformed", "unknown_key", "bad_signature", "not_approved",
// "expired", "action_mismatch", "arguments_mismatch".
const char* ReceiptFaultName(ReceiptFault fault);

struct ReceiptExpectations {
  int64_t now_unix_seconds = 0;
  std::optional<std::string> action;
  std::optional<std::string> arguments_sha256;  // lower-case hex
};

struct ReceiptVerdict {
  std::optional<ReceiptFault> fault;  // nullopt: the receipt is valid
  std::string reason;                 // for a person; empty when valid
  std::string kid;                    // the header's kid, when it has one
  // The payload, once the signature has verified (so also on kExpired and the mismatches).
  std::optional<boost::json::object> claims;

  bool valid() const { return !fault.has_value(); }
};

class ReceiptVerifier {
 public:
  // Keeps every key of `jwks` ({"keys": [...]}) with kty "OKP", crv "Ed25519", a kid, a
  // 32-byte x, and no alg other than "EdDSA" nor use other than "sig"; others are skipped.
  // Error::Invalid when `jwks` is not a JWKS or has no such key.
  static Result<ReceiptVerifier> FromJwks(const boost::json::value& jwks);

  ReceiptVerdict Verify(std::string_view token, const ReceiptExpectations& expect) const;
  // Only the JWS checks of Verify() (its first three steps) and that the payload is a JSON
  // object, which then is in `claims`: for other statements the same key signs (the audit
  // log's checkpoints). The fault is kMalformed, kUnknownKey or kBadSignature.
  ReceiptVerdict VerifyJws(std::string_view token) const;

  size_t key_count() const { return keys_.size(); }

 private:
  struct Key {
    std::string kid;
    std::string public_key;  // the raw 32 bytes
  };

  std::vector<Key> keys_;
};

}  // namespace countersign
