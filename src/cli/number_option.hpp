// Command-line options that take a whole number in a range (--quorum, --limit, ...), refused
// in plain words: "--limit: must be a whole number from 1 to 500, got '0'".
#pragma once

#include <cstdint>
#include <limits>

#include <CLI/CLI.hpp>

namespace countersign {

// A CLI11 check: the value is decimal digits (a leading '-' for a negative `min`) whose number
// lies in [min, max]. `max` at its default reads "N or more". Thread-safe once built.
CLI::Validator WholeNumber(int64_t min, int64_t max = std::numeric_limits<int64_t>::max());

}  // namespace countersign
