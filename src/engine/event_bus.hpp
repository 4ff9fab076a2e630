// EventBus: fans committed request events out to the live streams (SSE, WebSocket).
//
// Publish() is the store's commit listener: it runs on the writer thread after each committed
// batch, with that batch's events in seq order, and must not block. Only request events go out
// (a non-empty request_id: request.*, decision.*); token and grant events never do. Each event
// is copied once into a shared immutable Event, whatever the number of subscribers, and offered
// to every subscription of its tenant (and request, when the subscription names one). Wake-ups
// are called after the bus lock is released.
//
// Subscribe() registers a bounded subscription (see EventSubscription) that sees every event
// published from then on; Unsubscribe() forgets it. After CloseAll() (shutdown) every
// subscription, and every later one, is closed.
//
// Thread-safe. Lock order: the bus's mutex, then a subscription's.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/event.hpp"
#include "core/mutex.hpp"
#include "engine/event_subscription.hpp"

namespace countersign {

class EventBus {
 public:
  static constexpr size_t kDefaultMaxQueue = 1000;

  // `max_queue`: the most events one subscription holds before it overflows (>= 1).
  explicit EventBus(size_t max_queue = kDefaultMaxQueue);

  void Publish(const std::vector<Event>& events);

  // `request_id` empty: every request of `tenant`. `wake` is called (from the publishing
  // thread) when the subscription has something new to take or has overflowed or closed.
  std::shared_ptr<EventSubscription> Subscribe(std::string tenant, std::string request_id,
                                               EventSubscription::Wake wake);
  // No-op for a subscription already forgotten.
  void Unsubscribe(const std::shared_ptr<EventSubscription>& subscription);
  void CloseAll();

  size_t max_queue() const { return max_queue_; }
  size_t size() const;

 private:
  const size_t max_queue_;
  mutable Mutex mu_;
  // By tenant.
  std::unordered_map<std::string, std::vector<std::shared_ptr<EventSubscription>>> subscriptions_
      CS_GUARDED_BY(mu_);
  size_t count_ CS_GUARDED_BY(mu_) = 0;
  bool closed_ CS_GUARDED_BY(mu_) = false;
};

}  // namespace countersign
