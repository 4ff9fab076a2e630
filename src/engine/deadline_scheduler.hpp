// DeadlineScheduler: fires a callback when a pending request's deadline passes.
//
// One thread waits on the Clock (so a FakeClock drives it in tests) for the earliest entry it
// holds and runs the callback on that thread, outside the lock; the callback must not block for
// long (the gateway only queues a store write). Entries are never cancelled: the callback
// re-checks the request, so a duplicate or stale entry costs one no-op.
//
// With a PendingSource (the store's pending requests in (deadline, id) order) the scheduler
// holds a window, not every pending request: the next `window` deadlines read from the source,
// up to the last one read (the horizon), and those scheduled since that fall before it.
// Schedule() of a deadline past the horizon drops it: the source holds that request, and the
// read that moves the horizon past it will bring it back. The source is read, on the
// scheduler's thread, once every entry up to the horizon has fired, so deadlines that passed
// while the server was down come in pages of `window`, and memory does not grow with the number
// of pending requests. A failed read is logged and tried again a second later. Without a source
// every entry is held (the reminders, which the store does not order).
//
// Retry() is for a moment the source does not know (an expiry to try again): such an entry is
// held until it fires, wherever the horizon is. Start() starts the thread (which reads the
// source first); Stop() joins. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/mutex.hpp"
#include "core/result.hpp"
#include "store/store.hpp"

namespace countersign {

class DeadlineScheduler {
 public:
  using OnDue = std::function<void(const std::string& tenant, const std::string& id)>;
  // The first `limit` pending requests after the cursor, soonest first (Store's
  // ListPendingDeadlines). Called on the scheduler's thread only.
  using PendingSource =
      std::function<Result<std::vector<PendingDeadline>>(const DeadlineCursor& after, int limit)>;

  static constexpr int kDefaultWindow = 1024;
  static constexpr Millis kReadRetry{1000};

  // Holds every entry in memory.
  DeadlineScheduler(Clock& clock, OnDue on_due);
  // Holds a window of about `window` (>= 1) entries read from `source`.
  DeadlineScheduler(Clock& clock, OnDue on_due, PendingSource source, int window = kDefaultWindow);
  ~DeadlineScheduler();

  // A request whose deadline, as the source holds it once the caller's write has committed,
  // is `deadline`.
  void Schedule(std::string tenant, std::string id, TimePoint deadline);
  // Fires for `id` at `at`, which the source does not know: held in memory until then.
  void Retry(std::string tenant, std::string id, TimePoint at);
  void Start();
  void Stop();

  // Entries held in memory.
  size_t size() const;
  // Source reads that failed (each logged), for tests and metrics.
  int64_t failed_reads() const;

 private:
  // (deadline, id): the source's order.
  using Key = std::pair<TimePoint, std::string>;
  struct Slot {
    std::string tenant;
    bool retry = false;  // not in the source at this moment: never dropped
  };

  void Add(std::string tenant, std::string id, TimePoint at, bool retry) CS_REQUIRES(mu_);
  // True once every held entry up to the horizon has fired and the source may hold more.
  bool NeedsRead() const CS_REQUIRES(mu_);
  // Drops the latest entries the source holds while more than twice the window are held, and
  // moves the horizon before them.
  void Trim() CS_REQUIRES(mu_);
  void Run();

  Clock& clock_;
  OnDue on_due_;
  PendingSource source_;
  const size_t window_;
  mutable Mutex mu_;
  std::condition_variable cv_;
  std::map<Key, Slot> entries_ CS_GUARDED_BY(mu_);
  // Every request the source held up to here has been read (and is held, or has fired).
  Key horizon_ CS_GUARDED_BY(mu_){TimePoint::min(), std::string()};
  // The last read returned less than a window: nothing past the horizon is left in the source,
  // so everything scheduled is held (until Trim() moves the horizon back).
  bool read_all_ CS_GUARDED_BY(mu_) = false;
  // A read may be under way (or has not run yet): what is scheduled meanwhile is held, since the
  // read may have missed it, and nothing is trimmed; once the read is in, what lies past the new
  // horizon is dropped.
  bool reading_ CS_GUARDED_BY(mu_) = true;
  TimePoint next_read_ CS_GUARDED_BY(mu_) = TimePoint::min();
  int64_t failed_reads_ CS_GUARDED_BY(mu_) = 0;
  bool stopping_ CS_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace countersign
