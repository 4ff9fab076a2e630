// RateLimiter: at most `limit` events per `window` for each key, counted with a sliding
// window approximated from two fixed windows (the previous window's count weighted by how
// much of it still overlaps). Memory is bounded: at most `max_keys` keys; when full, keys
// idle for two windows are dropped first, and if none are, the key counts as limited
// rather than the map growing. Thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <unordered_map>

#include "core/clock.hpp"
#include "core/mutex.hpp"

namespace countersign {

class RateLimiter {
 public:
  // limit 0 means unlimited.
  RateLimiter(int limit, std::chrono::seconds window, size_t max_keys = 100000)
      : limit_(limit), window_(window), max_keys_(max_keys) {}

  // Counts one event for `key` at `now` unless that would pass the limit. Returns 0 when
  // allowed, else the seconds to wait before the next attempt can succeed (at least 1).
  int64_t Acquire(const std::string& key, TimePoint now);
  // Takes back one event Acquire() counted for `key` at `now` (the attempt was refused for
  // another reason): refused attempts never use up the quota.
  void Release(const std::string& key, TimePoint now);

 private:
  struct Counter {
    int64_t window_start_ms = 0;
    int current = 0;
    int previous = 0;
  };
  void Roll(Counter& c, int64_t window_start_ms) const;
  void EvictIdle(int64_t window_start_ms) CS_REQUIRES(mu_);

  const int limit_;
  const std::chrono::seconds window_;
  const size_t max_keys_;
  Mutex mu_;
  std::unordered_map<std::string, Counter> counters_ CS_GUARDED_BY(mu_);
};

}  // namespace countersign
