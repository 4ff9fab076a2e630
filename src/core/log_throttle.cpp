#include "core/log_throttle.hpp"

#include "core/mutex_lock.hpp"

namespace countersign {

std::optional<uint64_t> LogThrottle::Allow(SteadyTime now) {
  MutexLock lock(mu_);
  if (now < next_) {
    ++left_out_;
    return std::nullopt;
  }
  next_ = now + interval_;
  const uint64_t left_out = left_out_;
  left_out_ = 0;
  return left_out;
}

}  // namespace countersign
