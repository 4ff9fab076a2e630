#include "engine/event_bus.hpp"

#include <algorithm>

#include "core/mutex_lock.hpp"

namespace countersign {

EventBus::EventBus(size_t max_queue) : max_queue_(std::max<size_t>(1, max_queue)) {}

void EventBus::Publish(const std::vector<Event>& events) {
  std::vector<std::shared_ptr<EventSubscription>> to_wake;
  {
    MutexLock lock(mu_);
    if (subscriptions_.empty()) return;
    for (const auto& event : events) {
      if (event.request_id.empty()) continue;
      auto it = subscriptions_.find(event.tenant);
      if (it == subscriptions_.end()) continue;
      // Copied only when someone listens, and once for all of them.
      std::shared_ptr<const Event> shared;
      for (const auto& subscription : it->second) {
        if (!subscription->Matches(event)) continue;
        if (!shared) shared = std::make_shared<const Event>(event);
        if (subscription->Offer(shared)) to_wake.push_back(subscription);
      }
    }
  }
  for (const auto& subscription : to_wake) subscription->WakeConsumer();
}

std::shared_ptr<EventSubscription> EventBus::Subscribe(std::string tenant, std::string request_id,
                                                       EventSubscription::Wake wake) {
  auto subscription = std::make_shared<EventSubscription>(std::move(tenant), std::move(request_id),
                                                          max_queue_, std::move(wake));
  {
    MutexLock lock(mu_);
    if (!closed_) {
      subscriptions_[subscription->tenant()].push_back(subscription);
      ++count_;
      return subscription;
    }
  }
  subscription->Close();
  return subscription;
}

void EventBus::Unsubscribe(const std::shared_ptr<EventSubscription>& subscription) {
  if (!subscription) return;
  MutexLock lock(mu_);
  auto it = subscriptions_.find(subscription->tenant());
  if (it == subscriptions_.end()) return;
  auto& list = it->second;
  auto found = std::find(list.begin(), list.end(), subscription);
  if (found == list.end()) return;
  // Order among subscribers does not matter.
  *found = std::move(list.back());
  list.pop_back();
  --count_;
  if (list.empty()) subscriptions_.erase(it);
}

void EventBus::CloseAll() {
  std::unordered_map<std::string, std::vector<std::shared_ptr<EventSubscription>>> closed;
  {
    MutexLock lock(mu_);
    closed_ = true;
    closed.swap(subscriptions_);
    count_ = 0;
  }
  for (auto& [tenant, list] : closed) {
    for (auto& subscription : list) {
      if (subscription->Close()) subscription->WakeConsumer();
    }
  }
}

size_t EventBus::size() const {
  MutexLock lock(mu_);
  return count_;
}

}  // namespace countersign
