#include "cli/mcp_options.hpp"

#include <random>

#include <CLI/CLI.hpp>

#include "cli/number_option.hpp"
#include "core/sha256.hpp"

namespace countersign {

void AddProgressIntervalOption(CLI::App& command, int& seconds) {
  command
      .add_option("--progress-interval", seconds,
                  "seconds between progress notifications while a call waits (1 to 60, "
                  "default 5)")
      ->type_name("SECONDS")
      ->envname("COUNTERSIGN_MCP_PROGRESS_SECONDS")
      ->check(WholeNumber(1, 60));
}

std::string McpSessionNonce() {
  std::random_device random;
  std::string bytes;
  for (int i = 0; i < 4; ++i) {
    const auto word = random();
    for (int b = 0; b < 4; ++b) bytes.push_back(static_cast<char>((word >> (8 * b)) & 0xff));
  }
  return HexEncode(bytes);
}

}  // namespace countersign
