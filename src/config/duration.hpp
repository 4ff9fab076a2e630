// The one duration grammar of countersign: config keys, serve flags and CLI options.
//
// A duration is one or more NUMBER UNIT pairs, the units `d`, `h`, `m`, `s` and `ms` each at
// most once and in that (descending) order: "250ms", "30s", "15m", "1h30m", "7d", "1m30s500ms".
// Lower case, no spaces, signs or fractions ("1.5h" is an error; write "1h30m"). Every key and
// flag that took a number of seconds before still does: a plain integer ("90", or a TOML
// integer) is that many seconds. Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace countersign {

// The grammar alone (no plain integers): nullopt when `text` is not a duration.
std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text);

// `duration` in the largest unit that divides it: "15m", "2h", "1d", "90s", "250ms".
std::string DurationText(std::chrono::milliseconds duration);

// The values a key or flag accepts.
struct DurationRange {
  std::chrono::milliseconds min{0};
  std::chrono::milliseconds max{0};
  // Kept in whole seconds (a deadline, a TTL): "1500ms" is refused rather than rounded.
  bool whole_seconds = true;
};

// A key's or flag's value: the grammar or a plain integer number of seconds, checked against
// `range`. Error::Invalid starts with `where` (e.g. "countersign.toml:3: policy[0].timeout" or
// "--ttl") and says what is wrong: "... must be between 1s and 30d".
Result<std::chrono::milliseconds> ParseDurationValue(std::string_view text,
                                                     const std::string& where,
                                                     const DurationRange& range);

// The ParseDurationValue() checks for a value that arrived as a number of seconds (a TOML
// integer).
Result<std::chrono::milliseconds> CheckDurationSeconds(int64_t seconds, const std::string& where,
                                                       const DurationRange& range);

}  // namespace countersign
