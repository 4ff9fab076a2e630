// Clock: the only source of "now" and the only way to wait for a moment in time.
//
// Production code takes a Clock& so that tests can pass a FakeClock and never sleep.
// Implementations must be thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace countersign {

using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;
using Millis = std::chrono::milliseconds;

inline int64_t ToUnixMillis(TimePoint t) { return t.time_since_epoch().count(); }
inline TimePoint FromUnixMillis(int64_t ms) { return TimePoint(Millis(ms)); }

class Clock {
 public:
  virtual ~Clock() = default;

  virtual TimePoint Now() const = 0;

  // Blocks on `cv` (whose mutex `lock` holds) until this clock reaches `deadline` or `cv` is
  // notified. May return early; callers re-check their condition and Now() in a loop.
  virtual void WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                         TimePoint deadline) = 0;
};

}  // namespace countersign
