// IdGenerator: prefixed, time-ordered identifiers ("req_01JD3Z6Q8W9K4M2N7P5R0S1T2V").
//
// The 26-character body is a ULID (48-bit millisecond time, 80 random bits, Crockford
// base32). Ids from one generator sort in the order they were made, even within one
// millisecond, so they double as a stable pagination cursor. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "core/clock.hpp"

namespace countersign {

class IdGenerator {
 public:
  explicit IdGenerator(const Clock& clock) : clock_(clock) {}

  std::string Next(std::string_view prefix);

 private:
  const Clock& clock_;
  std::mutex mu_;
  int64_t last_ms_ = -1;              // guarded by mu_
  std::array<uint8_t, 10> random_{};  // guarded by mu_
};

// True when `id` is `prefix` followed by 26 Crockford base32 characters.
bool IsWellFormedId(std::string_view id, std::string_view prefix);

}  // namespace countersign
