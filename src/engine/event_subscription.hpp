// EventSubscription: one live stream's bounded queue of request events, filled by the
// EventBus and drained by the stream's session.
//
// The bus Offer()s every published event of the subscription's tenant (and request, when it
// names one). The queue holds at most `max_queue` events; the offer that would exceed it drops
// the whole queue and leaves the subscription overflowed for good: the consumer is too slow,
// its stream is closed and the client resumes from the last event it received. Close() ends a
// subscription (server shutdown). Events are shared, immutable and never copied per
// subscriber.
//
// Wake-ups: Offer() and Close() return true when the consumer must be woken (its queue was
// empty, or the state changed); the bus then calls wake() after releasing its locks. wake()
// must not block; a session's wake posts to its own executor.
//
// Thread-safe: the bus offers from the store's writer thread while the session takes on its
// strand.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/event.hpp"
#include "core/mutex.hpp"

namespace countersign {

class EventSubscription {
 public:
  using EventPtr = std::shared_ptr<const Event>;
  using Wake = std::function<void()>;
  enum class State { kOpen, kOverflowed, kClosed };

  // `request_id` empty: every request of `tenant`. `max_queue` >= 1.
  EventSubscription(std::string tenant, std::string request_id, size_t max_queue, Wake wake);

  const std::string& tenant() const { return tenant_; }
  const std::string& request_id() const { return request_id_; }
  // Whether `event` belongs on this stream: its tenant, and its request when one is named.
  bool Matches(const Event& event) const;

  // Bus side. Queues `event` unless closed or overflowed; returns whether to wake.
  bool Offer(const EventPtr& event);
  // Ends the subscription (events still queued are dropped); returns whether to wake.
  bool Close();
  void WakeConsumer() const;

  // Consumer side. Moves up to `max` queued events, oldest first, to the end of `out` and
  // returns the state: events taken while open are always complete; once overflowed or
  // closed, nothing more is taken.
  State Take(std::vector<EventPtr>& out, size_t max);
  State state() const;
  size_t queued() const;

 private:
  const std::string tenant_;
  const std::string request_id_;
  const size_t max_queue_;
  const Wake wake_;
  mutable Mutex mu_;
  std::deque<EventPtr> queue_ CS_GUARDED_BY(mu_);
  State state_ CS_GUARDED_BY(mu_) = State::kOpen;
};

}  // namespace countersign
