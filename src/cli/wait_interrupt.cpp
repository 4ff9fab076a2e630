#include "cli/wait_interrupt.hpp"

#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <utility>

#include <boost/json/object.hpp>

#include "cli/exit_codes.hpp"
#include "cli/query_string.hpp"
#include "core/mutex_lock.hpp"

namespace countersign {

WaitInterrupt::WaitInterrupt(ApiClient api, bool keep_on_interrupt, WaitProgress& progress)
    : api_(std::move(api)), keep_(keep_on_interrupt), progress_(progress) {}

void WaitInterrupt::OnSignal(int signal) {
  std::string id;
  {
    MutexLock lock(mu_);
    switch (phase_) {
      case Phase::kFinished:
        return;
      case Phase::kInterrupted:
        std::_Exit(kExitInterrupted);
      case Phase::kCreating:
      case Phase::kWaiting:
        break;
    }
    phase_ = Phase::kInterrupted;
    signal_ = signal;
    // While creating, the id is not known yet: the main thread settles once it is.
    if (request_id_.empty()) return;
    id = request_id_;
  }
  Settle(id);
  std::_Exit(kExitInterrupted);
}

bool WaitInterrupt::Created(const std::string& id) {
  MutexLock lock(mu_);
  request_id_ = id;
  if (phase_ == Phase::kInterrupted) return false;
  phase_ = Phase::kWaiting;
  return true;
}

void WaitInterrupt::Finished() {
  MutexLock lock(mu_);
  if (phase_ != Phase::kInterrupted) phase_ = Phase::kFinished;
}

void WaitInterrupt::Settle(const std::string& id) {
  int signal = SIGINT;
  {
    MutexLock lock(mu_);
    if (signal_ != 0) signal = signal_;
  }
  std::string failure;
  if (!keep_) {
    boost::json::object body;
    body["reason"] = std::string("countersign request --wait was interrupted (") +
                     (signal == SIGINT ? "SIGINT" : "SIGTERM") + ")";
    auto cancelled = api_.Post("/v1/requests/" + PercentEncode(id) + "/cancel", body);
    if (!cancelled.ok()) failure = cancelled.error().message;
  }
  progress_.Interrupted(id, keep_, failure);
  std::cout.flush();
  std::cerr.flush();
}

}  // namespace countersign
