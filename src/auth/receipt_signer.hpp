// ReceiptSigner: signs the statement an executor checks before it acts.
//
// A receipt is a compact JWS (RFC 7515) with alg EdDSA over Ed25519 (RFC 8037), whose
// payload is the JSON of ReceiptClaims. Anyone holding the public key from GET /v1/keys can
// verify it; see docs/receipts.md. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "core/clock.hpp"

namespace countersign {

struct ReceiptClaims {
  std::string request_id;
  std::string tenant;
  std::string action;
  std::string arguments_sha256;  // of the arguments approved (the edited ones, if edited)
  std::string outcome;           // "approved"
  std::vector<std::string> approvers;
  TimePoint decided_at;
  TimePoint exp;
  // Of the structured answer the approval carried (canonical JSON), when it had one; a receipt
  // without one has no response_sha256 claim.
  std::string response_sha256;
  // The receipt's own unique id ("rct_" + 128 random bits, hex), which POST
  // /v1/receipts/consume counts uses of. Receipts signed before it existed have none.
  std::string jti = {};
  std::string receipt_use = {};  // "reusable" or "single_use": the policy's `receipt`
  // Constraints the approver set, enforced by consume: no use from not_after on (never later
  // than exp), and at most max_uses counted uses (0: no such claim).
  std::optional<TimePoint> not_after = {};
  int64_t max_uses = 0;
};

class ReceiptSigner {
 public:
  virtual ~ReceiptSigner() = default;

  // The compact serialisation: base64url(header).base64url(payload).base64url(signature).
  virtual std::string Sign(const ReceiptClaims& claims) const = 0;
  // The same compact JWS over any payload, with the same key and header: what signs the audit
  // log's checkpoints. Empty only when the crypto library fails.
  virtual std::string SignJws(const boost::json::object& payload) const = 0;
  // {"keys": [ {"kty":"OKP","crv":"Ed25519","x":…,"kid":…,"alg":"EdDSA","use":"sig"} ]}
  virtual boost::json::object Jwks() const = 0;
};

}  // namespace countersign
