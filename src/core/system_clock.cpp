#include "core/system_clock.hpp"

namespace countersign {

TimePoint SystemClock::Now() const {
  return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
}

void SystemClock::WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                            TimePoint deadline) {
  // Waiting on the system clock keeps deadlines right across suspend and NTP steps. Far
  // deadlines (TimePoint::max() means "until notified") are capped so the conversion to the
  // condition variable's nanosecond clock cannot overflow; callers loop anyway.
  const TimePoint cap = Now() + std::chrono::hours(1);
  cv.wait_until(lock, deadline < cap ? deadline : cap);
}

}  // namespace countersign
