// The settings table of `countersign serve` (ClickHouse's Settings.h in spirit): each setting
// is declared once, in server_settings.cpp, and its flag (--NAME with '-' for '_'), variable
// (COUNTERSIGN_NAME in capitals), config-file key, check, default and --help line come from
// that row. The command-line parser, LoadServerConfig() and the docs' table follow it.
// Thread-safe: built once, on first use, then read-only.
#pragma once

#include <string_view>
#include <vector>

#include "config/server_setting.hpp"

namespace countersign {

// Every setting, in the order --help lists them.
const std::vector<ServerSetting>& ServerSettings();

// The row named `name`; nullptr when there is none.
const ServerSetting* FindServerSetting(std::string_view name);

}  // namespace countersign
