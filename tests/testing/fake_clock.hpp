// FakeClock: a Clock that moves only when a test calls Advance().
//
// Threads blocked in WaitUntil() are woken by every Advance() and re-check their condition,
// so code that waits for a deadline runs as soon as the test moves time past it, and no test
// ever sleeps. Thread-safe. Condition variables passed to WaitUntil() must outlive the clock's
// last Advance() call.
#pragma once

#include <atomic>
#include <mutex>
#include <vector>

#include "core/clock.hpp"

namespace countersign::testing {

class FakeClock final : public Clock {
 public:
  // 2026-11-21T10:00:00Z, so formatted times in tests are easy to read.
  FakeClock() : now_ms_(1795255200000) {}

  TimePoint Now() const override { return FromUnixMillis(now_ms_.load()); }
  void WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                 TimePoint deadline) override;

  void Advance(Millis by);
  void Set(TimePoint to);

 private:
  struct Sleeper {
    std::condition_variable* cv;
    std::mutex* mu;
  };
  void WakeSleepers();

  std::atomic<int64_t> now_ms_;
  std::mutex mu_;
  std::vector<Sleeper> sleepers_;  // guarded by mu_
};

}  // namespace countersign::testing
