#include "cli/mcp_command.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>

#include <unistd.h>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "cli/api_gateway.hpp"
#include "cli/exit_codes.hpp"
#include "cli/mcp_options.hpp"
#include "cli/mcp_stdio_server.hpp"
#include "core/counted_noun.hpp"
#include "core/system_clock.hpp"

namespace countersign {
namespace {

constexpr const char* kFooter =
    "Speaks the Model Context Protocol (2025-11-25 and 2025-06-18) on stdin and stdout, one "
    "JSON-RPC message per line; logs go to stderr. Add it to an MCP client as the command "
    "`countersign mcp` with COUNTERSIGN_URL and COUNTERSIGN_TOKEN (an agent token) in its "
    "environment.\n\n"
    "Tools:\n"
    "  request_approval   ask people to approve an action (action, title, details, arguments,\n"
    "                     approvers, timeout_seconds, session) and wait; approved: the\n"
    "                     approvers, the arguments to use (edited or not) and the receipt\n"
    "  ask_human          ask people a question (question, details, response_schema,\n"
    "                     approvers, timeout_seconds) and wait for the answer\n"
    "  get_request        read a request (id)\n"
    "  cancel_request     cancel a pending request (id, reason)\n"
    "  permission_prompt  Claude Code's --permission-prompt-tool: allow or deny a tool use\n"
    "A denied, expired or cancelled request, and any failure, is a tool error whose text "
    "starts with its reason: denied, expired, cancelled, unavailable, invalid_arguments, "
    "not_found, forbidden or conflict (permission_prompt answers deny instead). A waiting "
    "call sends progress every --progress-interval seconds when the client asked for it; a "
    "client's notifications/cancelled cancels the request on the gateway. When stdin ends "
    "the command exits at once; requests still waiting stay pending on the gateway.\n\n"
    "Environment: COUNTERSIGN_URL, COUNTERSIGN_CA_FILE, COUNTERSIGN_TOKEN, "
    "COUNTERSIGN_TOKEN_FILE, COUNTERSIGN_MCP_PROGRESS_SECONDS, and the proxy variables "
    "(https_proxy, http_proxy, NO_PROXY).\n"
    "Exit status: 0 when stdin ends, 3 when the connection options are unusable.";

}  // namespace

void McpCommand::Register(CLI::App& parent, int& exit_code, std::string version) {
  version_ = std::move(version);
  CLI::App* command = parent.add_subcommand(
      "mcp", "Serve MCP over stdio: tools that let an agent ask people for approval or answers");
  command->footer(kFooter);
  connection_.AddTo(*command);
  command->remove_option(command->get_option("--json"));  // the output is MCP, never text
  AddProgressIntervalOption(*command, progress_seconds_);
  CLI::App* proxy = proxy_.Register(*command, exit_code);
  command->callback([this, proxy, &exit_code] {
    if (!proxy->parsed()) exit_code = Run();
  });
}

int McpCommand::Run() const {
  // stdout carries MCP messages only.
  spdlog::set_default_logger(spdlog::stderr_color_mt("countersign-mcp"));
  // A client that closes its end must not kill the process mid-write.
  std::signal(SIGPIPE, SIG_IGN);
  auto api = connection_.Connect();
  if (!api.ok()) return ReportFailure(api.error());
  spdlog::info("serving MCP on stdio for the gateway at {}", api->base_url());

  ApiGateway gateway(std::move(api).value());
  SystemClock clock;
  ToolRunnerOptions runner_options;
  runner_options.progress_interval = std::chrono::seconds(progress_seconds_);
  const ToolRunner runner(gateway, clock, runner_options);
  McpStdioServer server(McpSession(McpServerIdentity{"countersign", version_}), runner,
                        McpSessionNonce(), McpStdioOptions{}, stdout);
  const std::size_t running = server.Serve(STDIN_FILENO);
  if (running == 0) return kExitOk;
  // The client is gone. Waiting for the calls' long-polls would hold the exit up for a slice
  // or more, and nobody would read their answers: exit without unwinding.
  spdlog::info(
      "stdin closed with {} in flight: exiting; their requests stay pending on the gateway",
      CountedNoun(static_cast<int64_t>(running), "call"));
  spdlog::shutdown();
  std::fflush(stdout);
  std::_Exit(kExitOk);
}

}  // namespace countersign
