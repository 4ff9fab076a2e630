#include "engine/read_executor.hpp"

#include <utility>

#include "core/mutex_lock.hpp"

namespace countersign {

ReadExecutor::ReadExecutor(size_t threads, size_t max_queued) : max_queued_(max_queued) {
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

ReadExecutor::~ReadExecutor() { Stop(); }

bool ReadExecutor::Post(Task task) {
  {
    MutexLock lock(mu_);
    if (stopping_) return false;
    if (tasks_.size() >= max_queued_) {
      ++refused_;
      return false;
    }
    tasks_.push_back(std::move(task));
  }
  ready_.notify_one();
  return true;
}

void ReadExecutor::Stop() {
  {
    MutexLock lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  ready_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

size_t ReadExecutor::queued() const {
  MutexLock lock(mu_);
  return tasks_.size();
}

uint64_t ReadExecutor::refused() const {
  MutexLock lock(mu_);
  return refused_;
}

void ReadExecutor::Loop() {
  for (;;) {
    Task task;
    {
      MutexLock lock(mu_);
      while (!stopping_ && tasks_.empty()) lock.Wait(ready_);
      // Stopping still drains the queue: every accepted task's caller gets its answer.
      if (tasks_.empty()) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

}  // namespace countersign
