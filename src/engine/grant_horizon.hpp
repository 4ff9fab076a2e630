// GrantHorizon: the time after which no grant is active, so a submission past it skips the
// grant look-up.
//
// Unknown (every time is within it) until Set() gives what the store holds; Raise() must be
// called before a grant that expires later is written, so the horizon never falls short of
// a grant a reader could find. Lock-free; thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>

#include "core/clock.hpp"

namespace countersign {

class GrantHorizon {
 public:
  // The latest expiry of any unrevoked grant in the store; nullopt when there is none.
  void Set(std::optional<TimePoint> latest_expiry);
  // Makes sure the horizon reaches `expires_at`.
  void Raise(TimePoint expires_at);
  // Whether a grant may still be active at `now`.
  bool Covers(TimePoint now) const;

 private:
  std::atomic<int64_t> horizon_ms_{INT64_MAX};  // unix ms
};

}  // namespace countersign
