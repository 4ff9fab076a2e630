#include "engine/change_feed.hpp"

#include <utility>

#include "core/mutex_lock.hpp"

namespace countersign {

void ChangeFeed::Subscribe(std::string name, Consumer consumer) {
  MutexLock lock(mu_);
  auto next = std::make_shared<Entries>(*entries_);
  next->push_back({std::move(name), std::move(consumer)});
  entries_ = std::move(next);
}

void ChangeFeed::Publish(const std::vector<Event>& events) const {
  if (events.empty()) return;
  std::shared_ptr<const Entries> entries;
  {
    MutexLock lock(mu_);
    entries = entries_;
  }
  for (const Entry& entry : *entries) entry.consumer(events);
}

std::vector<std::string> ChangeFeed::Names() const {
  MutexLock lock(mu_);
  std::vector<std::string> names;
  names.reserve(entries_->size());
  for (const Entry& entry : *entries_) names.push_back(entry.name);
  return names;
}

}  // namespace countersign
