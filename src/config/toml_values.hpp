// Typed reads of one TOML value, shared by every table's reader. Each fails with
// Error::Invalid whose message starts with `where` (see where.hpp) and says what the value
// must be. Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "config/duration.hpp"
#include "core/result.hpp"

namespace countersign {

// A TOML string, possibly empty: "... must be a string".
Result<std::string> ReadText(const toml::node& node, const std::string& where);

// A TOML string with at least one character: "... must be a non-empty string".
Result<std::string> ReadNonEmptyText(const toml::node& node, const std::string& where);

// A TOML boolean: "... must be true or false".
Result<bool> ReadBool(const toml::node& node, const std::string& where);

// A TOML integer in [lo, hi]: "... must be an integer", then "... must be LO-HI".
Result<int64_t> ReadInteger(const toml::node& node, const std::string& where, int64_t lo,
                            int64_t hi);

// The same, with one message for both failures: "... must be an integer LO-HI".
Result<int64_t> ReadIntegerBetween(const toml::node& node, const std::string& where, int64_t lo,
                                   int64_t hi);

// A duration string (duration.hpp) or a TOML integer number of seconds, within `range`.
Result<std::chrono::milliseconds> ReadDuration(const toml::node& node, const std::string& where,
                                               const DurationRange& range);

// An array of strings: "... must be an array of strings", or with `allow_empty_items` false
// and an empty item, "... must be an array of non-empty strings".
Result<std::vector<std::string>> ReadStringList(const toml::node& node, const std::string& where,
                                                bool allow_empty_items);

}  // namespace countersign
