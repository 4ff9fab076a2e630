// PgEventFeed: every replica's commits, told to this replica's commit listeners once each and in
// seq order.
//
// Each replica's writer NOTIFYs the channel `countersign_events` in the transaction that appends
// events. The feed LISTENs on a connection of its own, and whenever a notification arrives (or
// every `poll`, in case one was missed) it reads the events after the last one it delivered
// from the events table and hands them to the listeners. Its own writer's commits are handed
// over at once by Committed(), after any earlier events of other replicas not yet delivered, so
// local waiters do not wait for the round trip. A watermark (the last seq delivered), under one
// mutex, makes every event delivered exactly once whichever path sees it first. Only a gapless
// run from the watermark is delivered: the chain lock makes seqs commit in order, and a gap is
// waited out rather than skipped.
//
// A lost LISTEN connection (the server restarted, a proxy dropped it, a heartbeat failed) is
// seen, re-opened with backoff, and the events committed meanwhile are read and delivered: none
// missed, none doubled. Listeners run on the feed's thread or the writer's and must not block.
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/event.hpp"
#include "core/log_throttle.hpp"
#include "core/mutex.hpp"
#include "core/result.hpp"
#include "core/thread_annotations.hpp"
#include "store/store.hpp"

namespace countersign {

class PgConnection;

struct PgEventFeedOptions {
  std::string url;
  // Read the events table this often even without a notification.
  std::chrono::milliseconds poll{1000};
  // Check the LISTEN connection with a query after this long without traffic.
  std::chrono::milliseconds heartbeat{5000};
};

class PgEventFeed {
 public:
  // The events after seq `after`, oldest first, at most `limit`.
  using ReadAfter = std::function<Result<std::vector<Event>>(int64_t after, int limit)>;

  // The NOTIFY channel.
  static constexpr char kChannel[] = "countersign_events";

  // Delivers the events after `delivered_through` (those before it count as heard).
  PgEventFeed(PgEventFeedOptions options, int64_t delivered_through, ReadAfter read_after);
  ~PgEventFeed();
  PgEventFeed(const PgEventFeed&) = delete;
  PgEventFeed& operator=(const PgEventFeed&) = delete;

  void AddListener(Store::CommitListener listener);
  // Starts the LISTEN thread; Stop() joins it. Both idempotent.
  void Start();
  void Stop();

  // This replica's writer committed `events` (seq order, gapless): delivers them, after any
  // earlier events not yet delivered. When those cannot be read now, leaves everything to the
  // feed's thread, which delivers in order within `poll`.
  void Committed(const std::vector<Event>& events);

  // Whether the LISTEN connection is up (for readiness and tests).
  bool Listening() const { return listening_.load(); }
  // The last seq delivered.
  int64_t DeliveredThrough() const;
  // How many times the LISTEN connection has been (re)established.
  uint64_t Connections() const { return connections_.load(); }

 private:
  void Loop();
  // Reads and delivers everything after the watermark that is gapless, up to `through` (0: as
  // far as there is). Returns false when reading failed. mu_ must be held.
  bool CatchUp(int64_t through) CS_REQUIRES(mu_);
  void Deliver(const std::vector<Event>& events) CS_REQUIRES(mu_);
  // Waits up to `timeout` for the socket or a Stop(); returns whether the socket is readable.
  bool WaitReadable(int socket, std::chrono::milliseconds timeout);

  const PgEventFeedOptions options_;
  const ReadAfter read_after_;
  LogThrottle read_errors_;

  mutable Mutex mu_;  // held while delivering, so deliveries never overlap or reorder
  int64_t delivered_ CS_GUARDED_BY(mu_);
  std::vector<Store::CommitListener> listeners_ CS_GUARDED_BY(mu_);

  std::atomic<bool> stopping_{false};
  std::atomic<bool> listening_{false};
  std::atomic<uint64_t> connections_{0};
  int wake_fd_ = -1;  // an eventfd that Stop() writes to, to end the thread's poll
  std::thread thread_;
};

}  // namespace countersign
