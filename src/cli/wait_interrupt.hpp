// WaitInterrupt: what SIGINT or SIGTERM (Ctrl-C) do to `request --wait`: cancel the request
// it created, or with --keep-on-interrupt leave it pending, say so, and exit 130 at once, even
// while the main thread is blocked in a long-poll.
//
// The SignalRelay's thread calls OnSignal(); the main thread calls Created() once the request
// exists and Finished() once the wait is over. An interrupt before the request exists is
// acted on by the main thread (Created() returns false; it then calls Settle() and exits
// 130). A second interrupt exits 130 without waiting for the cancel. Thread-safe.
#pragma once

#include <string>

#include "cli/api_client.hpp"
#include "cli/wait_progress.hpp"
#include "core/mutex.hpp"

namespace countersign {

class WaitInterrupt {
 public:
  // `progress` says what became of the request; it must outlive this object.
  WaitInterrupt(ApiClient api, bool keep_on_interrupt, WaitProgress& progress);

  // Relay thread: SIGINT or SIGTERM arrived.
  void OnSignal(int signal);

  // Main thread: the request `id` exists. False when an interrupt came first.
  bool Created(const std::string& id);

  // Main thread: the wait is over; later interrupts are left alone.
  void Finished();

  // Cancels request `id` (unless kept) and reports it. Either thread.
  void Settle(const std::string& id);

 private:
  enum class Phase { kCreating, kWaiting, kFinished, kInterrupted };

  const ApiClient api_;
  const bool keep_;
  // Only its Interrupted() is called here: one line, written whole (the main thread may be
  // reporting progress meanwhile).
  WaitProgress& progress_;
  Mutex mu_;
  Phase phase_ CS_GUARDED_BY(mu_) = Phase::kCreating;
  std::string request_id_ CS_GUARDED_BY(mu_);
  int signal_ CS_GUARDED_BY(mu_) = 0;
};

}  // namespace countersign
