// ClockTimer: an Asio timer whose moment is on the injected Clock (through Alarms), so that
// a FakeClock drives it in tests.
//
// Underneath is a steady_timer that never expires by itself: the alarm, when it fires, posts
// to the timer's executor and cancels it there, marking it expired. Wait() and AsyncWait()
// therefore complete when the moment comes, when Cancel() is called, or when the wait's
// cancellation slot fires, and say which. As with any Asio timer, a Cancel() while nothing
// waits is not remembered: callers keep their own flag for a wake-up that may come first.
//
// Everything but construction runs on the timer's executor. The alarm holds the timer only
// weakly, so a timer may go away with its alarm still set; destruction cancels the alarm.
// The Alarms must outlive the timer.
#pragma once

#include <chrono>
#include <memory>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "engine/alarms.hpp"
#include "http/beast.hpp"

namespace countersign {

class ClockTimer {
 public:
  ClockTimer(const asio::any_io_executor& executor, Alarms& alarms);
  ~ClockTimer();
  ClockTimer(const ClockTimer&) = delete;
  ClockTimer& operator=(const ClockTimer&) = delete;

  // Sets the moment, replacing any earlier one. Not while a wait is in progress.
  void ExpiresAt(TimePoint when);
  void ExpiresAfter(Millis delay) { ExpiresAt(alarms_.Now() + delay); }
  // Ends a wait in progress: it completes as not expired.
  void Cancel();
  // Whether the moment has come.
  bool expired() const { return state_->expired; }

  // True when the moment came (at once if it already has), false when Cancel() or `stop`
  // ended the wait first. No coroutine frame of its own (thousands of long-polls wait here at
  // once): the awaited operation is the timer's wait itself.
  asio::awaitable<bool> Wait(asio::cancellation_slot stop = {}) {
    return asio::async_initiate<const asio::use_awaitable_t<>&, void(bool)>(
        [state = state_](auto handler, asio::cancellation_slot stop) {
          // Resumed where it waits, whichever executor the timer has.
          auto executor = asio::get_associated_executor(handler, state->executor);
          if (state->expired) {
            asio::post(executor,
                       [handler = std::move(handler)]() mutable { std::move(handler)(true); });
            return;
          }
          state->timer.async_wait(asio::bind_cancellation_slot(
              stop, asio::bind_executor(executor, [state, handler = std::move(handler)](
                                                      boost::system::error_code) mutable {
                std::move(handler)(state->expired);
              })));
        },
        asio::use_awaitable, stop);
  }

  // `handler(bool expired)` runs on the executor when the wait ends, as for Wait().
  template <typename Handler>
  void AsyncWait(Handler handler) {
    state_->timer.async_wait(
        [state = state_, handler = std::move(handler)](boost::system::error_code) mutable {
          std::move(handler)(state->expired);
        });
  }

  const asio::any_io_executor& get_executor() { return state_->executor; }

 private:
  struct State {
    explicit State(const asio::any_io_executor& ex) : executor(ex), timer(ex) {}
    asio::any_io_executor executor;
    asio::steady_timer timer;
    uint64_t generation = 0;  // which ExpiresAt() an alarm belongs to
    bool expired = false;
  };

  Alarms& alarms_;
  std::shared_ptr<State> state_;
  Alarms::Ticket alarm_;
};

}  // namespace countersign
