#include "engine/event_subscription.hpp"

#include <algorithm>

#include "core/mutex_lock.hpp"

namespace countersign {

EventSubscription::EventSubscription(std::string tenant, std::string request_id, size_t max_queue,
                                     Wake wake)
    : tenant_(std::move(tenant)),
      request_id_(std::move(request_id)),
      max_queue_(std::max<size_t>(1, max_queue)),
      wake_(std::move(wake)) {}

bool EventSubscription::Matches(const Event& event) const {
  return event.tenant == tenant_ && (request_id_.empty() || event.request_id == request_id_);
}

bool EventSubscription::Offer(const EventPtr& event) {
  MutexLock lock(mu_);
  if (state_ != State::kOpen) return false;
  if (queue_.size() >= max_queue_) {
    // Freeing the backlog at once is the point: a stalled consumer holds no more than
    // max_queue events, and never again after this.
    std::deque<EventPtr>().swap(queue_);
    state_ = State::kOverflowed;
    return true;
  }
  queue_.push_back(event);
  // A consumer with a non-empty queue has been woken already and has not drained it yet.
  return queue_.size() == 1;
}

bool EventSubscription::Close() {
  MutexLock lock(mu_);
  if (state_ != State::kOpen) return false;
  std::deque<EventPtr>().swap(queue_);
  state_ = State::kClosed;
  return true;
}

void EventSubscription::WakeConsumer() const {
  if (wake_) wake_();
}

EventSubscription::State EventSubscription::Take(std::vector<EventPtr>& out, size_t max) {
  MutexLock lock(mu_);
  if (state_ != State::kOpen) return state_;
  const size_t n = std::min(max, queue_.size());
  for (size_t i = 0; i < n; ++i) {
    out.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return state_;
}

EventSubscription::State EventSubscription::state() const {
  MutexLock lock(mu_);
  return state_;
}

size_t EventSubscription::queued() const {
  MutexLock lock(mu_);
  return queue_.size();
}

}  // namespace countersign
