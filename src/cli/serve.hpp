// `countersign serve`: the command-line side of running a server.
#pragma once

#include <CLI/CLI.hpp>

#include "config/server_config.hpp"

namespace countersign {

// Adds the `serve` subcommand to `app`: one option per row of the settings table
// (config/server_settings.hpp), with its COUNTERSIGN_* variable, storing what was given into
// `options`. Only parses; Serve() reads the config file and applies the defaults.
CLI::App* AddServeCommand(CLI::App& app, ServeOptions& options);

// Loads the configuration, builds the Server and runs it until SIGINT or SIGTERM. Returns 0
// after a clean shutdown, 1 when start-up fails (the reason is logged).
int Serve(const ServeOptions& options);

}  // namespace countersign
