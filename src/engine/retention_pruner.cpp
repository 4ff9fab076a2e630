#include "engine/retention_pruner.hpp"

#include <optional>
#include <utility>

#include <spdlog/spdlog.h>
#include <boost/json/object.hpp>

#include "core/mutex_lock.hpp"
#include "core/time_format.hpp"

namespace countersign {

namespace {

constexpr char kTenant[] = "default";  // one chain spans every tenant: the operator's

}  // namespace

// One pass: its cutoff stays fixed while its batches run.
struct RetentionPruner::Pass {
  TimePoint before;
  int64_t removed = 0;
  std::function<void(Result<int64_t>)> done;
};

RetentionPruner::RetentionPruner(Store& store, Alarms& alarms, RetentionOptions options)
    : store_(store), alarms_(alarms), options_(options) {}

RetentionPruner::~RetentionPruner() { Stop(); }

void RetentionPruner::Start() {
  if (options_.resolved_after.count() <= 0) return;
  PruneNow({});
  ArmTimer();
}

void RetentionPruner::Stop() {
  MutexLock lock(mu_);
  if (stopped_) return;
  stopped_ = true;
  alarms_.Cancel(timer_);
}

void RetentionPruner::ArmTimer() {
  if (options_.interval.count() <= 0) return;
  MutexLock lock(mu_);
  if (stopped_) return;
  timer_ = alarms_.After(options_.interval, [this] { OnTimer(); });
}

void RetentionPruner::OnTimer() {
  PruneNow({});
  ArmTimer();
}

void RetentionPruner::PruneNow(std::function<void(Result<int64_t>)> done) {
  if (options_.resolved_after.count() <= 0) {
    // Kept for ever.
    if (done) done(int64_t{0});
    return;
  }
  std::optional<Error> refused;
  {
    MutexLock lock(mu_);
    if (stopped_) {
      refused = Error::Unavailable("the retention pruner has stopped");
    } else if (running_) {
      refused = Error::Unavailable("a retention pass is running");
    } else {
      running_ = true;
    }
  }
  if (refused) {
    if (done) done(std::move(*refused));
    return;
  }
  auto pass = std::make_shared<Pass>();
  pass->before = alarms_.Now() - options_.resolved_after;
  pass->done = std::move(done);
  Next(std::move(pass));
}

void RetentionPruner::Next(std::shared_ptr<Pass> pass) {
  bool stopped = false;
  {
    MutexLock lock(mu_);
    stopped = stopped_;
  }
  if (stopped) {
    Finish(pass, Ok());
    return;
  }
  auto pruned = std::make_shared<PrunedRequests>();
  store_.Write([this, pass, pruned](Transaction& txn) { return WriteBatch(txn, *pass, *pruned); },
               [this, pass, pruned](Status status) {
                 if (!status.ok()) {
                   Finish(pass, std::move(status));
                   return;
                 }
                 pass->removed += pruned->count;
                 // A full batch may have left more behind it.
                 if (pruned->count == options_.batch) {
                   Next(pass);
                 } else {
                   Finish(pass, Ok());
                 }
               });
}

void RetentionPruner::Finish(const std::shared_ptr<Pass>& pass, Status status) {
  {
    MutexLock lock(mu_);
    running_ = false;
  }
  if (!status.ok()) {
    // The next pass picks up where this one stopped.
    spdlog::warn("retention: pass stopped after removing {} requests: {}", pass->removed,
                 status.error().message);
    if (pass->done) pass->done(std::move(status).error());
    return;
  }
  if (pass->removed > 0) {
    spdlog::info("retention: removed {} requests resolved before {}", pass->removed,
                 FormatTime(pass->before));
    if (on_pruned_) on_pruned_();
  }
  if (pass->done) pass->done(pass->removed);
}

Status RetentionPruner::WriteBatch(Transaction& txn, const Pass& pass,
                                   PrunedRequests& pruned) const {
  auto removed = txn.PruneResolved(pass.before, options_.batch);
  if (!removed.ok()) return std::move(removed).error();
  pruned = std::move(removed).value();
  if (pruned.count == 0) return Ok();
  boost::json::object statuses;
  for (const auto& [status, count] : pruned.by_status) statuses[status] = count;
  EventDraft draft{alarms_.Now(),
                   kTenant,
                   "",
                   kRetentionPrunedEvent,
                   kActor,
                   {{"count", pruned.count},
                    {"first_id", pruned.first_id},
                    {"last_id", pruned.last_id},
                    {"resolved_before", FormatTime(pass.before)},
                    {"statuses", std::move(statuses)}}};
  auto seq = txn.AppendEvent(std::move(draft));
  if (!seq.ok()) return std::move(seq).error();
  return Ok();
}

}  // namespace countersign
