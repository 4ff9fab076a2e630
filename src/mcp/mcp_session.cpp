#include "mcp/mcp_session.hpp"

#include <boost/json/array.hpp>

#include "mcp/json_rpc.hpp"

namespace countersign {
namespace {

constexpr std::string_view kInstructions =
    "countersign puts a human in the loop. Before an action that is risky, irreversible or "
    "outside what you were asked to do, call request_approval with the exact call in "
    "`arguments` and wait: act only if it comes back approved, and then with the returned "
    "`arguments` (an approver may have edited them). When you need a fact or a decision only "
    "a person can give, call ask_human. Both block until a person answers or the deadline "
    "passes, and report progress meanwhile. A denied, expired or cancelled request comes back "
    "as an error whose text starts with the reason; do not act on it. get_request reads a "
    "request again, cancel_request withdraws one you no longer need. permission_prompt is for "
    "Claude Code's --permission-prompt-tool.";

McpStep Reply(std::string line) {
  McpStep step;
  step.reply = std::move(line);
  return step;
}

McpStep ErrorReply(const boost::json::value& id, std::int64_t code, std::string_view message) {
  return Reply(JsonRpcErrorLine(id, code, message));
}

}  // namespace

bool IsSupportedMcpVersion(std::string_view version) {
  return version == kMcpLatestVersion || version == kMcpPreviousVersion;
}

McpSession::McpSession(McpServerIdentity identity) : identity_(std::move(identity)) {}

McpStep McpSession::Handle(std::string_view line) {
  auto parsed = ParseJsonRpcText(line);
  if (!parsed.ok()) return ErrorReply(nullptr, kJsonRpcParseError, parsed.error().message);
  auto message = ReadJsonRpcMessage(*parsed);
  if (!message.ok()) {
    return ErrorReply(ReadableJsonRpcId(*parsed), kJsonRpcInvalidRequest, message.error().message);
  }
  switch (message->kind) {
    case JsonRpcKind::kResponse:
      return {};  // this server sends no requests, so no response is awaited
    case JsonRpcKind::kNotification: {
      McpStep step;
      if (message->method == "notifications/cancelled") {
        const auto* request_id = message->params.if_contains("requestId");
        if (request_id != nullptr && IsJsonRpcId(*request_id)) step.cancel = *request_id;
      }
      return step;  // notifications/initialized and the rest need nothing
    }
    case JsonRpcKind::kRequest:
      break;
  }
  return HandleRequest(message->id, message->method, message->params);
}

McpStep McpSession::HandleRequest(const boost::json::value& id, const std::string& method,
                                  const boost::json::object& params) {
  if (method == "ping") return Reply(JsonRpcResultLine(id, {}));
  if (method == "initialize") return Initialize(id, params);
  if (protocol_version_.empty()) {
    return ErrorReply(id, kJsonRpcInvalidRequest,
                      "the session is not initialized: send initialize first");
  }
  if (method == "tools/list") {
    // One page holds every tool; a cursor from the client is accepted and ignored.
    boost::json::object result;
    result["tools"] = McpToolDefinitions();
    return Reply(JsonRpcResultLine(id, std::move(result)));
  }
  if (method == "tools/call") return CallTool(id, params);
  return ErrorReply(id, kJsonRpcMethodNotFound, "method not found: " + Echo(method));
}

McpStep McpSession::Initialize(const boost::json::value& id, const boost::json::object& params) {
  if (!protocol_version_.empty()) {
    return ErrorReply(id, kJsonRpcInvalidRequest, "the session is already initialized");
  }
  const auto* requested = params.if_contains("protocolVersion");
  if (requested == nullptr || !requested->is_string()) {
    return ErrorReply(id, kJsonRpcInvalidParams, "initialize needs a protocolVersion string");
  }
  // The client's revision when this server speaks it; else this server's latest, and the
  // client decides whether it can use that.
  protocol_version_ = IsSupportedMcpVersion(requested->get_string())
                          ? std::string(requested->get_string())
                          : std::string(kMcpLatestVersion);
  boost::json::object server_info{{"name", identity_.name}, {"version", identity_.version}};
  boost::json::object result{{"protocolVersion", protocol_version_}};
  result["capabilities"] =
      boost::json::object{{"tools", boost::json::object{{"listChanged", false}}}};
  result["serverInfo"] = std::move(server_info);
  result["instructions"] = kInstructions;
  return Reply(JsonRpcResultLine(id, std::move(result)));
}

McpStep McpSession::CallTool(const boost::json::value& id,
                             const boost::json::object& params) const {
  const auto* name = params.if_contains("name");
  if (name == nullptr || !name->is_string()) {
    return ErrorReply(id, kJsonRpcInvalidParams, "tools/call needs a tool name");
  }
  const auto tool = FindMcpTool(name->get_string());
  if (!tool) {
    return ErrorReply(id, kJsonRpcInvalidParams,
                      "Unknown tool: " + Echo(std::string_view(name->get_string())));
  }
  McpToolInvocation call;
  call.id = id;
  call.tool = *tool;
  if (const auto* arguments = params.if_contains("arguments");
      arguments != nullptr && !arguments->is_null()) {
    if (!arguments->is_object()) {
      return ErrorReply(id, kJsonRpcInvalidParams, "tools/call arguments must be an object");
    }
    call.arguments = arguments->get_object();
  }
  if (const auto* meta = params.if_contains("_meta"); meta != nullptr && meta->is_object()) {
    const auto* token = meta->get_object().if_contains("progressToken");
    if (token != nullptr && IsJsonRpcId(*token)) call.progress_token = *token;
  }
  McpStep step;
  step.call = std::move(call);
  return step;
}

std::string ToolCallResultLine(const boost::json::value& id, boost::json::object result) {
  return JsonRpcResultLine(id, std::move(result));
}

std::string ProgressNotificationLine(boost::json::object params) {
  return JsonRpcNotificationLine("notifications/progress", std::move(params));
}

}  // namespace countersign
