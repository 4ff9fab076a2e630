// WriteQueue: the bounded queue between Store::Write() callers and a store's writer thread,
// shared by SqliteStore and PgStore.
//
// Push() refuses at once (kUnavailable, calling `done` on the caller's thread) when the queue
// is full, after Close(), or with the error `refusal` names (a writer stopped for good); the
// writer takes everything queued, up to a batch, with TakeBatch(), which blocks until there is
// work and returns false once the queue is closed and empty (everything queued before Close()
// is still handed out). Thread-safe.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <optional>
#include <vector>

#include "core/mutex.hpp"
#include "core/thread_annotations.hpp"
#include "store/sql/pending_write.hpp"

namespace countersign {

class WriteQueue {
 public:
  explicit WriteQueue(size_t capacity) : capacity_(capacity) {}

  // Queues the write, or calls `write.done` with why it is refused: `refusal` when set, then a
  // closed or full queue.
  void Push(PendingWrite write, std::optional<Error> refusal = std::nullopt);
  // Waits for work; moves up to `max` queued writes into `batch` (cleared first). False when
  // the queue is closed and empty: the writer is done.
  bool TakeBatch(std::vector<PendingWrite>& batch, size_t max);
  // Refuses later Push()es and wakes the writer so it can finish. Idempotent.
  void Close();
  size_t size() const;

 private:
  const size_t capacity_;
  mutable Mutex mu_;
  std::condition_variable work_cv_;  // signalled when queue_ grows or closed_ is set
  std::deque<PendingWrite> queue_ CS_GUARDED_BY(mu_);
  bool closed_ CS_GUARDED_BY(mu_) = false;
};

}  // namespace countersign
