#include "store/sql/write_queue.hpp"

#include <algorithm>
#include <utility>

#include "core/mutex_lock.hpp"

namespace countersign {

void WriteQueue::Push(PendingWrite write, std::optional<Error> refusal) {
  if (!refusal) {
    MutexLock lock(mu_);
    if (closed_) {
      refusal = Error::Unavailable("store is shutting down");
    } else if (queue_.size() >= capacity_) {
      refusal = Error::Unavailable("store write queue is full");
    } else {
      queue_.push_back(std::move(write));
    }
  }
  if (refusal) {
    if (write.done) write.done(std::move(*refusal));
    return;
  }
  work_cv_.notify_one();
}

bool WriteQueue::TakeBatch(std::vector<PendingWrite>& batch, size_t max) {
  batch.clear();
  MutexLock lock(mu_);
  while (!closed_ && queue_.empty()) lock.Wait(work_cv_);
  if (queue_.empty()) return false;  // closed, and everything queued was handed out
  const size_t n = std::min(queue_.size(), max);
  batch.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return true;
}

void WriteQueue::Close() {
  {
    MutexLock lock(mu_);
    closed_ = true;
  }
  work_cv_.notify_all();
}

size_t WriteQueue::size() const {
  MutexLock lock(mu_);
  return queue_.size();
}

}  // namespace countersign
