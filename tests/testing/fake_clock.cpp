#include "testing/fake_clock.hpp"

#include <algorithm>

namespace countersign::testing {

void FakeClock::WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                          TimePoint deadline) {
  if (Now() >= deadline) return;
  {
    std::lock_guard guard(mu_);
    sleepers_.push_back({&cv, lock.mutex()});
  }
  // Advance() takes the sleeper's mutex before notifying, and we hold it until wait() releases
  // it atomically, so a wake-up between registering and waiting cannot be lost.
  cv.wait(lock);
  std::lock_guard guard(mu_);
  auto it = std::find_if(sleepers_.begin(), sleepers_.end(),
                         [&](const Sleeper& s) { return s.cv == &cv; });
  if (it != sleepers_.end()) sleepers_.erase(it);
}

void FakeClock::Advance(Millis by) {
  now_ms_ += by.count();
  WakeSleepers();
}

void FakeClock::Set(TimePoint to) {
  now_ms_ = ToUnixMillis(to);
  WakeSleepers();
}

void FakeClock::WakeSleepers() {
  std::vector<Sleeper> sleepers;
  {
    std::lock_guard guard(mu_);
    sleepers = sleepers_;
  }
  for (const auto& s : sleepers) {
    std::lock_guard guard(*s.mu);
    s.cv->notify_all();
  }
}

}  // namespace countersign::testing
