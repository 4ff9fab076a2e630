#include "cli/worker_threads.hpp"

#include <exception>

#include <spdlog/spdlog.h>

namespace countersign {

WorkerThreads::~WorkerThreads() {
  for (auto& worker : workers_) {
    if (worker.thread.joinable()) worker.thread.join();
  }
}

bool WorkerThreads::Spawn(std::function<void()> work) {
  auto done = std::make_shared<std::atomic<bool>>(false);
  try {
    std::thread thread([work = std::move(work), done] {
      try {
        work();
      } catch (const std::exception& e) {
        spdlog::error("MCP worker failed: {}", e.what());
      }
      done->store(true);
    });
    workers_.push_back(Worker{std::move(thread), std::move(done)});
    return true;
  } catch (const std::exception& e) {
    spdlog::error("cannot start a thread: {}", e.what());
    return false;
  }
}

void WorkerThreads::Reap() {
  std::vector<Worker> running;
  for (auto& worker : workers_) {
    if (worker.done->load()) {
      worker.thread.join();
    } else {
      running.push_back(std::move(worker));
    }
  }
  workers_ = std::move(running);
}

}  // namespace countersign
