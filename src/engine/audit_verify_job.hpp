// AuditVerifyJob: the audit-chain verification that the inbox's Audit page starts and shows.
// One runs at a time per server: Start() while one runs leaves it running (the page then
// follows that one). State() is what the page shows: how far the running one is, or how the
// last one ended. Verifying is the operator's (an admin of the default tenant); the gateway
// refuses anyone else, and the state then says so.
// Thread-safe. The verification holds its own state, so it may outlive the job.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "auth/actor.hpp"
#include "core/clock.hpp"
#include "core/mutex.hpp"
#include "engine/gateway.hpp"

namespace countersign {

struct AuditVerifyState {
  bool started = false;  // a verification has run (or runs) since the server started
  bool running = false;
  bool full = false;  // from the first event; else from the last verified one
  std::string by;
  TimePoint started_at;
  int64_t checked = 0;  // events checked so far
  int64_t total = 0;    // events to check, as the chain stood when it began
  // Once finished:
  TimePoint finished_at;
  std::string error;  // it could not run: why (the chain is then neither good nor bad)
  bool ok = false;
  int64_t events_checked = 0;
  int64_t from_seq = 0;         // it started after this event (0: from the first)
  int64_t verified_to_seq = 0;  // the last event found good
  int64_t first_bad_seq = 0;    // when !ok
  std::string reason;           // when !ok
};

class AuditVerifyJob {
 public:
  // `gateway` and `clock` must outlive the verifications started.
  AuditVerifyJob(Gateway& gateway, const Clock& clock);

  // Starts a verification as `actor`, unless one is running. False when one was running.
  bool Start(const Actor& actor, bool full);
  AuditVerifyState State() const;

 private:
  struct Shared {
    mutable Mutex mu;
    AuditVerifyState state CS_GUARDED_BY(mu);
  };

  Gateway& gateway_;
  const Clock& clock_;
  const std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
};

}  // namespace countersign
