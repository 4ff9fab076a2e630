// Command-line options that take a duration (config/duration.hpp: "90s", "15m", "1h30m", or
// a plain number of seconds) and hand the command a whole number of seconds.
#pragma once

#include <cstdint>

#include <CLI/CLI.hpp>

namespace countersign {

// A CLI11 transform: "15m" becomes "900", "600" stays "600". Refuses, as a usage error naming
// the option in plain words, a value that is not a duration ("--ttl: must be a duration such
// as 90s, 15m or 1h (or a number of seconds), got 'soon'"), has a fraction of a second, or is
// under `min_seconds` or over about 68 years ("must be a duration from 1s to 24855d").
CLI::Validator DurationSeconds(int64_t min_seconds);

}  // namespace countersign
