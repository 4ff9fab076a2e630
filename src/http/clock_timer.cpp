#include "http/clock_timer.hpp"

#include <boost/asio/post.hpp>

namespace countersign {

ClockTimer::ClockTimer(const asio::any_io_executor& executor, Alarms& alarms)
    : alarms_(alarms), state_(std::make_shared<State>(executor)) {
  state_->timer.expires_at(std::chrono::steady_clock::time_point::max());
}

ClockTimer::~ClockTimer() { alarms_.Cancel(alarm_); }

void ClockTimer::ExpiresAt(TimePoint when) {
  alarms_.Cancel(alarm_);
  const uint64_t generation = ++state_->generation;
  state_->expired = false;
  std::weak_ptr<State> weak = state_;
  alarm_ = alarms_.At(when, [weak = std::move(weak), generation] {
    auto state = weak.lock();
    if (!state) return;
    asio::post(state->executor, [weak = std::weak_ptr<State>(state), generation] {
      auto state = weak.lock();
      if (!state || state->generation != generation) return;
      state->expired = true;
      state->timer.cancel();
    });
  });
}

void ClockTimer::Cancel() {
  alarms_.Cancel(alarm_);
  alarm_ = {};
  // A later alarm of this generation, already on its way, must not mark it expired.
  ++state_->generation;
  state_->timer.cancel();
}

}  // namespace countersign
