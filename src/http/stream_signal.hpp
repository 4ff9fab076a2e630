// StreamSignal: wakes a stream session's coroutine from any thread.
//
// Notify() may be called from any thread (the store's writer thread, through the EventBus): it
// posts to the session's strand, where it runs `on_notify` (if set) and ends a pending Wait().
// A Notify() while nobody waits is remembered, so a wake-up is never lost. Wait()
// and `on_notify` belong to the strand. The session holds the signal by shared_ptr, and
// so does every wake-up in flight, so a late Notify() after the session ended is harmless once
// the session has cleared `on_notify`. The timeout is kept on the Alarms' clock.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "engine/alarms.hpp"
#include "http/beast.hpp"
#include "http/clock_timer.hpp"

namespace countersign {

class StreamSignal : public std::enable_shared_from_this<StreamSignal> {
 public:
  StreamSignal(const asio::any_io_executor& strand, Alarms& alarms) : timer_(strand, alarms) {}

  // Any thread.
  void Notify() {
    asio::post(timer_.get_executor(), [self = shared_from_this()] { self->NotifyOnStrand(); });
  }

  // Strand only.
  void NotifyOnStrand() {
    notified_ = true;
    timer_.Cancel();
    if (on_notify) on_notify();
  }

  // Strand only. Returns true when woken by Notify(), false when `timeout` passed first or a
  // cancellation arrived through `stop`.
  asio::awaitable<bool> Wait(Millis timeout, asio::cancellation_slot stop = {}) {
    if (!notified_) {
      timer_.ExpiresAfter(timeout);
      co_await timer_.Wait(stop);
    }
    const bool notified = notified_;
    notified_ = false;
    co_return notified;
  }

  // Strand only: run at each Notify(), before a waiting Wait() resumes.
  std::function<void()> on_notify;

 private:
  ClockTimer timer_;
  bool notified_ = false;  // strand only
};

}  // namespace countersign
