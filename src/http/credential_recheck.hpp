// CredentialRecheck: asks, at most once per interval, whether a long-lived stream's caller
// still authenticates (a token revoked after the stream opened must not keep it open).
// Not thread-safe: one session uses it on its strand.
#pragma once

#include <chrono>
#include <functional>
#include <utility>

namespace countersign {

class CredentialRecheck {
 public:
  // `authorized` null: there is nothing to re-check.
  CredentialRecheck(std::function<bool()> authorized, std::chrono::steady_clock::duration interval)
      : authorized_(std::move(authorized)),
        interval_(interval),
        next_(std::chrono::steady_clock::now() + interval) {}

  // False once the credentials have been found no longer valid.
  bool StillAuthorized() {
    if (!authorized_) return true;
    const auto now = std::chrono::steady_clock::now();
    if (now < next_) return true;
    next_ = now + interval_;
    return authorized_();
  }

 private:
  std::function<bool()> authorized_;
  std::chrono::steady_clock::duration interval_;
  std::chrono::steady_clock::time_point next_;
};

}  // namespace countersign
