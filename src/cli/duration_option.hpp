// Command-line options that take a duration (config/duration.hpp: "90s", "15m", "1h30m", or
// a plain number of seconds) and hand the command a whole number of seconds.
#pragma once

#include <cstdint>

#include <CLI/CLI.hpp>

namespace countersign {

// A CLI11 transform: "15m" becomes "900", "600" stays "600". Refuses, as a usage error naming
// the option, a value that is not a duration, has a fraction of a second, or is under
// `min_seconds`.
CLI::Validator DurationSeconds(int64_t min_seconds);

}  // namespace countersign
