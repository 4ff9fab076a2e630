#include "notify/dispatcher.hpp"

#include <algorithm>
#include <cmath>
#include <future>

#include <spdlog/spdlog.h>

#include "core/mutex_lock.hpp"

namespace countersign {
namespace {

constexpr int kBatch = 64;

void Finish(OutboxRow& row, const char* state, std::string error, TimePoint next) {
  row.state = state;
  row.last_error = std::move(error);
  row.next_attempt_at = next;
}

}  // namespace

Dispatcher::Dispatcher(Store& store, Clock& clock, HttpTransport& transport,
                       const ChannelSet& channels, DispatcherOptions options)
    : store_(store),
      clock_(clock),
      transport_(transport),
      channels_(channels),
      options_(options),
      random_(std::random_device{}()) {}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Start() {
  MutexLock lock(mu_);
  if (scheduler_.joinable() || stopping_) return;
  woken_ = true;  // rows left by an earlier run
  scheduler_ = std::thread([this] { SchedulerLoop(); });
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

void Dispatcher::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
    work_.clear();
  }
  scheduler_cv_.notify_all();
  workers_cv_.notify_all();
  if (scheduler_.joinable()) scheduler_.join();
  for (auto& w : workers_) {
    if (w.joinable()) w.join();
  }
  workers_.clear();
}

void Dispatcher::Wake() {
  {
    MutexLock lock(mu_);
    woken_ = true;
  }
  scheduler_cv_.notify_one();
}

DispatcherStats Dispatcher::Stats() const {
  MutexLock lock(mu_);
  return stats_;
}

void Dispatcher::SchedulerLoop() {
  MutexLock lock(mu_);
  while (!stopping_) {
    woken_ = false;
    scanning_ = true;
    lock.Unlock();
    const TimePoint now = clock_.Now();
    auto due = store_.ListDueOutbox(now, kBatch);
    auto next = store_.NextOutboxDue();
    if (scan_hook_) scan_hook_();
    lock.Lock();
    scanning_ = false;
    if (!due.ok()) spdlog::warn("outbox: cannot read due rows: {}", due.error().message);
    bool queued = false;
    if (due.ok()) {
      for (auto& row : due.value()) {
        // An attempt that ended during the read was recorded, perhaps after the read saw
        // the row: the next scan (which that attempt's end wakes) sees its record.
        if (in_flight_.count(row.id) || ended_during_scan_.count(row.id)) continue;
        int& active = active_[row.destination];
        if (active >= options_.per_destination) continue;
        ++active;
        in_flight_.insert(row.id);
        work_.push_back(std::move(row));
        queued = true;
      }
    }
    ended_during_scan_.clear();
    if (queued) workers_cv_.notify_all();
    // Sleep until woken, or until the earliest pending row that is not already in flight is
    // due (rows in flight wake us when they finish).
    TimePoint wake_at = now + options_.idle_poll;
    if (next.ok() && next.value() && *next.value() > now)
      wake_at = std::min(wake_at, *next.value());
    while (!stopping_ && !woken_ && clock_.Now() < wake_at) {
      clock_.WaitUntil(lock.native(), scheduler_cv_, wake_at);
    }
  }
}

void Dispatcher::WorkerLoop() {
  MutexLock lock(mu_);
  for (;;) {
    while (!stopping_ && work_.empty()) lock.Wait(workers_cv_);
    if (stopping_) return;
    OutboxRow row = std::move(work_.front());
    work_.pop_front();
    lock.Unlock();
    const int64_t id = row.id;
    std::string destination = row.destination;
    Attempt(std::move(row));
    lock.Lock();
    in_flight_.erase(id);
    if (scanning_) ended_during_scan_.insert(id);
    if (--active_[destination] <= 0) active_.erase(destination);
    woken_ = true;
    scheduler_cv_.notify_one();
  }
}

size_t Dispatcher::InFlightForTest() const {
  MutexLock lock(mu_);
  return in_flight_.size();
}

size_t Dispatcher::DeliverDueForTest() {
  auto due = store_.ListDueOutbox(clock_.Now(), kBatch);
  if (!due.ok()) return 0;
  for (auto& row : due.value()) Attempt(std::move(row));
  return due.value().size();
}

