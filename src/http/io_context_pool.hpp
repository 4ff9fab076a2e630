// IoContextPool: one io_context per network thread, each run by a thread of its own.
//
// A connection placed on a context (Next(), in turn) stays there for its whole life, so its
// handlers never move between threads, need no strand, and the threads never wake each other
// to share one queue. The contexts keep running, even with nothing to do, until Release();
// then each run() returns once its last connection has ended, and Join() waits for that.
// Next() is thread-safe; Start(), Release() and Join() are for the owning thread.
#pragma once

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "http/beast.hpp"

namespace countersign {

class IoContextPool {
 public:
  explicit IoContextPool(int size);
  // Releases and joins.
  ~IoContextPool();
  IoContextPool(const IoContextPool&) = delete;
  IoContextPool& operator=(const IoContextPool&) = delete;

  void Start();
  asio::any_io_executor Next();
  void Release();
  void Join();

  size_t size() const { return contexts_.size(); }

 private:
  using Guard = asio::executor_work_guard<asio::io_context::executor_type>;

  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<Guard> guards_;
  std::vector<std::thread> threads_;
  std::atomic<size_t> next_{0};
};

}  // namespace countersign
