// SystemClock: the wall clock. Thread-safe; stateless.
#pragma once

#include "core/clock.hpp"

namespace countersign {

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override;
  void WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                 TimePoint deadline) override;
};

}  // namespace countersign
