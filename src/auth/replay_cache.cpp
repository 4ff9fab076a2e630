#include "auth/replay_cache.hpp"

#include "core/mutex_lock.hpp"

namespace countersign {

Status ReplayCache::Admit(std::string id, int64_t at_seconds, int64_t now_seconds) {
  MutexLock lock(mu_);
  ForgetExpired(now_seconds);
  if (seen_.count(id) != 0) return Error::Unauthorized("this request was already received");
  if (seen_.size() >= capacity_ && !by_time_.empty()) {
    seen_.erase(by_time_.begin()->second);
    by_time_.erase(by_time_.begin());
  }
  by_time_.emplace(at_seconds, id);
  seen_.insert(std::move(id));
  return Ok();
}

void ReplayCache::ForgetExpired(int64_t now_seconds) {
  // An id may go once its time is outside the window: a signed timestamp that old is refused
  // by the platform check alone, and an unsigned one has had its window.
  while (!by_time_.empty() && by_time_.begin()->first < now_seconds - window_.count()) {
    seen_.erase(by_time_.begin()->second);
    by_time_.erase(by_time_.begin());
  }
}

size_t ReplayCache::size() const {
  MutexLock lock(mu_);
  return seen_.size();
}

}  // namespace countersign
