// DeadlineScheduler: fires a callback when a pending request's deadline passes.
//
// Deadlines live in a min-heap served by one thread that waits on the Clock (so a FakeClock
// drives it in tests). The callback runs on that thread, outside the lock, and must not
// block for long (the gateway only queues a store write). Entries are never cancelled: the
// callback re-checks the request, so a stale entry costs one no-op. Start() after the heap is
// seeded from the store; Stop() joins. Thread-safe.
#pragma once

#include <condition_variable>
#include <functional>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "core/mutex.hpp"

namespace countersign {

class DeadlineScheduler {
 public:
  using OnDue = std::function<void(const std::string& tenant, const std::string& id)>;

  DeadlineScheduler(Clock& clock, OnDue on_due);
  ~DeadlineScheduler();

  void Schedule(std::string tenant, std::string id, TimePoint deadline);
  void Start();
  void Stop();

  size_t size() const;

 private:
  struct Entry {
    TimePoint deadline;
    std::string tenant;
    std::string id;
    bool operator>(const Entry& other) const { return deadline > other.deadline; }
  };

  void Run();

  Clock& clock_;
  OnDue on_due_;
  mutable Mutex mu_;
  std::condition_variable cv_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap_ CS_GUARDED_BY(mu_);
  bool stopping_ CS_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace countersign
