// What `countersign mcp` and `countersign mcp proxy` share: the --progress-interval option and
// the random nonce that makes a run's idempotency keys (and the proxy's session) its own.
// Not thread-safe (CLI set-up); McpSessionNonce() is.
#pragma once

#include <string>

namespace CLI {
class App;
}  // namespace CLI

namespace countersign {

// Adds --progress-interval SECONDS (1 to 60, env COUNTERSIGN_MCP_PROGRESS_SECONDS) to
// `command`, bound to `seconds`, which must outlive the parse.
void AddProgressIntervalOption(CLI::App& command, int& seconds);

// 128 random bits as 32 hex digits.
std::string McpSessionNonce();

}  // namespace countersign
