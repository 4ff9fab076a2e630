// `countersign mcp`: an MCP server over stdio whose tools ask the gateway's people.
//
// A client of the gateway like the other client commands (--url, --token, --token-file, or
// COUNTERSIGN_URL / COUNTERSIGN_TOKEN / COUNTERSIGN_TOKEN_FILE). Speaks MCP on stdin/stdout
// (mcp/mcp_session.hpp, cli/mcp_stdio_server.hpp), logs to stderr. Exits 0 when stdin ends,
// at once even with calls in flight: their requests stay pending on the gateway, where
// they can still be decided, cancelled or left to expire. Exits 3 when the connection
// options are unusable. Registered on a CLI11 app; the object must outlive the parse. Not
// thread-safe.
#pragma once

#include <string>
#include <vector>

#include "cli/connection_options.hpp"
#include "cli/mcp_proxy_command.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace countersign {

class McpCommand {
 public:
  // Adds `mcp` to `parent`; `version` is what serverInfo reports. The exit code goes to
  // `exit_code`.
  void Register(CLI::App& parent, int& exit_code, std::string version);

  // Takes `mcp proxy`'s upstream command line out of `args` before parsing
  // (McpProxyCommand::TakeCommand).
  void TakeCommand(std::vector<std::string>& args) { proxy_.TakeCommand(args); }

 private:
  int Run() const;

  ConnectionOptions connection_;
  int progress_seconds_ = 5;
  std::string version_;
  McpProxyCommand proxy_;  // `countersign mcp proxy`
};

}  // namespace countersign
