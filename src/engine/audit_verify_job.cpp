#include "engine/audit_verify_job.hpp"

#include "core/mutex_lock.hpp"

namespace countersign {

AuditVerifyJob::AuditVerifyJob(Gateway& gateway, const Clock& clock)
    : gateway_(gateway), clock_(clock) {}

bool AuditVerifyJob::Start(const Actor& actor, bool full) {
  {
    MutexLock lock(shared_->mu);
    if (shared_->state.running) return false;
    AuditVerifyState fresh;
    fresh.started = true;
    fresh.running = true;
    fresh.full = full;
    fresh.by = actor.name;
    fresh.started_at = clock_.Now();
    shared_->state = std::move(fresh);
  }
  auto progress = [shared = shared_](int64_t checked, int64_t total) {
    MutexLock lock(shared->mu);
    shared->state.checked = checked;
    shared->state.total = total;
  };
  auto done = [shared = shared_, &clock = clock_](Result<AuditVerification> result) {
    MutexLock lock(shared->mu);
    AuditVerifyState& s = shared->state;
    s.running = false;
    s.finished_at = clock.Now();
    if (!result.ok()) {
      s.error = result.error().message;
      return;
    }
    const AuditReport& report = result->report;
    s.full = result->full;
    s.ok = report.ok;
    s.events_checked = report.events_checked;
    s.from_seq = result->from_seq;
    s.verified_to_seq = report.checkpoint.seq;
    s.first_bad_seq = report.ok ? 0 : report.first_bad_seq;
    s.reason = report.ok ? "" : report.reason;
    s.checked = s.total = report.events_checked;
  };
  gateway_.VerifyAudit(actor, full, std::move(done), std::move(progress));
  return true;
}

AuditVerifyState AuditVerifyJob::State() const {
  MutexLock lock(shared_->mu);
  return shared_->state;
}

}  // namespace countersign
