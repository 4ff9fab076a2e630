// ReadExecutor: a few threads that run blocking store reads, so that no network thread ever
// waits on SQLite.
//
// Post() queues a task and returns at once; one of the threads runs it. The queue is bounded:
// when `max_queued` tasks are already waiting, Post() refuses (returns false) and the caller
// answers "busy" instead of piling up work it cannot finish in time. Stop() lets the threads
// finish every queued task, then joins them; a Post() after Stop() is refused. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "core/mutex.hpp"

namespace countersign {

class ReadExecutor {
 public:
  using Task = std::function<void()>;

  ReadExecutor(size_t threads, size_t max_queued);
  ~ReadExecutor();
  ReadExecutor(const ReadExecutor&) = delete;
  ReadExecutor& operator=(const ReadExecutor&) = delete;

  // False, and `task` is dropped unrun, when the queue is full or the executor has stopped.
  bool Post(Task task);
  void Stop();

  size_t queued() const;
  // Tasks refused because the queue was full, since start.
  uint64_t refused() const;

 private:
  void Loop();

  const size_t max_queued_;
  mutable Mutex mu_;
  std::condition_variable ready_;
  std::deque<Task> tasks_ CS_GUARDED_BY(mu_);
  bool stopping_ CS_GUARDED_BY(mu_) = false;
  uint64_t refused_ CS_GUARDED_BY(mu_) = 0;
  std::vector<std::thread> threads_;
};

}  // namespace countersign
