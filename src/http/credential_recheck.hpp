// CredentialRecheck: asks, at most once per interval, whether a long-lived stream's caller
// still authenticates (a token revoked after the stream opened must not keep it open).
// Not thread-safe: one session uses it on its strand.
#pragma once

#include <chrono>
#include <functional>
#include <utility>

#include "core/clock.hpp"

namespace countersign {

class CredentialRecheck {
 public:
  // `authorized` null: there is nothing to re-check.
  CredentialRecheck(std::function<bool()> authorized, Millis interval, const Clock& clock)
      : authorized_(std::move(authorized)),
        clock_(clock),
        interval_(interval),
        next_(clock.Now() + interval) {}

  // False once the credentials have been found no longer valid.
  bool StillAuthorized() {
    if (!authorized_) return true;
    const TimePoint now = clock_.Now();
    if (now < next_) return true;
    next_ = now + interval_;
    return authorized_();
  }

 private:
  std::function<bool()> authorized_;
  const Clock& clock_;
  Millis interval_;
  TimePoint next_;
};

}  // namespace countersign
