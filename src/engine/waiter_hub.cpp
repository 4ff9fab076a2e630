#include "engine/waiter_hub.hpp"

#include <algorithm>

#include "core/mutex_lock.hpp"

namespace countersign {

uint64_t WaiterHub::Add(const std::string& request_id, Wake wake) {
  uint64_t ticket = 0;
  {
    MutexLock lock(mu_);
    if (!closed_) {
      ticket = next_ticket_++;
      waiters_[request_id].push_back({ticket, std::move(wake)});
      ++count_;
      return ticket;
    }
  }
  wake(nullptr);
  return ticket;
}

void WaiterHub::Remove(const std::string& request_id, uint64_t ticket) {
  MutexLock lock(mu_);
  auto it = waiters_.find(request_id);
  if (it == waiters_.end()) return;
  auto& list = it->second;
  auto w =
      std::find_if(list.begin(), list.end(), [&](const Waiter& x) { return x.ticket == ticket; });
  if (w == list.end()) return;
  list.erase(w);
  --count_;
  if (list.empty()) waiters_.erase(it);
}

bool WaiterHub::Waiting(const std::string& request_id) const {
  MutexLock lock(mu_);
  return waiters_.contains(request_id);
}

void WaiterHub::Notify(const std::shared_ptr<const Request>& request) {
  std::vector<Waiter> woken;
  {
    MutexLock lock(mu_);
    auto it = waiters_.find(request->id);
    if (it == waiters_.end()) return;
    woken = std::move(it->second);
    waiters_.erase(it);
    count_ -= woken.size();
  }
  for (auto& w : woken) w.wake(request);
}

void WaiterHub::CloseAll() {
  std::unordered_map<std::string, std::vector<Waiter>> woken;
  {
    MutexLock lock(mu_);
    closed_ = true;
    woken.swap(waiters_);
    count_ = 0;
  }
  for (auto& [id, list] : woken) {
    for (auto& w : list) w.wake(nullptr);
  }
}

size_t WaiterHub::size() const {
  MutexLock lock(mu_);
  return count_;
}

}  // namespace countersign
