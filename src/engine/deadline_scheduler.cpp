#include "engine/deadline_scheduler.hpp"

#include "core/mutex_lock.hpp"

namespace countersign {

DeadlineScheduler::DeadlineScheduler(Clock& clock, OnDue on_due)
    : clock_(clock), on_due_(std::move(on_due)) {}

DeadlineScheduler::~DeadlineScheduler() { Stop(); }

void DeadlineScheduler::Schedule(std::string tenant, std::string id, TimePoint deadline) {
  MutexLock lock(mu_);
  const bool earliest = heap_.empty() || deadline < heap_.top().deadline;
  heap_.push({deadline, std::move(tenant), std::move(id)});
  if (earliest) cv_.notify_all();
}

void DeadlineScheduler::Start() {
  MutexLock lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Run(); });
}

void DeadlineScheduler::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

size_t DeadlineScheduler::size() const {
  MutexLock lock(mu_);
  return heap_.size();
}

void DeadlineScheduler::Run() {
  MutexLock lock(mu_);
  while (!stopping_) {
    if (heap_.empty()) {
      clock_.WaitUntil(lock.native(), cv_, TimePoint::max());
      continue;
    }
    const TimePoint next = heap_.top().deadline;
    if (next > clock_.Now()) {
      clock_.WaitUntil(lock.native(), cv_, next);
      continue;
    }
    std::vector<Entry> due;
    const TimePoint now = clock_.Now();
    while (!heap_.empty() && heap_.top().deadline <= now) {
      due.push_back(heap_.top());
      heap_.pop();
    }
    lock.Unlock();
    for (const auto& e : due) on_due_(e.tenant, e.id);
    lock.Lock();
  }
}

}  // namespace countersign
