#include "cli/mcp_proxy.hpp"

#include <spdlog/spdlog.h>
#include <boost/json/serialize.hpp>

#include "cli/line_reader.hpp"
#include "core/mutex_lock.hpp"
#include "mcp/json_rpc.hpp"
#include "mcp/mcp_session.hpp"
#include "mcp/tool_results.hpp"

namespace countersign {
namespace {

// The result a held call ends with when it is not approved: as request_approval's.
constexpr McpTool kHeldCallTool = McpTool::kRequestApproval;

std::string StringAt(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string();
}

}  // namespace

McpProxy::McpProxy(McpProxySession& session, const ToolRunner& runner, UpstreamProcess& upstream,
                   std::string nonce, McpProxyOptions options, std::FILE* client_output)
    : session_(session),
      runner_(runner),
      upstream_(upstream),
      nonce_(std::move(nonce)),
      options_(options),
      output_(client_output) {}

void McpProxy::ServeClient(int input_fd) {
  const LineReader reader(
      options_.max_line_bytes, [this](std::string_view line) { HandleClientLine(line); },
      [this] {
        SendClient(JsonRpcErrorLine(
            nullptr, kJsonRpcParseError,
            "message over " + std::to_string(options_.max_line_bytes) + " bytes: dropped"));
      });
  reader.Read(input_fd);
  client_workers_.Reap();
}

void McpProxy::ServeUpstream() {
  const LineReader reader(
      options_.max_line_bytes, [this](std::string_view line) { HandleUpstreamLine(line); },
      [this] {
        spdlog::warn("the upstream MCP server sent a line over {} bytes: dropped",
                     options_.max_line_bytes);
      });
  reader.Read(upstream_.output_fd());
  upstream_workers_.Reap();
}

void McpProxy::HandleClientLine(std::string_view line) {
  ProxyClientStep step = session_.FromClient(line);
  if (step.hold) {
    Hold(std::move(*step.hold));
    return;
  }
  if (step.cancel && Cancel(Waiting::kHeldCall, *step.cancel, client_workers_)) return;
  if (step.to_upstream) SendUpstream(*step.to_upstream);
}

void McpProxy::HandleUpstreamLine(std::string_view line) {
  ProxyUpstreamStep step = session_.FromUpstream(line);
  if (step.to_upstream) SendUpstream(*step.to_upstream);
  if (step.bridge) {
    Bridge(std::move(*step.bridge));
    return;
  }
  if (step.cancel && Cancel(Waiting::kElicitation, *step.cancel, upstream_workers_)) return;
  if (step.to_client) SendClient(*step.to_client);
}

void McpProxy::Hold(ProxyHeldCall call) {
  client_workers_.Reap();
  const std::string key = boost::json::serialize(call.id);
  auto control = std::make_shared<ToolCallControl>();
  if (auto refused = Register(Waiting::kHeldCall, key, control)) {
    SendClient(JsonRpcResultLine(
        call.id, ToolFailureResult(kHeldCallTool, McpToolFailure::kUnavailable, *refused)));
    return;
  }
  const boost::json::value id = call.id;
  if (!client_workers_.Spawn(
          [this, call = std::move(call), key, control] { RunHeld(call, key, control); })) {
    Unregister(Waiting::kHeldCall, key);
    SendClient(JsonRpcResultLine(id, ToolFailureResult(kHeldCallTool, McpToolFailure::kUnavailable,
                                                       "cannot start a thread for the call")));
  }
}

void McpProxy::RunHeld(const ProxyHeldCall& call, const std::string& key,
                       const std::shared_ptr<ToolCallControl>& control) {
  boost::json::object body = call.request_body;
  body["idempotency_key"] = ToolRunner::IdempotencyKey(nonce_, call.id);
  std::int64_t progress_sent = 0;
  auto waited = runner_.CreateAndWait(kHeldCallTool, body, call.progress_token, *control,
                                      [this, &control, &progress_sent](boost::json::object params) {
                                        if (control->cancelled()) return;
                                        ++progress_sent;
                                        SendClient(ProgressNotificationLine(std::move(params)));
                                      });
  Unregister(Waiting::kHeldCall, key);
  if (control->cancelled()) return;  // MCP: a cancelled request gets no response
  if (!waited.ok()) {
    SendClient(JsonRpcResultLine(
        call.id, ToolFailureResult(kHeldCallTool, FailureForGatewayError(waited.error()),
                                   waited.error().message)));
    return;
  }
  if (!waited->has_value()) return;
  const boost::json::object& request = **waited;
  if (StringAt(request, "status") != "approved") {
    SendClient(JsonRpcResultLine(call.id, ToolResultForRequest(kHeldCallTool, request)));
    return;
  }
  bool edited = false;
  boost::json::object arguments = ApprovedArguments(request, edited);
  spdlog::info("{} approved: calling {} upstream{}", StringAt(request, "id"), call.tool,
               edited ? " with edited arguments" : "");
  SendUpstream(session_.ForwardApproved(call, std::move(arguments), progress_sent));
}

void McpProxy::Bridge(ProxyBridgedElicitation elicitation) {
  upstream_workers_.Reap();
  const std::string key = boost::json::serialize(elicitation.id);
  auto control = std::make_shared<ToolCallControl>();
  if (auto refused = Register(Waiting::kElicitation, key, control)) {
    spdlog::warn("elicitation {} answered cancel: {}", key, *refused);
    SendUpstream(JsonRpcResultLine(elicitation.id, ElicitCancel()));
    return;
  }
  const boost::json::value id = elicitation.id;
  if (!upstream_workers_.Spawn([this, elicitation = std::move(elicitation), key, control] {
        RunBridge(elicitation, key, control);
      })) {
    Unregister(Waiting::kElicitation, key);
    SendUpstream(JsonRpcResultLine(id, ElicitCancel()));
  }
}

void McpProxy::RunBridge(const ProxyBridgedElicitation& elicitation, const std::string& key,
                         const std::shared_ptr<ToolCallControl>& control) {
  boost::json::object body = elicitation.request_body;
  body["idempotency_key"] = ToolRunner::IdempotencyKey(nonce_ + "/elicitation", elicitation.id);
  auto waited = runner_.CreateAndWait(McpTool::kAskHuman, body, nullptr, *control,
                                      ToolRunner::ProgressSink());
  Unregister(Waiting::kElicitation, key);
  if (control->cancelled()) return;
  boost::json::object result;
  if (!waited.ok()) {
    const Error& error = waited.error();
    if (error.code == ErrorCode::kInvalid || error.code == ErrorCode::kMalformed) {
      // The form is more than the gateway takes (MCP's schema grows faster than ours).
      spdlog::warn("the gateway refused elicitation {} ({}): declined", key, error.message);
      result = ElicitDecline();
    } else {
      spdlog::warn("elicitation {} could not be asked ({}): cancelled", key, error.message);
      result = ElicitCancel();
    }
  } else if (!waited->has_value()) {
    return;
  } else {
    result = ElicitResultForRequest(elicitation.mode, **waited);
    spdlog::info("elicitation {} ({}) ended {}: {}", key, StringAt(**waited, "id"),
                 StringAt(**waited, "status"), StringAt(result, "action"));
  }
  SendUpstream(JsonRpcResultLine(elicitation.id, std::move(result)));
}

bool McpProxy::Cancel(Waiting what, const boost::json::value& id, WorkerThreads& workers) {
  std::shared_ptr<ToolCallControl> control;
  {
    MutexLock lock(waiting_mu_);
    Controls& controls = ControlsOf(what);
    auto it = controls.find(boost::json::serialize(id));
    if (it == controls.end()) return false;
    control = it->second;
  }
  auto request_id = control->Cancel();
  if (!request_id) return true;  // the waiting thread cancels its request once it has one
  const auto cancel = [this, request_id = *request_id] {
    if (auto cancelled = runner_.CancelForClient(request_id); !cancelled.ok()) {
      spdlog::warn("could not cancel {}: {}", request_id, cancelled.error().message);
    }
  };
  if (!workers.Spawn(cancel)) cancel();
  return true;
}

std::optional<std::string> McpProxy::Register(Waiting what, const std::string& key,
                                              const std::shared_ptr<ToolCallControl>& control) {
  MutexLock lock(waiting_mu_);
  Controls& controls = ControlsOf(what);
  if (controls.count(key) != 0) return "id " + Echo(key) + " is already waiting";
  if (held_.size() + bridged_.size() >= options_.max_waiting) {
    return "too many calls waiting for people (" + std::to_string(options_.max_waiting) +
           "); try again when one has finished";
  }
  controls.emplace(key, control);
  return std::nullopt;
}

void McpProxy::Unregister(Waiting what, const std::string& key) {
  MutexLock lock(waiting_mu_);
  ControlsOf(what).erase(key);
}

McpProxy::Controls& McpProxy::ControlsOf(Waiting what) {
  return what == Waiting::kHeldCall ? held_ : bridged_;
}

void McpProxy::SendClient(const std::string& line) { output_.Write(line); }

void McpProxy::SendUpstream(const std::string& line) {
  if (!upstream_.WriteLine(line)) spdlog::warn("the upstream MCP server no longer reads its input");
}

}  // namespace countersign
