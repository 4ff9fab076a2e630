// McpProxy: the stdio transport of `countersign mcp proxy`, between an MCP client (our stdin
// and stdout) and an upstream MCP server (UpstreamProcess), with McpProxySession deciding
// what each line becomes.
//
// ServeClient() reads the client's lines on the calling thread and ServeUpstream() the
// upstream's on another; lines that pass through are written at once, so neither side waits
// for the other. A held (gated) call waits on a thread of its own (ToolRunner::CreateAndWait,
// progress to the client when it sent a token): approved, it goes upstream with the approved
// arguments and the upstream's answer comes back as is; otherwise the client gets an isError
// result "<reason>: ..." and the upstream never sees the call. A bridged elicitation waits the
// same way and the upstream gets its ElicitResult. A client's notifications/cancelled for a
// held call cancels its request (no response follows); an upstream's for a bridged
// elicitation cancels that request. At most `max_waiting` calls and elicitations wait at once;
// one more call is answered `unavailable`, one more elicitation `cancel`. Writes to each side
// are serialized, so lines never interleave.
//
// Both Serve methods return at the end of their input; the caller decides how to exit.
// Destroying the proxy joins every waiting thread (up to a long-poll slice), so a caller that
// must exit at once exits without destroying it. Each Serve method is called once.
#pragma once

#include <cstddef>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cli/line_writer.hpp"
#include "cli/mcp_proxy_waits.hpp"
#include "cli/upstream_process.hpp"
#include "cli/worker_threads.hpp"
#include "mcp/mcp_proxy_session.hpp"
#include "mcp/tool_call_control.hpp"
#include "mcp/tool_runner.hpp"

namespace countersign {

struct McpProxyOptions {
  std::size_t max_waiting = 32;
  std::size_t max_line_bytes = 10 * 1024 * 1024;  // the TypeScript SDK's own limit
};

class McpProxy {
 public:
  // Every reference must outlive the proxy. `nonce` makes the idempotency keys of this run's
  // requests its own (ToolRunner::IdempotencyKey).
  McpProxy(McpProxySession& session, const ToolRunner& runner, UpstreamProcess& upstream,
           std::string nonce, McpProxyOptions options, std::FILE* client_output);
  ~McpProxy() = default;
  McpProxy(const McpProxy&) = delete;
  McpProxy& operator=(const McpProxy&) = delete;

  void ServeClient(int input_fd);
  void ServeUpstream();

  // Flushes what was written to the client and ends the process with `status`, holding the
  // client's output so no line is cut. Never returns.
  [[noreturn]] void Exit(int status) { output_.ExitHolding(status); }

 private:
  void HandleClientLine(std::string_view line);
  void HandleUpstreamLine(std::string_view line);
  void Hold(ProxyHeldCall call);
  void RunHeld(const ProxyHeldCall& call, const std::string& key,
               const std::shared_ptr<ToolCallControl>& control);
  void Bridge(ProxyBridgedElicitation elicitation);
  void RunBridge(const ProxyBridgedElicitation& elicitation, const std::string& key,
                 const std::shared_ptr<ToolCallControl>& control);
  // Cancels the waiting `kind` with `id`, its request on a thread of `workers`; false when
  // nothing with that id waits.
  bool Cancel(McpProxyWaits::Kind kind, const boost::json::value& id, WorkerThreads& workers);
  void SendClient(const std::string& line);
  void SendUpstream(const std::string& line);

  McpProxySession& session_;
  UpstreamProcess& upstream_;
  const std::string nonce_;
  const McpProxyOptions options_;

  LineWriter output_;
  // Calls by their id as JSON text, elicitations by theirs.
  McpProxyWaits waits_;

  // Each touched by one reading thread only; destroyed (joined) first.
  WorkerThreads upstream_workers_;
  WorkerThreads client_workers_;
};

}  // namespace countersign
