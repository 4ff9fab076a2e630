#include "engine/request_cache.hpp"

#include "core/mutex_lock.hpp"
#include "store/store.hpp"

namespace countersign {

std::string RequestCache::Key(std::string_view tenant, std::string_view id) {
  std::string key;
  key.reserve(tenant.size() + 1 + id.size());
  key.append(tenant).push_back('\0');
  key.append(id);
  return key;
}

uint64_t RequestCache::Generation() const {
  MutexLock lock(mu_);
  return generation_;
}

RequestCache::RequestPtr RequestCache::Find(std::string_view tenant, std::string_view id) const {
  const std::string key = Key(tenant, id);
  MutexLock lock(mu_);
  auto it = requests_.find(key);
  return it == requests_.end() ? nullptr : it->second;
}

void RequestCache::Put(uint64_t generation, RequestPtr request) {
  if (capacity_ == 0 || !request) return;
  std::string key = Key(request->tenant, request->id);
  MutexLock lock(mu_);
  if (generation != generation_) return;
  if (requests_.size() >= capacity_ && !requests_.contains(key)) requests_.erase(requests_.begin());
  requests_.insert_or_assign(std::move(key), std::move(request));
}

void RequestCache::Forget(const std::vector<Event>& events) {
  MutexLock lock(mu_);
  ++generation_;
  if (requests_.empty()) return;
  for (const auto& event : events) {
    if (event.type == kRetentionPrunedEvent) {
      // A retention pass removed requests of any tenant; its event names only the range.
      requests_.clear();
      return;
    }
    if (!event.request_id.empty()) requests_.erase(Key(event.tenant, event.request_id));
  }
}

size_t RequestCache::size() const {
  MutexLock lock(mu_);
  return requests_.size();
}

}  // namespace countersign
