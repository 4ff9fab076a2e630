#include "engine/alarms.hpp"

#include <utility>
#include <vector>

#include "core/mutex_lock.hpp"

namespace countersign {

Alarms::Alarms(Clock& clock) : clock_(clock), thread_([this] { Run(); }) {}

Alarms::~Alarms() { Stop(); }

Alarms::Ticket Alarms::At(TimePoint when, Fire fire) {
  MutexLock lock(mu_);
  if (stopping_) return {};
  const Ticket ticket{when, next_sequence_++};
  const bool earliest = set_.empty() || ticket < set_.begin()->first;
  set_.emplace(ticket, std::move(fire));
  if (earliest) changed_.notify_all();
  return ticket;
}

bool Alarms::Cancel(const Ticket& ticket) {
  if (ticket.sequence == 0) return false;
  Fire dropped;  // destroyed outside the lock: it may own anything
  MutexLock lock(mu_);
  auto it = set_.find(ticket);
  if (it == set_.end()) return false;
  dropped = std::move(it->second);
  set_.erase(it);
  return true;
}

void Alarms::Stop() {
  std::map<Ticket, Fire> dropped;
  {
    MutexLock lock(mu_);
    stopping_ = true;
    dropped.swap(set_);
    changed_.notify_all();
  }
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

size_t Alarms::size() const {
  MutexLock lock(mu_);
  return set_.size();
}

void Alarms::Run() {
  std::vector<Fire> due;
  MutexLock lock(mu_);
  while (!stopping_) {
    const TimePoint now = clock_.Now();
    if (set_.empty() || set_.begin()->first.when > now) {
      clock_.WaitUntil(lock.native(), changed_,
                       set_.empty() ? TimePoint::max() : set_.begin()->first.when);
      continue;
    }
    while (!set_.empty() && set_.begin()->first.when <= now) {
      due.push_back(std::move(set_.begin()->second));
      set_.erase(set_.begin());
    }
    lock.Unlock();
    for (auto& fire : due) fire();
    due.clear();
    lock.Lock();
  }
}

}  // namespace countersign
