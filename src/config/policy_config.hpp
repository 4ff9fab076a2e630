// Reading the policy side of the config file: [groups], [[policy]], [risk] and [limits].
//
// ReadPolicyTables() turns a parsed TOML document into a PolicySet and a LimitsConfig,
// checking every value; the first problem found is returned as Error::Invalid with the
// file, line and key, e.g. "countersign.toml:14: policy[1].quorum must be 1-100". Policies
// are numbered from 0 in file order. Never throws. Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "config/server_config.hpp"
#include "core/result.hpp"
#include "notify/channel_settings.hpp"

namespace countersign {

// Reads [groups], [[policy]], [risk] and [limits] of `root`, which was parsed from `file`
// (used only in messages). Other top-level keys are left to the caller. A policy without
// `timeout` gets `default_timeout` ([server] default_timeout_seconds); every `notify` entry
// must name one of `channels` (the file's [[channel]] tables) or a type of them.
Result<LoadedConfigFile> ReadPolicyTables(const toml::table& root, const std::string& file,
                                          std::chrono::seconds default_timeout,
                                          const std::vector<ChannelSettings>& channels);

// "60/1m": at most 60 in any minute; the window is a duration (duration.hpp, no plain
// integers) and may omit a count of 1 ("60/m"). "0" or
// "0/<window>" means unlimited and yields {0, 0s}. nullopt when malformed.
std::optional<std::pair<int, std::chrono::seconds>> ParseRate(std::string_view text);

}  // namespace countersign
