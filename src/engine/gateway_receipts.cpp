// Gateway::ConsumeReceipt: counting the uses of single-use and limited receipts.
#include <chrono>
#include <cstdint>

#include "engine/gateway.hpp"

namespace countersign {
namespace {

// A reusable receipt without max_uses may be consumed (and each use recorded) practically
// without end: a bound the column holds, not one anybody reaches within a receipt's life.
constexpr int64_t kUnlimitedUses = int64_t{1} << 31;

int64_t UnixSeconds(TimePoint t) {
  return std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count();
}

std::string StringClaim(const boost::json::object& claims, std::string_view name) {
  const auto* v = claims.if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

void Gateway::ConsumeReceipt(const Actor& actor, std::string receipt,
                             Callback<ReceiptConsumption> done) {
  // The executor consumes: the agent that holds the receipt, or an admin running for it.
  if (actor.role == Role::kApprover) {
    done(Error::Forbidden("only an agent or an admin token may consume receipts"));
    return;
  }
  if (!seal_verifier_) {
    done(Error::Invalid("this server signs no receipts"));
    return;
  }
  const TimePoint now = clock_.Now();
  ReceiptExpectations expect;
  expect.now_unix_seconds = UnixSeconds(now);
  const ReceiptVerdict verdict = seal_verifier_->Verify(receipt, expect);
  if (!verdict.valid() && *verdict.fault != ReceiptFault::kExpired) {
    // Unsigned, forged, another server's, or not an approval: nothing to count.
    done(Error::Invalid("not a valid receipt of this server (" +
                        std::string(ReceiptFaultName(*verdict.fault)) + "): " + verdict.reason));
    return;
  }
  const boost::json::object& claims = *verdict.claims;
  // Before expiry, so that a foreign receipt says nothing more than that it is foreign.
  const std::string tenant = StringClaim(claims, "tenant");
  if (tenant != actor.tenant) {
    done(Error::Invalid("the receipt is not of your tenant"));
    return;
  }
  if (!verdict.valid()) {
    done(Error::Invalid("the receipt has expired: " + verdict.reason));
    return;
  }
  const std::string jti = StringClaim(claims, "jti");
  if (jti.empty()) {
    done(Error::Invalid("receipt has no jti: it was signed before receipts could be consumed"));
    return;
  }
  ReceiptUse attempt;
  attempt.jti = jti;
  attempt.tenant = tenant;
  attempt.request_id = StringClaim(claims, "request_id");
  if (const auto* max_uses = claims.if_contains("max_uses")) {
    attempt.max_uses = max_uses->get_int64();  // Verify checked its type
  } else {
    attempt.max_uses = StringClaim(claims, "receipt_use") == "single_use" ? 1 : kUnlimitedUses;
  }
  attempt.first_at = now;
  attempt.first_by = actor.name;
  attempt.last_at = now;
  attempt.last_by = actor.name;
  auto fn = [this, attempt = std::move(attempt)](Transaction& txn) -> Result<ReceiptConsumption> {
    auto found = txn.FindRequest(attempt.tenant, attempt.request_id);
    if (!found.ok()) return std::move(found).error();
    if (!found.value()) {
      return Error::Invalid("the receipt's request " + attempt.request_id + " no longer exists");
    }
    ReceiptConsumption out{false, attempt};
    auto counted = txn.ConsumeReceipt(out.use);
    if (!counted.ok()) return std::move(counted).error();
    out.counted = counted.value();
    if (!out.counted) return out;
    auto event = txn.AppendEvent({attempt.last_at,
                                  attempt.tenant,
                                  attempt.request_id,
                                  "receipt.consumed",
                                  attempt.last_by,
                                  {{"jti", out.use.jti},
                                   {"uses", out.use.uses},
                                   {"max_uses", out.use.max_uses},
                                   {"by", attempt.last_by}}});
    if (!event.ok()) return std::move(event).error();
    CS_RETURN_IF_ERROR(Announce(txn, std::make_shared<const Request>(std::move(*found.value()))));
    return out;
  };
  Commit<ReceiptConsumption>(std::move(fn), std::move(done));
}

}  // namespace countersign
