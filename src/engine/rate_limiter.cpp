#include "engine/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

#include "core/mutex_lock.hpp"

namespace countersign {

void RateLimiter::Roll(Counter& c, int64_t window_start_ms) const {
  const int64_t window_ms = std::chrono::duration_cast<Millis>(window_).count();
  if (c.window_start_ms == window_start_ms) return;
  c.previous = c.window_start_ms == window_start_ms - window_ms ? c.current : 0;
  c.current = 0;
  c.window_start_ms = window_start_ms;
}

void RateLimiter::EvictIdle(int64_t window_start_ms) {
  const int64_t window_ms = std::chrono::duration_cast<Millis>(window_).count();
  for (auto it = counters_.begin(); it != counters_.end();) {
    if (it->second.window_start_ms < window_start_ms - window_ms) {
      it = counters_.erase(it);
    } else {
      ++it;
    }
  }
}

int64_t RateLimiter::Acquire(const std::string& key, TimePoint now) {
  if (limit_ <= 0) return 0;
  const int64_t window_ms = std::chrono::duration_cast<Millis>(window_).count();
  const int64_t now_ms = ToUnixMillis(now);
  const int64_t window_start_ms = now_ms - now_ms % window_ms;
  MutexLock lock(mu_);
  auto it = counters_.find(key);
  if (it == counters_.end()) {
    if (counters_.size() >= max_keys_) EvictIdle(window_start_ms);
    if (counters_.size() >= max_keys_) return std::max<int64_t>(1, window_.count());
    it = counters_.emplace(key, Counter{window_start_ms, 0, 0}).first;
  }
  Counter& c = it->second;
  Roll(c, window_start_ms);
  const double overlap = 1.0 - static_cast<double>(now_ms - window_start_ms) / window_ms;
  const double estimate = c.previous * overlap + c.current;
  if (estimate + 1 > limit_) {
    // Wait until the previous window's weight has fallen enough, or the window turns.
    double wait_ms = static_cast<double>(window_start_ms + window_ms - now_ms);
    if (c.previous > 0 && c.current < limit_) {
      const double needed_overlap = (limit_ - 1 - c.current) / static_cast<double>(c.previous);
      wait_ms = std::min(wait_ms, (overlap - needed_overlap) * window_ms);
    }
    return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait_ms / 1000.0)));
  }
  ++c.current;
  return 0;
}

void RateLimiter::Release(const std::string& key, TimePoint now) {
  if (limit_ <= 0) return;
  const int64_t window_ms = std::chrono::duration_cast<Millis>(window_).count();
  const int64_t now_ms = ToUnixMillis(now);
  MutexLock lock(mu_);
  auto it = counters_.find(key);
  if (it == counters_.end()) return;
  Counter& c = it->second;
  if (c.window_start_ms == now_ms - now_ms % window_ms && c.current > 0) --c.current;
}

}  // namespace countersign
