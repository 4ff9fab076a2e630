// WorkerThreads: the threads a stdio MCP transport runs its slow work on (a tool call waiting
// for a person, a cancel on the gateway), started one per piece of work and joined once done.
//
// Spawn() starts a thread for `work` (an exception it throws is logged, never propagated);
// Reap() joins the threads that have finished, so a long session does not keep them all;
// the destructor joins every thread, waiting for the work still running. Spawn(), Reap() and
// the destructor are for one owning thread only; the work runs on its own threads.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

namespace countersign {

class WorkerThreads {
 public:
  WorkerThreads() = default;
  ~WorkerThreads();
  WorkerThreads(const WorkerThreads&) = delete;
  WorkerThreads& operator=(const WorkerThreads&) = delete;

  // Runs `work` on a new thread; false (logged) when none could be started.
  bool Spawn(std::function<void()> work);

  // Joins the threads whose work has finished.
  void Reap();

 private:
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };

  std::vector<Worker> workers_;
};

}  // namespace countersign
