// ServerConfig: the settings `countersign serve` runs with, and where each came from.
//
// Precedence: command-line flag, then COUNTERSIGN_* variable (both arrive as ServeOptions),
// then the TOML file's [server] table, then the defaults below. Loading validates every
// value; an error names the key (and, for the file, its line) and start-up stops.
#pragma once

#include <chrono>
#include <string>

#include "cli/serve.hpp"
#include "core/result.hpp"

namespace countersign {

struct ServerConfig {
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 7400;
  std::string store_path = "./data/countersign.db";  // from "sqlite:PATH"
  bool auth = true;
  std::string data_dir;  // default: the directory holding the database
  std::string port_file;
  std::string log_level = "info";
  int threads = 0;  // 0: one per core
  std::chrono::seconds default_timeout{300};
  size_t body_limit = 1 << 20;
};

Result<ServerConfig> LoadServerConfig(const ServeOptions& options);

// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(const std::string& host);

}  // namespace countersign
