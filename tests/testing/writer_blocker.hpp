// WriterBlocker: holds a store's writer thread inside one operation until Release() (or the
// destructor), so that every write queued meanwhile is committed together in the next batch.
//
// The constructor returns once the writer is inside the operation; the destructor releases it
// and waits for the operation's `done`. Release() may be called from any thread.
// Header-only: the store tests link the store.
#pragma once

#include <atomic>
#include <latch>

#include "store/store.hpp"

namespace countersign::testing {

class WriterBlocker {
 public:
  explicit WriterBlocker(Store& store) {
    store.Write(
        [this](Transaction&) {
          entered_.count_down();
          release_.wait();
          return Ok();
        },
        [this](Status) { done_.count_down(); });
    entered_.wait();
  }
  ~WriterBlocker() {
    Release();
    done_.wait();
  }
  WriterBlocker(const WriterBlocker&) = delete;
  WriterBlocker& operator=(const WriterBlocker&) = delete;

  void Release() {
    if (!released_.exchange(true)) release_.count_down();
  }

 private:
  std::latch entered_{1};
  std::latch release_{1};
  std::latch done_{1};
  std::atomic<bool> released_{false};
};

}  // namespace countersign::testing
