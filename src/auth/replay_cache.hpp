// ReplayCache: remembers the ids of inbound callbacks (a Slack signature, a Discord interaction
// id, a Telegram update_id) accepted within a window, so that the same callback sent again
// (captured and replayed, with its valid signature) is refused instead of acted on twice.
//
// Only callbacks that passed their platform's authentication are remembered, so nobody
// without the secret can fill it. It holds at most `capacity` ids; when full of live ones, the
// oldest is dropped, which reopens a replay only for that callback (the engine counts each
// person's vote once anyway). Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <unordered_set>
#include <utility>

#include "core/mutex.hpp"
#include "core/result.hpp"

namespace countersign {

class ReplayCache {
 public:
  ReplayCache(std::chrono::seconds window, size_t capacity)
      : window_(window), capacity_(capacity) {}

  // Ok the first time `id` is seen; kUnauthorized when it was accepted within the window.
  // `at_seconds`: when the callback was sent (its signed timestamp) or, without one, received.
  Status Admit(std::string id, int64_t at_seconds, int64_t now_seconds);

  size_t size() const;

 private:
  void ForgetExpired(int64_t now_seconds) CS_REQUIRES(mu_);

  const std::chrono::seconds window_;
  const size_t capacity_;
  mutable Mutex mu_;
  // The accepted ids, and the same ordered by time for expiry.
  std::unordered_set<std::string> seen_ CS_GUARDED_BY(mu_);
  std::set<std::pair<int64_t, std::string>> by_time_ CS_GUARDED_BY(mu_);
};

}  // namespace countersign
