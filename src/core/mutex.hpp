// Mutex: std::mutex with Clang thread-safety annotations (core/thread_annotations.hpp).
//
// Members it protects are declared CS_GUARDED_BY(mu_); take it with a MutexLock
// (core/mutex_lock.hpp) rather than Lock()/Unlock() by hand. Not recursive. Thread-safe.
#pragma once

#include <mutex>

#include "core/thread_annotations.hpp"

namespace countersign {

class CS_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() CS_ACQUIRE() { mu_.lock(); }
  void Unlock() CS_RELEASE() { mu_.unlock(); }
  bool TryLock() CS_TRY_ACQUIRE(true) { return mu_.try_lock(); }

  // The wrapped std::mutex, for MutexLock's std::unique_lock (which condition variables and
  // Clock::WaitUntil need). Locking it directly bypasses the analysis.
  std::mutex& native() CS_RETURN_CAPABILITY(this) { return mu_; }

 private:
  std::mutex mu_;
};

}  // namespace countersign
