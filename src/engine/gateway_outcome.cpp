// The gateway's part in closing the loop: the executor's report after an approved action ran
// (POST /v1/requests/{id}/outcome), and the count of approvals whose report is overdue.
#include <utility>

#include "core/mutex_lock.hpp"
#include "engine/gateway.hpp"
#include "engine/lifecycle.hpp"

namespace countersign {

void Gateway::ReportExecution(const Actor& actor, std::string id, NewOutcome input,
                              Callback<RequestPtr> done) {
  if (auto checked = CheckNewOutcome(input); !checked.ok()) {
    done(std::move(checked).error());
    return;
  }
  const TimePoint now = clock_.Now();
  auto fn = [this, actor, id = std::move(id), input = std::move(input),
             now](Transaction& txn) -> Result<RequestPtr> {
    auto found = txn.FindRequest(actor.tenant, id);
    if (!found.ok()) return std::move(found).error();
    // Whom Get would not show the request to hears that there is none.
    const Request* r = found.value() ? &*found.value() : nullptr;
    if (!r || !(actor.CanReadTenant() || r->requester == actor.name)) {
      return Error::NotFound("no request " + Echo(id));
    }
    auto plan = PlanExecutionReport(*r, actor, input, now);
    if (!plan.ok()) return std::move(plan).error();
    return ApplyPlan(txn, *r, plan.value());
  };
  CommitTransition(std::move(fn), std::move(done));
}

Result<std::map<std::string, int64_t>> Gateway::CountUnreported() {
  const TimePoint now = clock_.Now();
  {
    MutexLock lock(unreported_mu_);
    if (unreported_at_ && now - *unreported_at_ < kUnreportedCacheTtl) return unreported_;
  }
  auto counted = store_.CountUnreported(now);
  if (!counted.ok()) return std::move(counted).error();
  MutexLock lock(unreported_mu_);
  unreported_at_ = now;
  unreported_ = counted.value();
  return counted;
}

}  // namespace countersign
