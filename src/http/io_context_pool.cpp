#include "http/io_context_pool.hpp"

#include <algorithm>

namespace countersign {

IoContextPool::IoContextPool(int size) {
  const int n = std::max(1, size);
  for (int i = 0; i < n; ++i) {
    // One thread per context: asio can then skip the locking a shared queue needs.
    contexts_.push_back(std::make_unique<asio::io_context>(1));
    guards_.emplace_back(contexts_.back()->get_executor());
  }
}

IoContextPool::~IoContextPool() {
  Release();
  Join();
}

void IoContextPool::Start() {
  if (!threads_.empty()) return;
  for (auto& context : contexts_) {
    threads_.emplace_back([&io = *context] { io.run(); });
  }
}

asio::any_io_executor IoContextPool::Next() {
  const size_t i = next_.fetch_add(1, std::memory_order_relaxed) % contexts_.size();
  return contexts_[i]->get_executor();
}

void IoContextPool::Release() {
  for (auto& guard : guards_) guard.reset();
}

void IoContextPool::Join() {
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

}  // namespace countersign
