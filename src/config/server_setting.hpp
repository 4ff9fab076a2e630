// ServerSetting: one setting of `countersign serve`, declared once in the table of
// server_settings.cpp. Its flag, COUNTERSIGN_* variable, config-file key, value check,
// default and --help line all come from that one row; nothing else lists the settings.
//
// Rows are immutable after start-up; thread-safe to read.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "config/duration.hpp"
#include "core/result.hpp"

namespace countersign {

struct ServerConfig;

enum class SettingKind {
  kText,      // any string
  kSwitch,    // "on" or "off"; the file also takes "true", "false" and TOML booleans
  kChoice,    // one of `choices`
  kInteger,   // an integer from `min` to `max`
  kDuration,  // a duration (duration.hpp) within `duration`
};

// A value checked against its setting's kind and range, for the row's `apply`.
struct SettingValue {
  std::string text;                       // kText, kChoice
  bool on = false;                        // kSwitch
  int64_t integer = 0;                    // kInteger
  std::chrono::milliseconds duration{0};  // kDuration
};

struct ServerSetting {
  using Apply = Status (*)(const SettingValue& value, const std::string& where,
                           ServerConfig& config);
  using Show = std::string (*)(const ServerConfig& config);

  std::string name{};      // "stream_heartbeat"
  std::string flag{};      // "--stream-heartbeat", derived from the name
  std::string env{};       // "COUNTERSIGN_STREAM_HEARTBEAT", derived from the name
  std::string file_key{};  // dotted: "server.stream_heartbeat_seconds"; empty: not in the file
  SettingKind kind = SettingKind::kText;
  std::string value_name{};    // what --help calls the value: "HOST:PORT", "N", "DURATION"
  std::string default_text{};  // parsed like a flag's value; empty: none (see `help`)
  std::string help{};
  int64_t min = 0;  // kInteger
  int64_t max = 0;
  DurationRange duration{};            // kDuration
  std::vector<std::string> choices{};  // kSwitch and kChoice: what the flag takes
  Apply apply = nullptr;               // stores a checked value into the config
  Show show = nullptr;                 // the setting's value in a config, as a flag would give it

  // A value given as text (a flag, a variable or the default). Errors start with `where`.
  Result<SettingValue> ParseText(std::string_view text, const std::string& where) const;
  // A value from the config file. Errors start with `where` ("FILE:LINE: server.KEY").
  Result<SettingValue> ParseNode(const toml::node& node, const std::string& where) const;
  // ParseText() and apply.
  Status ApplyText(std::string_view text, const std::string& where, ServerConfig& config) const;

  // Whether `text` has the form of the kind (an integer, a duration), ranges aside: what the
  // command-line parser checks. Empty when it has; otherwise what is wrong.
  std::string CheckForm(std::string_view text) const;
  // The --help line: `help`, and the default when there is one.
  std::string HelpText() const;
  // The key as the docs and messages write it: "[server] listen", "[compat.hermes] rate_limit".
  std::string FileKeyText() const;
};

}  // namespace countersign
