// The `countersign` command line: `serve` and the client commands.
#pragma once

namespace countersign {

// Parses the command line, runs the chosen subcommand and returns the process exit code.
// Usage errors print CLI11's message and exit 3; --help and --version exit 0.
int RunCli(int argc, char** argv);

}  // namespace countersign
