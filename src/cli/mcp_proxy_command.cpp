#include "cli/mcp_proxy_command.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "cli/agent_http_server.hpp"
#include "cli/api_gateway.hpp"
#include "cli/exit_codes.hpp"
#include "cli/http_header_option.hpp"
#include "cli/http_url.hpp"
#include "cli/listen_address.hpp"
#include "cli/mcp_http_proxy.hpp"
#include "cli/mcp_http_upstream.hpp"
#include "cli/mcp_options.hpp"
#include "cli/mcp_proxy.hpp"
#include "cli/signal_relay.hpp"
#include "cli/upstream_process.hpp"
#include "config/mcp_gate_config.hpp"
#include "core/counted_noun.hpp"
#include "core/system_clock.hpp"

namespace countersign {
namespace {

constexpr int kExitCannotStart = 127;
// How long the upstream gets to exit after its stdin closes, and again after SIGTERM: the
// TypeScript SDK's client gives us 2 s before its own SIGTERM.
constexpr Millis kUpstreamGrace(800);

constexpr const char* kFooter =
    "Runs COMMAND as an MCP server over stdio and serves its tools to the MCP client on stdin "
    "and stdout, unchanged, except that a tools/call of a gated tool first becomes an approval "
    "request on the gateway (action mcp.<server>.<tool>, the call's arguments, the session of "
    "this run): approved, the call goes upstream with the approver's edited arguments if any; "
    "denied, expired or cancelled, the client gets a tool error \"<reason>: ...\" and the "
    "upstream never sees it. While it waits the client gets progress when it asked for it.\n\n"
    "Elicitations: when the client declared no elicitation capability (or with "
    "--bridge-elicitation, or a gate's bridge_elicitation = true) the proxy declares it "
    "upstream and answers the upstream's elicitation/create itself: a person fills in the form "
    "(link page, CLI --field, chat) or declines.\n\n"
    "Config file (--config): [[mcp.gate]] tables with tool (glob, required), action, "
    "approvers, timeout_seconds, bridge_elicitation.\n\n"
    "Exit status: the upstream's; 3 bad usage, config or connection options; 127 COMMAND "
    "cannot be started.\n\n"
    "Streamable HTTP: with --upstream-url URL (http:// or https://, verified against the "
    "system's CAs or --upstream-cacert; no COMMAND) the upstream is an MCP server over HTTP, "
    "and the agent connects to http://IP:PORT/mcp on --listen (default 127.0.0.1:7401; port 0 "
    "picks one), printed on stderr once listening. POST and DELETE "
    "/mcp are relayed with Mcp-Session-Id and MCP-Protocol-Version; GET is 405; a foreign "
    "Origin 403; an unreachable upstream 502. --upstream-header adds a header (a bearer "
    "token) to every upstream request. Runs until SIGINT or SIGTERM (exit status 0).";

}  // namespace

CLI::App* McpProxyCommand::Register(CLI::App& mcp, int& exit_code) {
  CLI::App* command = mcp.add_subcommand(
      "proxy", "Stand in front of another MCP server: gated tools wait for a person's approval");
  command->footer(kFooter);
  connection_.AddTo(*command);
  command->remove_option(command->get_option("--json"));
  command->add_option("--config", config_file_, "TOML file with [[mcp.gate]] tables")
      ->type_name("FILE");
  command->add_option("--gate", gates_, "a tool name glob to hold for approval (repeatable)")
      ->type_name("TOOL_GLOB");
  command
      ->add_option("--name", name_,
                   "the upstream's name in actions and titles (default: COMMAND's basename, or "
                   "the URL's host)")
      ->type_name("SERVER");
  command
      ->add_option("--upstream-url", upstream_url_,
                   "the upstream MCP server's Streamable HTTP endpoint (instead of -- COMMAND)")
      ->type_name("URL");
  command
      ->add_option("--upstream-cacert", upstream_ca_file_,
                   "with an https:// --upstream-url: trust the CA certificates in FILE (PEM) "
                   "instead of the system's")
      ->type_name("FILE");
  command
      ->add_option("--listen", listen_,
                   "with --upstream-url: where the agent connects (default 127.0.0.1:7401)")
      ->type_name("IP:PORT")
      ->each([this](const std::string&) { listen_given_ = true; });
  command
      ->add_option("--upstream-header", upstream_headers_,
                   "with --upstream-url: a header for every upstream request (repeatable)")
      ->type_name("'NAME: VALUE'");
  command->add_flag("--bridge-elicitation", bridge_elicitation_,
                    "answer the upstream's elicitations through the gateway even when the client "
                    "can answer them");
  AddProgressIntervalOption(*command, progress_seconds_);
  command->add_option("command", stray_, "the upstream MCP server's command line, after --")
      ->type_name("-- COMMAND [ARGS...]");
  command->callback([this, &exit_code] { exit_code = Run(); });
  return command;
}

void McpProxyCommand::TakeCommand(std::vector<std::string>& args) {
  if (args.empty() || args.front() != "mcp") return;
  const auto separator = std::find(args.begin(), args.end(), "--");
  if (std::find(args.begin(), separator, "proxy") == separator) return;
  if (separator == args.end()) return;
  command_.assign(separator + 1, args.end());
  args.erase(separator, args.end());
}

int McpProxyCommand::Run() const {
  // stdout carries MCP messages only.
  spdlog::set_default_logger(spdlog::stderr_color_mt("countersign-mcp-proxy"));
  const bool has_command = !stray_.empty() || !command_.empty();
  if (!upstream_url_.empty() && has_command) {
    std::cerr << "countersign: mcp proxy takes either --upstream-url URL or the upstream's "
                 "command after --, not both\n";
    return kExitError;
  }
  if (upstream_url_.empty() && (!stray_.empty() || command_.empty())) {
    std::cerr << "countersign: mcp proxy needs the upstream: --upstream-url URL, or its command "
                 "after --, e.g. countersign mcp proxy --gate 'delete_*' -- npx my-mcp-server\n";
    return kExitError;
  }
  if (upstream_url_.empty() && (listen_given_ || !upstream_headers_.empty())) {
    std::cerr << "countersign: --listen and --upstream-header go with --upstream-url\n";
    return kExitError;
  }
  if (upstream_url_.empty() && !upstream_ca_file_.empty()) {
    std::cerr << "countersign: --upstream-cacert goes with --upstream-url\n";
    return kExitError;
  }
  std::vector<McpGate> gates;
  if (!config_file_.empty()) {
    auto read = ReadMcpGateFile(config_file_);
    if (!read.ok()) {
      std::cerr << "countersign: " << read.error().message << "\n";
      return kExitError;
    }
    gates = std::move(read).value();
  }
  for (const auto& glob : gates_) {
    if (glob.empty()) {
      std::cerr << "countersign: --gate needs a non-empty tool name glob\n";
      return kExitError;
    }
    gates.push_back(McpGate{glob, "", {}, std::nullopt, false});
  }
  const bool always_bridge =
      bridge_elicitation_ || std::any_of(gates.begin(), gates.end(),
                                         [](const McpGate& g) { return g.bridge_elicitation; });
  return upstream_url_.empty() ? RunStdio(std::move(gates), always_bridge)
                               : RunHttp(std::move(gates), always_bridge);
}

int McpProxyCommand::RunStdio(std::vector<McpGate> gates, bool always_bridge) const {
  const std::string server =
      name_.empty() ? McpServerNameForCommand(command_.front()) : McpActionPart(name_);
  auto api = connection_.Connect();
  if (!api.ok()) return ReportFailure(api.error());

  // Before any thread: SIGINT and SIGTERM go to the relay, which stops the upstream first.
  std::atomic<UpstreamProcess*> upstream_for_signals{nullptr};
  std::atomic<McpProxy*> proxy_for_signals{nullptr};
  SignalRelay relay([&](int signal, bool) {
    if (UpstreamProcess* upstream = upstream_for_signals.load()) {
      ::kill(upstream->pid(), SIGTERM);
      (void)upstream->WaitFor(kUpstreamGrace);
    }
    if (McpProxy* proxy = proxy_for_signals.load()) proxy->Exit(128 + signal);
    std::_Exit(128 + signal);
  });
  // A client or upstream that closes its end must not kill the process mid-write.
  std::signal(SIGPIPE, SIG_IGN);

  auto started = UpstreamProcess::Start(command_, relay.original_mask());
  if (!started.ok()) {
    std::cerr << "countersign: " << started.error().message << "\n";
    return kExitCannotStart;
  }
  std::unique_ptr<UpstreamProcess> upstream = std::move(started).value();
  upstream_for_signals.store(upstream.get());
  const std::string session = "mcp-proxy-" + McpSessionNonce().substr(0, 16);
  spdlog::info("proxying MCP for {} (pid {}), {}, session {}, gateway {}", server, upstream->pid(),
               CountedNoun(static_cast<int64_t>(gates.size()), "gate"), session, api->base_url());

  ApiGateway gateway(std::move(api).value());
  SystemClock clock;
  ToolRunnerOptions runner_options;
  runner_options.progress_interval = std::chrono::seconds(progress_seconds_);
  const ToolRunner runner(gateway, clock, runner_options);
  McpProxySession proxy_session(McpGateSet(std::move(gates)), server, session, always_bridge);
  McpProxy proxy(proxy_session, runner, *upstream, McpSessionNonce(), McpProxyOptions{}, stdout);
  proxy_for_signals.store(&proxy);

  // The upstream's output, to its end: then it has exited (or is exiting) and so do we.
  std::thread upstream_reader([&proxy, &upstream] {
    proxy.ServeUpstream();
    const int status = upstream->WaitFor(Millis(60'000)).value_or(kExitError);
    spdlog::info("the upstream MCP server ended (status {}): exiting", status);
    proxy.Exit(status);
  });
  upstream_reader.detach();

  proxy.ServeClient(STDIN_FILENO);
  // The client is gone: stop the upstream as MCP says (close its stdin, wait, SIGTERM). Calls
  // still waiting keep their requests pending on the gateway.
  const int status = upstream->Stop(kUpstreamGrace);
  spdlog::info("stdin closed; the upstream MCP server ended (status {}): exiting", status);
  proxy.Exit(status);
}

int McpProxyCommand::RunHttp(std::vector<McpGate> gates, bool always_bridge) const {
  auto url = ParseHttpUrl(upstream_url_, "--upstream-url");
  if (!url.ok()) {
    std::cerr << "countersign: " << url.error().message << "\n";
    return kExitError;
  }
  std::vector<HttpHeaderOption> headers;
  for (const auto& text : upstream_headers_) {
    auto header = ParseHttpHeaderOption(text);
    if (!header.ok()) {
      std::cerr << "countersign: " << header.error().message << "\n";
      return kExitError;
    }
    headers.push_back(std::move(header).value());
  }
  auto listen = ParseListenAddress(listen_, "--listen");
  if (!listen.ok()) {
    std::cerr << "countersign: " << listen.error().message << "\n";
    return kExitError;
  }
  const std::string server = McpActionPart(name_.empty() ? url->host : name_);
  auto api = connection_.Connect();
  if (!api.ok()) return ReportFailure(api.error());
  const std::string gateway_url = api->base_url();
  const std::size_t gate_count = gates.size();

  // Before any thread. A stopped proxy leaves held calls' requests pending on the gateway.
  SignalRelay relay([](int signal, bool) {
    spdlog::info("signal {}: exiting", signal);
    std::_Exit(0);
  });
  // An agent or upstream that closes its end must not kill the process mid-write.
  std::signal(SIGPIPE, SIG_IGN);

  ApiGateway gateway(std::move(api).value());
  SystemClock clock;
  ToolRunnerOptions runner_options;
  runner_options.progress_interval = std::chrono::seconds(progress_seconds_);
  const ToolRunner runner(gateway, clock, runner_options);
  const McpHttpUpstream upstream(std::move(url).value(), upstream_url_, upstream_ca_file_,
                                 std::move(headers), McpProxyOptions{}.max_line_bytes);
  McpHttpProxyOptions proxy_options;
  std::unique_ptr<McpHttpProxy> proxy;
  AgentHttpServer listener(
      [&proxy](const AgentHttpServer::Request& request, AgentHttpServer::Reply& reply) {
        proxy->Handle(request, reply);
      },
      AgentHttpServerOptions{});
  auto bound = listener.Listen(*listen);
  if (!bound.ok()) {
    std::cerr << "countersign: " << bound.error().message << "\n";
    return kExitError;
  }
  proxy_options.public_origin = "http://" + *bound;
  proxy_options.loopback = listener.loopback();
  proxy = std::make_unique<McpHttpProxy>(McpGateSet(std::move(gates)), server, always_bridge,
                                         runner, upstream, proxy_options);
  spdlog::info("proxying MCP for {} at {} on http://{}/mcp, {}, gateway {}", server, upstream_url_,
               *bound, CountedNoun(static_cast<int64_t>(gate_count), "gate"), gateway_url);
  std::cerr << "countersign: mcp proxy listening on http://" << *bound << "/mcp" << std::endl;
  listener.Serve();
  return kExitError;
}

}  // namespace countersign
