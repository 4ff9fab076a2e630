// Dispatcher: delivers outbox rows, retrying with backoff, and records every attempt.
//
// A scheduler thread reads the rows that are due (Store::ListDueOutbox keeps each
// destination's rows for one request in order) and hands them to a pool of worker threads,
// at most `per_destination` at a time for any one destination. A worker has the row's channel
// deliver it (Channel::Deliver: rendered from the request as it stands now and sent through
// the HttpTransport, or, for email, over SMTP), and records the result in one store write:
// - delivered: state "delivered" (and the message reference the channel returned, if any,
//   for later edits);
// - retry (no answer, 408, 429, 5xx, or what the channel says): attempts + 1 and the next
//   attempt after the receiver's Retry-After, or after an exponential backoff with jitter
//   (retry_base * 2^(attempts-1), capped at retry_max, then a uniform draw from its upper
//   half); after max_attempts it fails instead;
// - failed: state "failed" and a notification.failed audit event saying why.
// A row is marked only after its attempt: a crash in between means the row is sent again
// with the same delivery id (at-least-once; receivers dedupe on X-Countersign-Delivery).
// Rows left pending by a previous run are picked up at Start().
// Thread-safe. Wake() may be called from any thread (a store commit listener).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "core/mutex.hpp"
#include "notify/channel_set.hpp"
#include "notify/http_transport.hpp"
#include "store/store.hpp"

namespace countersign {

struct DispatcherOptions {
  int workers = 4;
  int per_destination = 2;
  int max_attempts = 8;
  std::chrono::milliseconds retry_base{1000};
  std::chrono::milliseconds retry_max{5 * 60 * 1000};
  std::chrono::milliseconds call_timeout{10000};
  // How often the scheduler looks for due rows when nothing wakes it (a safety net: commits
  // and finished attempts wake it).
  std::chrono::milliseconds idle_poll{30000};
};

struct DispatcherStats {
  uint64_t delivered = 0;
  uint64_t retried = 0;
  uint64_t failed = 0;
};

class Dispatcher {
 public:
  Dispatcher(Store& store, Clock& clock, HttpTransport& transport, const ChannelSet& channels,
             DispatcherOptions options = {});
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void Start();
  // Lets attempts in flight finish (each bounded by call_timeout) and joins every thread.
  void Stop();
  // New rows may be due: look now.
  void Wake();

  DispatcherStats Stats() const;

  // Delivers, on the calling thread, every row due now (one attempt each); returns how many
  // were attempted. For tests that drive time with a fake clock; do not mix with Start().
  size_t DeliverDueForTest();
  // Runs `hook` on the scheduler thread after each read of the due rows, before they are
  // queued (to hold a scan at that point). Call before Start().
  void SetScanHookForTest(std::function<void()> hook) { scan_hook_ = std::move(hook); }
  // Rows queued or being attempted.
  size_t InFlightForTest() const;

 private:
  void SchedulerLoop();
  void WorkerLoop();
  // One attempt at `row`, and its record in the store. Blocks until the record is durable.
  void Attempt(OutboxRow row);
  std::chrono::milliseconds Backoff(int attempts);

  Store& store_;
  Clock& clock_;
  HttpTransport& transport_;
  const ChannelSet& channels_;
  const DispatcherOptions options_;

  mutable Mutex mu_;
  std::condition_variable scheduler_cv_;  // woken by Wake(), finished attempts, Stop()
  std::condition_variable workers_cv_;    // work_ grew, or stopping_
  bool woken_ CS_GUARDED_BY(mu_) = false;
  bool stopping_ CS_GUARDED_BY(mu_) = false;
  std::deque<OutboxRow> work_ CS_GUARDED_BY(mu_);
  std::set<int64_t> in_flight_ CS_GUARDED_BY(mu_);  // queued or being attempted
  // Whether the scheduler is reading due rows, and the rows whose attempt ended meanwhile.
  // The read may predate that attempt's record, so it may list such a row as still due; it
  // must not be queued again.
  bool scanning_ CS_GUARDED_BY(mu_) = false;
  std::set<int64_t> ended_during_scan_ CS_GUARDED_BY(mu_);
  std::map<std::string, int> active_ CS_GUARDED_BY(mu_);  // in flight per destination
  DispatcherStats stats_ CS_GUARDED_BY(mu_);
  std::mt19937_64 random_ CS_GUARDED_BY(mu_);
  std::function<void()> scan_hook_;

  std::thread scheduler_;
  std::vector<std::thread> workers_;
};

}  // namespace countersign
