#include "engine/deadline_scheduler.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>

#include "core/mutex_lock.hpp"

namespace countersign {

DeadlineScheduler::DeadlineScheduler(Clock& clock, OnDue on_due)
    : clock_(clock), on_due_(std::move(on_due)), window_(0) {
  MutexLock lock(mu_);
  read_all_ = true;
  reading_ = false;
}

DeadlineScheduler::DeadlineScheduler(Clock& clock, OnDue on_due, PendingSource source, int window)
    : clock_(clock),
      on_due_(std::move(on_due)),
      source_(std::move(source)),
      window_(static_cast<size_t>(std::max(window, 1))) {}

DeadlineScheduler::~DeadlineScheduler() { Stop(); }

void DeadlineScheduler::Schedule(std::string tenant, std::string id, TimePoint deadline) {
  MutexLock lock(mu_);
  Add(std::move(tenant), std::move(id), deadline, false);
}

void DeadlineScheduler::Retry(std::string tenant, std::string id, TimePoint at) {
  MutexLock lock(mu_);
  Add(std::move(tenant), std::move(id), at, true);
}

void DeadlineScheduler::Add(std::string tenant, std::string id, TimePoint at, bool retry) {
  Key key{at, std::move(id)};
  // Past the horizon the source holds it, and the read that moves the horizon finds it.
  if (!retry && !read_all_ && !reading_ && key > horizon_) return;
  const bool earliest = entries_.empty() || key < entries_.begin()->first;
  auto [it, added] = entries_.try_emplace(std::move(key), Slot{std::move(tenant), retry});
  if (!added && retry) it->second.retry = true;
  // Not during a read: its result sets the horizon, which must not pass what was dropped.
  if (added && source_ && !reading_) Trim();
  if (earliest) cv_.notify_all();
}

bool DeadlineScheduler::NeedsRead() const {
  if (!source_ || read_all_) return false;
  return entries_.empty() || entries_.begin()->first > horizon_;
}

void DeadlineScheduler::Trim() {
  if (entries_.size() <= 2 * window_) return;
  // Drop the latest entries the source holds, down to one window; the horizon goes back to
  // just before the earliest one dropped, so the next reads bring them back in order.
  auto it = entries_.end();
  const Key* earliest_dropped = nullptr;
  Key dropped;
  while (entries_.size() > window_ && it != entries_.begin()) {
    --it;
    if (it->second.retry) continue;
    dropped = it->first;
    earliest_dropped = &dropped;
    it = entries_.erase(it);
  }
  if (earliest_dropped == nullptr) return;
  // The horizon must be before every dropped key: the held entry before the earliest dropped
  // one, else the same moment with the smallest id (no request has an empty id).
  auto before = entries_.lower_bound(dropped);
  Key horizon =
      before == entries_.begin() ? Key{dropped.first, std::string()} : std::prev(before)->first;
  if (read_all_ || horizon < horizon_) horizon_ = std::move(horizon);
  read_all_ = false;
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
  return entries_.size();
}

int64_t DeadlineScheduler::failed_reads() const {
  MutexLock lock(mu_);
  return failed_reads_;
}

void DeadlineScheduler::Run() {
  MutexLock lock(mu_);
  while (!stopping_) {
    const TimePoint now = clock_.Now();
    const bool needs_read = NeedsRead();
    if (needs_read && now >= next_read_) {
      const DeadlineCursor after{horizon_.first, horizon_.second};
      reading_ = true;
      lock.Unlock();
      auto read = source_(after, static_cast<int>(window_));
      lock.Lock();
      reading_ = false;
      if (!read.ok()) {
        ++failed_reads_;
        next_read_ = clock_.Now() + kReadRetry;
        spdlog::warn("reading the next pending deadlines failed ({}); retrying in 1s",
                     read.error().message);
        continue;
      }
      std::vector<PendingDeadline>& rows = read.value();
      if (!rows.empty()) horizon_ = {rows.back().deadline, rows.back().id};
      read_all_ = rows.size() < window_;
      for (PendingDeadline& row : rows) {
        entries_.try_emplace(Key{row.deadline, std::move(row.id)}, Slot{std::move(row.tenant)});
      }
      // What was scheduled during the read and lies past the new horizon goes back to the
      // source; the window stays bounded.
      if (!read_all_) {
        for (auto it = entries_.upper_bound(horizon_); it != entries_.end();) {
          it = it->second.retry ? std::next(it) : entries_.erase(it);
        }
      }
      Trim();
      continue;
    }
    // Entries past the horizon (retries) wait for the reads to catch up with them, so that
    // everything fires in deadline order.
    TimePoint wake = entries_.empty() ? TimePoint::max() : entries_.begin()->first.first;
    if (needs_read) wake = next_read_;
    if (wake > now) {
      clock_.WaitUntil(lock.native(), cv_, wake);
      continue;
    }
    std::vector<std::pair<std::string, std::string>> due;  // (tenant, id)
    while (!entries_.empty() && entries_.begin()->first.first <= now &&
           (!source_ || read_all_ || entries_.begin()->first <= horizon_)) {
      auto node = entries_.extract(entries_.begin());
      due.emplace_back(std::move(node.mapped().tenant), std::move(node.key().second));
    }
    lock.Unlock();
    for (const auto& [tenant, id] : due) on_due_(tenant, id);
    lock.Lock();
  }
}

}  // namespace countersign
