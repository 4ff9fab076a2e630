// RetentionPruner: removes requests resolved longer ago than [retention] resolved_after, so a
// store that runs for years does not keep every request body for ever.
//
// A pass removes, in batches of `batch` requests (one transaction each), every request
// resolved before now - resolved_after, with its decisions, outbox rows, channel messages,
// conversation and idempotency keys (Transaction::PruneResolved). The audit events stay: they
// are the tamper-evident record, and the chain still verifies. Each batch appends, in its own
// transaction, a kRetentionPrunedEvent ("retention.pruned") naming how many requests went, the
// lowest and highest id and the cutoff; once a pass has removed anything, `on_pruned` runs (the
// server asks the audit sealer for a signed checkpoint then, so a signature covers the record
// of what was removed at once). A request read after it was removed answers 404 like an
// unknown one.
//
// Passes run on the gateway's alarms (the injected clock): one at Start(), then every
// `interval`. Several replicas sharing a PostgreSQL store each run passes; a batch selects what
// to remove inside its write transaction, which holds the audit chain's lock, so two replicas
// never remove the same request twice and only the one that removed anything records it. At
// most one pass of this object runs at a time. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "core/mutex.hpp"
#include "core/thread_annotations.hpp"
#include "engine/alarms.hpp"
#include "store/store.hpp"

namespace countersign {

struct RetentionOptions {
  std::chrono::seconds resolved_after{0};  // keep resolved requests this long; 0: for ever
  std::chrono::seconds interval{3600};     // between passes (> 0)
  int64_t batch = 500;                     // requests removed per transaction (>= 1)
};

class RetentionPruner {
 public:
  static constexpr char kActor[] = "countersign";

  RetentionPruner(Store& store, Alarms& alarms, RetentionOptions options);
  ~RetentionPruner();
  RetentionPruner(const RetentionPruner&) = delete;
  RetentionPruner& operator=(const RetentionPruner&) = delete;

  // Runs, on the store's writer thread, after each pass that removed at least one request.
  // Call before Start().
  void SetOnPruned(std::function<void()> on_pruned) { on_pruned_ = std::move(on_pruned); }
  // Begins a pass now and arms the timer for the next. Nothing when resolved_after is 0.
  void Start();
  // No batch is begun after this; one being written still commits.
  void Stop();

  // Runs a pass now; `done` gets how many requests it removed once they are durable (0 at once
  // when resolved_after is 0), or why it stopped (kUnavailable when a pass is already running
  // or the pruner has stopped).
  void PruneNow(std::function<void(Result<int64_t>)> done);

 private:
  struct Pass;

  void OnTimer();
  void ArmTimer();
  // Queues the next batch of `pass`.
  void Next(std::shared_ptr<Pass> pass);
  void Finish(const std::shared_ptr<Pass>& pass, Status status);
  Status WriteBatch(Transaction& txn, const Pass& pass, PrunedRequests& pruned) const;

  Store& store_;
  Alarms& alarms_;
  const RetentionOptions options_;
  std::function<void()> on_pruned_;

  Mutex mu_;
  bool running_ CS_GUARDED_BY(mu_) = false;  // a pass is under way
  bool stopped_ CS_GUARDED_BY(mu_) = false;
  Alarms::Ticket timer_ CS_GUARDED_BY(mu_);
};

}  // namespace countersign
