#include "engine/grant_horizon.hpp"

namespace countersign {

void GrantHorizon::Set(std::optional<TimePoint> latest_expiry) {
  horizon_ms_.store(latest_expiry ? ToUnixMillis(*latest_expiry) : 0, std::memory_order_release);
}

void GrantHorizon::Raise(TimePoint expires_at) {
  const int64_t ms = ToUnixMillis(expires_at);
  int64_t seen = horizon_ms_.load(std::memory_order_acquire);
  while (seen < ms && !horizon_ms_.compare_exchange_weak(seen, ms)) {
  }
}

bool GrantHorizon::Covers(TimePoint now) const {
  return ToUnixMillis(now) < horizon_ms_.load(std::memory_order_acquire);
}

}  // namespace countersign
