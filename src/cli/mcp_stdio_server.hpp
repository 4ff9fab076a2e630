// McpStdioServer: the MCP stdio transport of `countersign mcp`.
//
// Reads newline-delimited JSON-RPC from an input descriptor and writes only MCP messages,
// one per line, to an output stream (logs go to stderr through spdlog). Each line goes to the
// McpSession; a tools/call runs on a thread of its own (at most `max_calls` at once; one more
// is answered `unavailable`), so a call waiting for a person never holds up pings, lists or
// other calls. Writes are serialized by a mutex, so lines never interleave. A line over
// `max_line_bytes` is dropped whole and answered -32700; a malformed line is answered and
// reading goes on. notifications/cancelled for a call in flight cancels its gateway request
// at once (on a thread of its own) and the call sends no response.
//
// Serve() returns at the end of the input: the client is gone, so nothing is cancelled and
// nothing waited for; it returns how many calls are still running, whose requests stay
// pending on the gateway. Destroying the server joins every thread, which may take up to a
// long-poll slice (plus the HTTP margin), so a caller that must exit at once exits without
// destroying it (McpCommand does). Serve() is called once, from one thread.
#pragma once

#include <cstddef>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "cli/line_writer.hpp"
#include "cli/worker_threads.hpp"
#include "core/mutex.hpp"
#include "mcp/mcp_session.hpp"
#include "mcp/tool_call_control.hpp"
#include "mcp/tool_runner.hpp"

namespace countersign {

struct McpStdioOptions {
  std::size_t max_calls = 32;
  std::size_t max_line_bytes = 10 * 1024 * 1024;  // the TypeScript SDK's own limit
};

class McpStdioServer {
 public:
  // `runner` must outlive the server. `session_nonce` makes the calls' idempotency keys
  // unique to this session (ToolRunner::IdempotencyKey).
  McpStdioServer(McpSession session, const ToolRunner& runner, std::string session_nonce,
                 McpStdioOptions options, std::FILE* output);
  ~McpStdioServer() = default;
  McpStdioServer(const McpStdioServer&) = delete;
  McpStdioServer& operator=(const McpStdioServer&) = delete;

  // Reads `input_fd` to its end; returns the number of tool calls still running.
  std::size_t Serve(int input_fd);

 private:
  void HandleLine(std::string_view line);
  void StartCall(McpToolInvocation call);
  void CancelCall(const boost::json::value& id);
  void RunCall(const McpToolInvocation& call, const std::string& key,
               const std::shared_ptr<ToolCallControl>& control);
  void Send(const std::string& line);

  McpSession session_;
  const ToolRunner& runner_;
  const std::string session_nonce_;
  const McpStdioOptions options_;

  LineWriter output_;

  Mutex calls_mu_;
  // In-flight tool calls by their JSON-RPC id's JSON text.
  std::map<std::string, std::shared_ptr<ToolCallControl>> calls_ CS_GUARDED_BY(calls_mu_);

  WorkerThreads workers_;  // touched by the reading thread only; destroyed (joined) first
};

}  // namespace countersign
