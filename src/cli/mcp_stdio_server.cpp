#include "cli/mcp_stdio_server.hpp"

#include <spdlog/spdlog.h>
#include <boost/json/serialize.hpp>

#include "cli/line_reader.hpp"
#include "core/mutex_lock.hpp"
#include "mcp/json_rpc.hpp"
#include "mcp/tool_results.hpp"

namespace countersign {

McpStdioServer::McpStdioServer(McpSession session, const ToolRunner& runner,
                               std::string session_nonce, McpStdioOptions options,
                               std::FILE* output)
    : session_(std::move(session)),
      runner_(runner),
      session_nonce_(std::move(session_nonce)),
      options_(options),
      output_(output) {}

std::size_t McpStdioServer::Serve(int input_fd) {
  const LineReader reader(
      options_.max_line_bytes, [this](std::string_view line) { HandleLine(line); },
      [this] {
        Send(JsonRpcErrorLine(
            nullptr, kJsonRpcParseError,
            "message over " + std::to_string(options_.max_line_bytes) + " bytes: dropped"));
      });
  reader.Read(input_fd);
  workers_.Reap();
  MutexLock lock(calls_mu_);
  return calls_.size();
}

void McpStdioServer::HandleLine(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.find_first_not_of(" \t") == std::string_view::npos) return;
  McpStep step = session_.Handle(line);
  if (step.reply) Send(*step.reply);
  if (step.call) StartCall(std::move(*step.call));
  if (step.cancel) CancelCall(*step.cancel);
}

void McpStdioServer::StartCall(McpToolInvocation call) {
  workers_.Reap();
  const std::string key = boost::json::serialize(call.id);
  auto control = std::make_shared<ToolCallControl>();
  {
    MutexLock lock(calls_mu_);
    if (calls_.count(key) != 0) {
      lock.Unlock();
      Send(JsonRpcErrorLine(call.id, kJsonRpcInvalidRequest,
                            "id " + Echo(key) + " is already in use by a call in flight"));
      return;
    }
    if (calls_.size() >= options_.max_calls) {
      lock.Unlock();
      Send(ToolCallResultLine(
          call.id,
          ToolFailureResult(call.tool, McpToolFailure::kUnavailable,
                            "too many calls in flight (" + std::to_string(options_.max_calls) +
                                "); try again when one has finished")));
      return;
    }
    calls_.emplace(key, control);
  }
  const boost::json::value id = call.id;
  const McpTool tool = call.tool;
  if (!workers_.Spawn(
          [this, call = std::move(call), key, control] { RunCall(call, key, control); })) {
    {
      MutexLock lock(calls_mu_);
      calls_.erase(key);
    }
    Send(ToolCallResultLine(id, ToolFailureResult(tool, McpToolFailure::kUnavailable,
                                                  "cannot start a thread for the call")));
  }
}

void McpStdioServer::RunCall(const McpToolInvocation& invocation, const std::string& key,
                             const std::shared_ptr<ToolCallControl>& control) {
  ToolCall call;
  call.tool = invocation.tool;
  call.arguments = invocation.arguments;
  call.progress_token = invocation.progress_token;
  call.idempotency_key = ToolRunner::IdempotencyKey(session_nonce_, invocation.id);
  auto result = runner_.Run(call, *control, [this, &control](boost::json::object params) {
    if (!control->cancelled()) Send(ProgressNotificationLine(std::move(params)));
  });
  {
    MutexLock lock(calls_mu_);
    calls_.erase(key);
  }
  if (result && !control->cancelled()) Send(ToolCallResultLine(invocation.id, std::move(*result)));
}

void McpStdioServer::CancelCall(const boost::json::value& id) {
  std::shared_ptr<ToolCallControl> control;
  {
    MutexLock lock(calls_mu_);
    auto it = calls_.find(boost::json::serialize(id));
    if (it == calls_.end()) return;  // finished already, or never known: ignored, as MCP says
    control = it->second;
  }
  auto request_id = control->Cancel();
  if (!request_id) return;  // the call cancels its request itself once it has one
  const auto cancel = [this, request_id = *request_id] {
    if (auto cancelled = runner_.CancelForClient(request_id); !cancelled.ok()) {
      spdlog::warn("could not cancel {} for the MCP client: {}", request_id,
                   cancelled.error().message);
    }
  };
  if (!workers_.Spawn(cancel)) cancel();  // no thread to spare: cancel from here
}

void McpStdioServer::Send(const std::string& line) { output_.Write(line); }

}  // namespace countersign
