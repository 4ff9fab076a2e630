// MutexLock: holds a Mutex from construction to destruction, like std::unique_lock, in a form
// Clang's thread-safety analysis understands.
//
// Unlock() and Lock() release and retake the mutex inside the scope (to call out without it).
// Wait() and native() are for condition variables: the wait releases the mutex while blocked
// and holds it again when it returns, so to the analysis (and to the caller) the mutex is held
// throughout. A wait may return spuriously: callers re-check their condition in a loop, which
// keeps the guarded reads in the function the analysis checks (a predicate lambda would not
// be seen to hold the lock). Not thread-safe: one thread owns a MutexLock.
#pragma once

#include <condition_variable>
#include <mutex>

#include "core/mutex.hpp"
#include "core/thread_annotations.hpp"

namespace countersign {

class CS_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) CS_ACQUIRE(mu) : lock_(mu.native()) {}
  ~MutexLock() CS_RELEASE() {}
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void Lock() CS_ACQUIRE() { lock_.lock(); }
  void Unlock() CS_RELEASE() { lock_.unlock(); }

  // Blocks until `cv` is notified (or spuriously wakes). The mutex must be held.
  void Wait(std::condition_variable& cv) { cv.wait(lock_); }

  // The held std::unique_lock, for waits that take one (Clock::WaitUntil). The callee may
  // unlock it only while it waits, and must return with it held.
  std::unique_lock<std::mutex>& native() { return lock_; }

 private:
  std::unique_lock<std::mutex> lock_;
};

}  // namespace countersign
