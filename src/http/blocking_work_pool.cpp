#include "http/blocking_work_pool.hpp"

#include "core/mutex_lock.hpp"

namespace countersign {

BlockingWorkPool::BlockingWorkPool(size_t threads, size_t max_queued) : max_queued_(max_queued) {
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

BlockingWorkPool::~BlockingWorkPool() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

bool BlockingWorkPool::Post(std::function<void()> job) {
  {
    MutexLock lock(mu_);
    if (stopping_ || queue_.size() >= max_queued_) return false;
    queue_.push_back(std::move(job));
  }
  wake_.notify_one();
  return true;
}

void BlockingWorkPool::Run() {
  for (;;) {
    std::function<void()> job;
    {
      MutexLock lock(mu_);
      while (!stopping_ && queue_.empty()) lock.Wait(wake_);
      if (queue_.empty()) return;  // stopping, and nothing is left to run
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job();
  }
}

}  // namespace countersign