std::chrono::milliseconds Dispatcher::Backoff(int attempts) {
  const double doubled = static_cast<double>(options_.retry_base.count()) *
                         std::pow(2.0, std::clamp(attempts - 1, 0, 40));
  const auto full =
      static_cast<int64_t>(std::min(doubled, static_cast<double>(options_.retry_max.count())));
  MutexLock lock(mu_);
  std::uniform_int_distribution<int64_t> draw(full / 2, std::max<int64_t>(full / 2, full));
  return std::chrono::milliseconds(draw(random_));
}

void Dispatcher::Attempt(OutboxRow row) {
  const Channel* channel = channels_.Find(row.destination);
  DeliveryOutcome outcome;
  if (!channel) {
    outcome =
        DeliveryOutcome::Failed("destination '" + row.destination + "' is no longer configured");
  } else if (row.request_id.empty()) {
    // An event about no request (an audit checkpoint): the webhook's body holds all of it.
    outcome = channel->Deliver(row, Request{}, "", transport_, options_.call_timeout);
  } else {
    auto request = store_.GetRequest(row.tenant, row.request_id);
    std::string message_ref;
    if (row.kind != "post") {
      auto ref = store_.FindChannelMessage(row.request_id, row.destination);
      if (ref.ok()) message_ref = std::move(ref).value();
    }
    if (!request.ok()) {
      outcome = DeliveryOutcome::Retry("cannot read the request: " + request.error().message);
    } else if (!request.value()) {
      outcome = DeliveryOutcome::Failed("request " + row.request_id + " no longer exists");
    } else {
      outcome =
          channel->Deliver(row, *request.value(), message_ref, transport_, options_.call_timeout);
    }
  }

  const TimePoint now = clock_.Now();
  row.attempts += 1;
  if (outcome.kind == DeliveryOutcome::Kind::kRetry && row.attempts >= options_.max_attempts) {
    outcome = DeliveryOutcome::Failed("gave up after " + std::to_string(row.attempts) +
                                      " attempts; last: " + outcome.error);
  }
  switch (outcome.kind) {
    case DeliveryOutcome::Kind::kDelivered:
      Finish(row, "delivered", "", now);
      break;
    case DeliveryOutcome::Kind::kRetry: {
      const auto delay =
          outcome.retry_after
              ? std::chrono::duration_cast<std::chrono::milliseconds>(*outcome.retry_after)
              : Backoff(row.attempts);
      Finish(row, "pending", outcome.error, now + delay);
      spdlog::info("outbox: {} {} to {} (attempt {}): {}; next in {} ms", row.kind, row.delivery_id,
                   row.destination, row.attempts, outcome.error, delay.count());
      break;
    }
    case DeliveryOutcome::Kind::kFailed:
      Finish(row, "failed", outcome.error, now);
      spdlog::warn("outbox: {} {} to {} failed: {}", row.kind, row.delivery_id, row.destination,
                   outcome.error);
      break;
  }

  std::promise<Status> recorded;
  auto future = recorded.get_future();
  store_.Write(
      [&row, &outcome, now](Transaction& txn) -> Status {
        CS_RETURN_IF_ERROR(txn.UpdateOutbox(row));
        // A post, or an update that had nothing to edit and posted instead, leaves the
        // message later rows edit.
        if (outcome.kind == DeliveryOutcome::Kind::kDelivered && !outcome.message_ref.empty()) {
          CS_RETURN_IF_ERROR(
              txn.PutChannelMessage(row.request_id, row.destination, outcome.message_ref));
        }
        if (outcome.kind == DeliveryOutcome::Kind::kFailed) {
          auto event = txn.AppendEvent({now,
                                        row.tenant,
                                        row.request_id,
                                        "notification.failed",
                                        "system",
                                        {{"destination", row.destination},
                                         {"kind", row.kind},
                                         {"delivery_id", row.delivery_id},
                                         {"attempts", row.attempts},
                                         {"error", row.last_error}}});
          if (!event.ok()) return std::move(event).error();
        }
        return Ok();
      },
      [&recorded](Status s) { recorded.set_value(std::move(s)); });
  Status status = future.get();
  if (!status.ok()) {
    // The row stays as it was: it will be attempted again (same delivery id).
    spdlog::error("outbox: cannot record the attempt on {}: {}", row.delivery_id,
                  status.error().message);
    return;
  }
  MutexLock lock(mu_);
  switch (outcome.kind) {
    case DeliveryOutcome::Kind::kDelivered:
      ++stats_.delivered;
      break;
    case DeliveryOutcome::Kind::kRetry:
      ++stats_.retried;
      break;
    case DeliveryOutcome::Kind::kFailed:
      ++stats_.failed;
      break;
  }
}

}  // namespace countersign
