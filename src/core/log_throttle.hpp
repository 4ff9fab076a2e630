// LogThrottle: at most one log line per interval for an event that can repeat without bound
// (an accept that fails while descriptors are exhausted, a hook refused for a bad signature),
// so that a flood can neither fill the disk nor spend the CPU on logging. The line that is
// let through says how many were left out since the previous one. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "core/mutex.hpp"
#include "core/thread_annotations.hpp"

namespace countersign {

class LogThrottle {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;

  explicit LogThrottle(std::chrono::steady_clock::duration interval = std::chrono::seconds(10))
      : interval_(interval) {}

  // Whether to log this occurrence: nullopt to leave it out; otherwise how many were left out
  // since the last line logged.
  std::optional<uint64_t> Allow(SteadyTime now = std::chrono::steady_clock::now());

 private:
  const std::chrono::steady_clock::duration interval_;
  Mutex mu_;
  SteadyTime next_ CS_GUARDED_BY(mu_){};
  uint64_t left_out_ CS_GUARDED_BY(mu_) = 0;
};

}  // namespace countersign
