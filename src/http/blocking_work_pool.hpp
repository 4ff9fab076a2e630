// BlockingWorkPool: a few threads of its own for work that blocks (an outbound HTTP call
// through the HttpTransport), so a handler coroutine never holds a network thread while it
// waits. A coroutine hands a job over with Post() and resumes from the job's callback
// (through AwaitCallback).
//
// Bounded: at most `max_queued` jobs wait; past that Post() answers false at once and the job
// is not run (the caller says the server is busy). Jobs run in the order posted. The
// destructor stops taking jobs, lets the queued ones finish (each bounded by its own
// timeouts) and joins the threads. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "core/mutex.hpp"

namespace countersign {

class BlockingWorkPool {
 public:
  BlockingWorkPool(size_t threads, size_t max_queued);
  ~BlockingWorkPool();
  BlockingWorkPool(const BlockingWorkPool&) = delete;
  BlockingWorkPool& operator=(const BlockingWorkPool&) = delete;

  // False, without running `job`, when the queue is full or the pool is stopping.
  bool Post(std::function<void()> job);

 private:
  void Run();

  const size_t max_queued_;
  Mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_ CS_GUARDED_BY(mu_);
  bool stopping_ CS_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace countersign
