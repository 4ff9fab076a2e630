// IdGenerator: prefixed, time-ordered identifiers ("req_01JD3Z6Q8W9K4M2N7P5R0S1T2V").
//
// The 26-character body is a ULID (48-bit millisecond time, 80 random bits, Crockford
// base32). Ids from one generator sort in the order they were made, even within one
// millisecond, so they double as a stable pagination cursor. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/mutex.hpp"

namespace countersign {

class IdGenerator {
 public:
  explicit IdGenerator(const Clock& clock) : clock_(clock) {}

  std::string Next(std::string_view prefix);

 private:
  const Clock& clock_;
  Mutex mu_;
  int64_t last_ms_ CS_GUARDED_BY(mu_) = -1;
  std::array<uint8_t, 10> random_ CS_GUARDED_BY(mu_) = {};
};

// True when `id` is `prefix` followed by 26 Crockford base32 characters.
bool IsWellFormedId(std::string_view id, std::string_view prefix);

}  // namespace countersign
