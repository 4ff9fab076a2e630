// `countersign mcp proxy [--config FILE] [--gate GLOB]... [--name SERVER] -- COMMAND ARGS...`
// or `... --upstream-url URL [--listen IP:PORT] [--upstream-header 'Name: value']...`: an MCP
// gateway in front of another MCP server.
//
// Starts COMMAND (no shell; its stderr is ours) as the upstream MCP server and stands between
// it and the MCP client on stdin/stdout (cli/mcp_proxy.hpp): tools/call of a gated tool waits
// for a person's approval on the gateway first, and the upstream's elicitations can be
// answered by a person through the gateway (mcp/elicitation_bridge.hpp). A client of the
// gateway like `countersign mcp` (--url, --token, --token-file or the environment). Exit
// status: the upstream's (128+N when signal N ended it); 3 bad usage, an unusable config file
// or connection options; 127 COMMAND cannot be started. When stdin ends the upstream's stdin
// is closed, and it gets SIGTERM (then SIGKILL) if it does not exit within a second; SIGINT
// or SIGTERM to the proxy is passed on the same way. Registered on a CLI11 app; the object
// must outlive the parse.
//
// With --upstream-url the upstream is an MCP server over Streamable HTTP instead, and the
// proxy serves the agent over Streamable HTTP on --listen (cli/mcp_http_proxy.hpp), printing
// "listening on http://IP:PORT/mcp" on stderr once it listens; it runs until SIGINT or
// SIGTERM (exit status 0). Not thread-safe.
#pragma once

#include <string>
#include <vector>

#include "cli/connection_options.hpp"
#include "mcp/mcp_gate_set.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace countersign {

class McpProxyCommand {
 public:
  // Adds `proxy` to `mcp`, the `countersign mcp` command; returns it.
  CLI::App* Register(CLI::App& mcp, int& exit_code);

  // Takes the upstream's command line out of `args` (the command line without the program
  // name) when it is `mcp ... proxy ... -- COMMAND ARGS...`: everything after the first `--`,
  // which is removed too, before CLI11 sees it.
  void TakeCommand(std::vector<std::string>& args);

 private:
  int Run() const;
  int RunStdio(std::vector<McpGate> gates, bool always_bridge) const;
  int RunHttp(std::vector<McpGate> gates, bool always_bridge) const;

  ConnectionOptions connection_;
  std::string config_file_;
  std::vector<std::string> gates_;
  std::string name_;
  bool bridge_elicitation_ = false;
  int progress_seconds_ = 5;
  std::string upstream_url_;
  std::string upstream_ca_file_;
  std::string listen_ = "127.0.0.1:7401";
  bool listen_given_ = false;
  std::vector<std::string> upstream_headers_;
  std::vector<std::string> command_;  // from TakeCommand()
  std::vector<std::string> stray_;    // words CLI11 found before `--`: a usage error
};

}  // namespace countersign
