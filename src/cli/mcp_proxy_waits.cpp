#include "cli/mcp_proxy_waits.hpp"

#include <spdlog/spdlog.h>
#include <boost/json/serialize.hpp>

#include "core/mutex_lock.hpp"
#include "mcp/elicitation_bridge.hpp"
#include "mcp/json_rpc.hpp"
#include "mcp/mcp_session.hpp"
#include "mcp/tool_results.hpp"

namespace countersign {
namespace {

// The result a held call ends with when it is not approved: as request_approval's.
constexpr McpTool kHeldCallTool = McpTool::kRequestApproval;

// The progress token a held call waits under when its client sent none, so that the transport
// still hears from it after each interval (and can tell whether the agent is still there).
constexpr const char* kTickToken = "countersign-proxy-tick";

std::string StringAt(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string();
}

}  // namespace

McpProxyWaits::McpProxyWaits(const ToolRunner& runner, std::size_t max_waiting)
    : runner_(runner), max_waiting_(max_waiting) {}

Result<std::shared_ptr<ToolCallControl>> McpProxyWaits::Register(Kind kind,
                                                                 const std::string& key) {
  MutexLock lock(mu_);
  Controls& controls = ControlsOf(kind);
  if (controls.count(key) != 0)
    return Error::Unavailable("id " + Echo(key) + " is already waiting");
  if (held_.size() + bridged_.size() >= max_waiting_) {
    return Error::Unavailable("too many calls waiting for people (" + std::to_string(max_waiting_) +
                              "); try again when one has finished");
  }
  auto control = std::make_shared<ToolCallControl>();
  controls.emplace(key, control);
  return control;
}

void McpProxyWaits::Unregister(Kind kind, const std::string& key) {
  MutexLock lock(mu_);
  ControlsOf(kind).erase(key);
}

McpProxyWaits::Controls& McpProxyWaits::ControlsOf(Kind kind) {
  return kind == Kind::kHeldCall ? held_ : bridged_;
}

bool McpProxyWaits::Cancel(Kind kind, const std::string& key, const Runner& run) {
  std::shared_ptr<ToolCallControl> control;
  {
    MutexLock lock(mu_);
    Controls& controls = ControlsOf(kind);
    auto it = controls.find(key);
    if (it == controls.end()) return false;
    control = it->second;
  }
  auto request_id = control->Cancel();
  if (!request_id) return true;  // the waiting thread cancels its request once it has one
  run([this, request_id = *request_id] {
    if (auto cancelled = runner_.CancelForClient(request_id); !cancelled.ok()) {
      spdlog::warn("could not cancel {}: {}", request_id, cancelled.error().message);
    }
  });
  return true;
}

HeldCallOutcome McpProxyWaits::WaitForApproval(McpProxySession& session, const ProxyHeldCall& call,
                                               const std::string& nonce, ToolCallControl& control,
                                               const ProgressSink& progress) const {
  boost::json::object body = call.request_body;
  body["idempotency_key"] = ToolRunner::IdempotencyKey(nonce, call.id);
  const bool wants_progress = !call.progress_token.is_null();
  const boost::json::value token = wants_progress ? call.progress_token : kTickToken;
  std::int64_t progress_sent = 0;
  auto waited =
      runner_.CreateAndWait(kHeldCallTool, body, token, control, [&](boost::json::object params) {
        if (control.cancelled()) return;
        std::optional<std::string> line;
        if (wants_progress) line = ProgressNotificationLine(std::move(params));
        if (!progress(std::move(line))) {
          // The agent is gone. Its request is left to the people deciding it; nobody would
          // receive the call's result, so it is not made.
          spdlog::info("the agent of call {} went away while it waited: it will not be made",
                       boost::json::serialize(call.id));
          (void)control.Cancel();
          return;
        }
        if (wants_progress) ++progress_sent;
      });
  HeldCallOutcome outcome;
  if (control.cancelled()) return outcome;  // MCP: a cancelled request gets no response
  if (!waited.ok()) {
    outcome.to_client = JsonRpcResultLine(
        call.id, ToolFailureResult(kHeldCallTool, FailureForGatewayError(waited.error()),
                                   waited.error().message));
    return outcome;
  }
  if (!waited->has_value()) return outcome;
  const boost::json::object& request = **waited;
  if (StringAt(request, "status") != "approved") {
    outcome.to_client = JsonRpcResultLine(call.id, ToolResultForRequest(kHeldCallTool, request));
    return outcome;
  }
  // A single-use approval is spent before the call is made, so that it is made once.
  if (auto consumed = runner_.ConsumeIfSingleUse(request); !consumed.ok()) {
    spdlog::warn("{} approved, but its single-use receipt cannot be used: not calling {}: {}",
                 StringAt(request, "id"), call.tool, consumed.error().message);
    outcome.to_client = JsonRpcResultLine(
        call.id, ToolFailureResult(kHeldCallTool, FailureForGatewayError(consumed.error()),
                                   "approved, but the single-use receipt cannot be used: " +
                                       consumed.error().message));
    return outcome;
  }
  bool edited = false;
  boost::json::object arguments = ApprovedArguments(request, edited);
  spdlog::info("{} approved: calling {} upstream{}", StringAt(request, "id"), call.tool,
               edited ? " with edited arguments" : "");
  outcome.to_upstream = session.ForwardApproved(call, std::move(arguments), progress_sent);
  return outcome;
}

std::optional<std::string> McpProxyWaits::AnswerElicitation(
    const ProxyBridgedElicitation& elicitation, const std::string& nonce, const std::string& key,
    ToolCallControl& control) const {
  boost::json::object body = elicitation.request_body;
  body["idempotency_key"] = ToolRunner::IdempotencyKey(nonce + "/elicitation", elicitation.id);
  auto waited =
      runner_.CreateAndWait(McpTool::kAskHuman, body, nullptr, control, ToolRunner::ProgressSink());
  if (control.cancelled()) return std::nullopt;
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
    return std::nullopt;
  } else {
    result = ElicitResultForRequest(elicitation.mode, **waited);
    spdlog::info("elicitation {} ({}) ended {}: {}", key, StringAt(**waited, "id"),
                 StringAt(**waited, "status"), StringAt(result, "action"));
  }
  return JsonRpcResultLine(elicitation.id, std::move(result));
}

std::string McpProxyWaits::RefusedCallLine(const boost::json::value& id, const std::string& why) {
  return JsonRpcResultLine(id, ToolFailureResult(kHeldCallTool, McpToolFailure::kUnavailable, why));
}

std::string McpProxyWaits::RefusedElicitationLine(const boost::json::value& id) {
  return JsonRpcResultLine(id, ElicitCancel());
}

}  // namespace countersign
