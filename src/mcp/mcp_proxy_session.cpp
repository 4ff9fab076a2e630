#include "mcp/mcp_proxy_session.hpp"

#include <boost/json/serialize.hpp>

#include "core/mutex_lock.hpp"
#include "mcp/json_rpc.hpp"

namespace countersign {
namespace {

// The message `line` holds, or nullopt when it is not JSON-RPC (passed through as is).
struct Parsed {
  boost::json::object object;
  JsonRpcMessage message;
};

std::optional<Parsed> Parse(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  auto value = ParseJsonRpcText(line);
  if (!value.ok() || !value->is_object()) return std::nullopt;
  auto message = ReadJsonRpcMessage(*value);
  if (!message.ok()) return std::nullopt;
  return Parsed{std::move(value->get_object()), std::move(message).value()};
}

boost::json::value ProgressToken(const boost::json::object& params) {
  const auto* meta = params.if_contains("_meta");
  if (meta == nullptr || !meta->is_object()) return nullptr;
  const auto* token = meta->get_object().if_contains("progressToken");
  if (token == nullptr || !(token->is_string() || token->is_int64() || token->is_uint64())) {
    return nullptr;
  }
  return *token;
}

// `number` + `offset`, an integer when `number` is one.
boost::json::value Shifted(const boost::json::value& number, std::int64_t offset) {
  if (number.is_int64()) return number.get_int64() + offset;
  return number.to_number<double>() + static_cast<double>(offset);
}

std::optional<boost::json::value> CancelledId(const JsonRpcMessage& message) {
  const auto* id = message.params.if_contains("requestId");
  if (id == nullptr || !IsJsonRpcId(*id)) return std::nullopt;
  return *id;
}

}  // namespace

McpProxySession::McpProxySession(McpGateSet gates, std::string server, std::string session,
                                 bool always_bridge)
    : gates_(std::move(gates)),
      server_(std::move(server)),
      session_(std::move(session)),
      always_bridge_(always_bridge) {}

bool McpProxySession::Bridging() const {
  MutexLock lock(mu_);
  return always_bridge_ || (initialized_ && !client_elicits_);
}

McpProxyIdentity McpProxySession::Identity() const {
  MutexLock lock(mu_);
  return McpProxyIdentity{server_, agent_, session_};
}

ProxyClientStep McpProxySession::FromClient(std::string_view line) {
  ProxyClientStep step;
  auto parsed = Parse(line);
  if (!parsed) {
    step.to_upstream = std::string(line);
    return step;
  }
  const JsonRpcMessage& message = parsed->message;
  if (message.kind == JsonRpcKind::kRequest && message.method == "initialize") {
    step.to_upstream = Initialize(line, std::move(parsed->object));
    return step;
  }
  if (message.kind == JsonRpcKind::kRequest && message.method == "tools/call") {
    step.hold = Gate(message.id, parsed->object);
    if (step.hold) return step;
  }
  if (message.kind == JsonRpcKind::kNotification && message.method == "notifications/cancelled") {
    step.cancel = CancelledId(message);
  }
  step.to_upstream = std::string(line);
  return step;
}

std::string McpProxySession::Initialize(std::string_view line, boost::json::object message) {
  auto* params = message.if_contains("params");
  if (params == nullptr || !params->is_object()) return std::string(line);
  auto& capabilities = params->get_object()["capabilities"];
  if (!capabilities.is_object()) capabilities = boost::json::object();
  bool add_capability = false;
  {
    MutexLock lock(mu_);
    initialized_ = true;
    client_elicits_ = capabilities.get_object().contains("elicitation");
    if (const auto* info = params->get_object().if_contains("clientInfo");
        info != nullptr && info->is_object()) {
      if (const auto* name = info->get_object().if_contains("name");
          name != nullptr && name->is_string() && !name->get_string().empty()) {
        agent_ = std::string(name->get_string());
      }
    }
    add_capability = !client_elicits_;
  }
  if (!add_capability) return std::string(line);
  capabilities.get_object()["elicitation"] = boost::json::object();
  return boost::json::serialize(message);
}

std::optional<ProxyHeldCall> McpProxySession::Gate(const boost::json::value& id,
                                                   const boost::json::object& message) {
  const auto* params = message.if_contains("params");
  if (params == nullptr || !params->is_object()) return std::nullopt;
  const auto* name = params->get_object().if_contains("name");
  if (name == nullptr || !name->is_string()) return std::nullopt;
  const std::string tool(name->get_string());
  const McpGate* gate = gates_.Match(tool);
  if (gate == nullptr) return std::nullopt;
  boost::json::object arguments;
  if (const auto* given = params->get_object().if_contains("arguments");
      given != nullptr && given->is_object()) {
    arguments = given->get_object();
  }
  ProxyHeldCall call;
  call.id = id;
  call.tool = tool;
  call.progress_token = ProgressToken(params->get_object());
  call.request_body = GatedCallRequestBody(*gate, Identity(), tool, arguments);
  call.message = message;
  return call;
}

std::string McpProxySession::ForwardApproved(const ProxyHeldCall& call,
                                             boost::json::object arguments,
                                             std::int64_t progress_sent) {
  boost::json::object message = call.message;
  message["params"].as_object()["arguments"] = std::move(arguments);
  if (progress_sent > 0 && !call.progress_token.is_null()) {
    MutexLock lock(mu_);
    shifts_[boost::json::serialize(call.progress_token)] =
        ProgressShift{boost::json::serialize(call.id), progress_sent};
  }
  return boost::json::serialize(message);
}

ProxyUpstreamStep McpProxySession::FromUpstream(std::string_view line) {
  ProxyUpstreamStep step;
  auto parsed = Parse(line);
  if (!parsed) {
    step.to_client = std::string(line);
    return step;
  }
  const JsonRpcMessage& message = parsed->message;
  if (message.kind == JsonRpcKind::kRequest && message.method == "elicitation/create" &&
      Bridging()) {
    auto mode = ReadElicitationMode(message.params);
    if (!mode.ok()) {
      step.to_upstream = JsonRpcErrorLine(message.id, kJsonRpcInvalidParams, mode.error().message);
      return step;
    }
    step.bridge = ProxyBridgedElicitation{
        message.id, *mode,
        ElicitationRequestBody(*mode, message.params, Identity(), gates_.ElicitationGate())};
    return step;
  }
  step.to_client = std::string(line);
  if (message.kind == JsonRpcKind::kNotification && message.method == "notifications/cancelled") {
    step.cancel = CancelledId(message);
  } else if (message.kind == JsonRpcKind::kNotification &&
             message.method == "notifications/progress") {
    const auto* token = message.params.if_contains("progressToken");
    const auto* progress = message.params.if_contains("progress");
    if (token == nullptr || progress == nullptr || !progress->is_number()) return step;
    MutexLock lock(mu_);
    auto it = shifts_.find(boost::json::serialize(*token));
    if (it == shifts_.end()) return step;
    auto& params = parsed->object["params"].as_object();
    params["progress"] = Shifted(*progress, it->second.offset);
    if (const auto* total = params.if_contains("total"); total != nullptr && total->is_number()) {
      params["total"] = Shifted(*total, it->second.offset);
    }
    step.to_client = boost::json::serialize(parsed->object);
  } else if (message.kind == JsonRpcKind::kResponse) {
    const std::string id = boost::json::serialize(message.id);
    MutexLock lock(mu_);
    std::erase_if(shifts_, [&id](const auto& entry) { return entry.second.call_id == id; });
  }
  return step;
}

}  // namespace countersign
