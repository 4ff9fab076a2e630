#include "cli/mcp_http_proxy.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>
#include <boost/json/serialize.hpp>

#include "cli/mcp_options.hpp"
#include "core/ascii.hpp"
#include "core/mutex_lock.hpp"
#include "http/mcp_http_checks.hpp"

namespace countersign {
namespace {

using AgentRequest = AgentHttpServer::Request;
using AgentReply = AgentHttpServer::Reply;

constexpr const char* kJson = "application/json";

std::string HeaderOf(const AgentRequest& request, const std::string& name) {
  auto it = request.headers.find(name);
  return it == request.headers.end() ? std::string() : it->second;
}

// A refusal of the agent's request: a JSON-RPC error without an id, as the gateway's /mcp.
void Refuse(AgentReply& reply, int status, std::int64_t code, const std::string& message,
            const boost::json::value& id = nullptr, AgentHttpServer::Fields fields = {}) {
  fields.emplace_back("Content-Type", kJson);
  (void)reply.Respond(status, fields, JsonRpcErrorLine(id, code, message));
}

bool IsJsonContentType(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  while (!content_type.empty() && content_type.back() == ' ') content_type.remove_suffix(1);
  return AsciiLower(content_type) == kJson;
}

}  // namespace

McpHttpProxy::McpHttpProxy(McpGateSet gates, std::string server, bool always_bridge,
                           const ToolRunner& runner, const McpHttpUpstream& upstream,
                           McpHttpProxyOptions options)
    : gates_(std::move(gates)),
      server_(std::move(server)),
      always_bridge_(always_bridge),
      upstream_(upstream),
      options_(std::move(options)),
      waits_(runner, options_.max_waiting) {}

void McpHttpProxy::Handle(const AgentRequest& request, AgentReply& reply) {
  if (request.path != "/mcp") {
    Refuse(reply, 404, kJsonRpcInvalidRequest, "not found: the MCP endpoint is /mcp");
    return;
  }
  if (!McpOriginAllowed(HeaderOf(request, "origin"), options_.public_origin, options_.loopback)) {
    Refuse(reply, 403, kJsonRpcInvalidRequest,
           "Origin " + Echo(HeaderOf(request, "origin")) + " may not use this MCP endpoint");
    return;
  }
  if (request.method == "POST") {
    Post(request, reply);
  } else if (request.method == "DELETE") {
    Delete(request, reply);
  } else {
    Refuse(reply, 405, kJsonRpcInvalidRequest,
           request.method + " /mcp: only POST and DELETE (no server stream is relayed)", nullptr,
           {{"Allow", "POST, DELETE"}});
  }
}

void McpHttpProxy::Post(const AgentRequest& request, AgentReply& reply) {
  if (!IsJsonContentType(HeaderOf(request, "content-type"))) {
    Refuse(reply, 415, kJsonRpcInvalidRequest, "Content-Type must be application/json");
    return;
  }
  const McpAcceptable accept = ReadMcpAccept(HeaderOf(request, "accept"));
  if (!accept.json && !accept.sse) {
    Refuse(reply, 406, kJsonRpcInvalidRequest,
           "Accept must allow application/json or text/event-stream");
    return;
  }
  auto value = ParseJsonRpcText(request.body);
  if (!value.ok()) {
    Refuse(reply, 400, kJsonRpcParseError, value.error().message);
    return;
  }
  auto message = ReadJsonRpcMessage(*value);
  if (!message.ok()) {
    Refuse(reply, 400, kJsonRpcInvalidRequest, message.error().message, ReadableJsonRpcId(*value));
    return;
  }
  const bool is_request = message->kind == JsonRpcKind::kRequest;
  const bool initialize = is_request && message->method == "initialize";
  const std::string session_id = HeaderOf(request, "mcp-session-id");
  SessionPtr session;
  if (initialize) {
    session = NewSession();
  } else {
    session = Find(session_id);
    if (session == nullptr) {
      Refuse(reply, session_id.empty() ? 400 : 404, kJsonRpcInvalidRequest,
             session_id.empty() ? "Mcp-Session-Id is required after initialize"
                                : "unknown or ended MCP session " + Echo(session_id));
      return;
    }
  }
  const std::string version = HeaderOf(request, "mcp-protocol-version");
  McpAgentAnswer answer(reply, is_request ? message->id : boost::json::value(), accept.sse);
  if (!session->id.empty()) answer.AddField("Mcp-Session-Id", session->id);

  ProxyClientStep step = session->proxy->FromClient(request.body);
  if (step.hold) {
    Hold(*session, version, std::move(*step.hold), answer);
    return;
  }
  if (step.cancel && waits_.Cancel(McpProxyWaits::Kind::kHeldCall, WaitKey(*session, *step.cancel),
                                   [](const std::function<void()>& work) { work(); })) {
    answer.Respond(202, "", "");
    return;
  }
  if (step.to_upstream) {
    Forward(session, version, *step.to_upstream, is_request, initialize, answer);
  }
}

void McpHttpProxy::Hold(Session& session, const std::string& protocol_version, ProxyHeldCall call,
                        McpAgentAnswer& answer) {
  const std::string key = WaitKey(session, call.id);
  auto control = waits_.Register(McpProxyWaits::Kind::kHeldCall, key);
  if (!control.ok()) {
    (void)answer.Send(McpProxyWaits::RefusedCallLine(call.id, control.error().message));
    return;
  }
  (void)answer.OpenStream();
  HeldCallOutcome outcome = waits_.WaitForApproval(
      *session.proxy, call, session.nonce, **control, [&answer](std::optional<std::string> line) {
        return line ? answer.Send(*line) : answer.KeepAlive();
      });
  waits_.Unregister(McpProxyWaits::Kind::kHeldCall, key);
  if (outcome.to_client) (void)answer.Send(*outcome.to_client);
  if (outcome.to_upstream) {
    SessionPtr current = Find(session.id);
    if (current == nullptr) {
      answer.Fail("the MCP session ended while the call waited for approval");
      return;
    }
    Forward(current, protocol_version, *outcome.to_upstream, true, false, answer);
  }
}

void McpHttpProxy::Forward(const SessionPtr& session, const std::string& protocol_version,
                           const std::string& line, bool is_request, bool initialize,
                           McpAgentAnswer& answer) {
  McpHttpUpstream::Observer observer;
  observer.head = [&](const McpUpstreamAnswer& head) {
    if (!initialize || head.status / 100 != 2) return;
    // Before the body: the agent's next request may come as soon as it has read the answer.
    session->id = head.session_id;
    if (!session->id.empty()) answer.AddField("Mcp-Session-Id", session->id);
    Register(session);
  };
  observer.message = [&](const std::string& message) {
    return FromUpstream(*session, protocol_version, message, answer);
  };
  const McpUpstreamSession headers{initialize ? std::string() : session->id, protocol_version};
  auto relayed = upstream_.Post(
      line, headers, is_request ? options_.upstream_wait : options_.upstream_ack_wait, observer);
  if (!relayed.ok()) {
    spdlog::warn("{}", relayed.error().message);
    answer.Fail(relayed.error().message);
    return;
  }
  const McpUpstreamAnswer& upstream = *relayed;
  if (upstream.status / 100 != 2) {
    if (upstream.status == 404 && !initialize) Forget(session->id);
    answer.Respond(upstream.status, upstream.content_type, upstream.body);
    return;
  }
  if (upstream.streamed) {
    if (is_request && !answer.answered()) {
      answer.Fail("the upstream MCP server at " + upstream_.url() +
                  " ended its event stream without answering");
    }
    return;
  }
  if (!is_request) {
    answer.Respond(upstream.status, upstream.content_type, upstream.body);
    return;
  }
  if (upstream.content_type != kJson || !ParseJsonRpcText(upstream.body).ok()) {
    answer.Fail(
        "the upstream MCP server at " + upstream_.url() +
        " answered with something other than JSON-RPC (" +
        (upstream.content_type.empty() ? std::string("no Content-Type") : upstream.content_type) +
        ")");
    return;
  }
  answer.PreferJson();
  (void)FromUpstream(*session, protocol_version, upstream.body, answer);
  if (!answer.answered()) {
    answer.Fail("the upstream MCP server at " + upstream_.url() + " answered another request");
  }
}

bool McpHttpProxy::FromUpstream(Session& session, const std::string& protocol_version,
                                const std::string& message, McpAgentAnswer& answer) {
  if (auto value = ParseJsonRpcText(message); !value.ok() || !ReadJsonRpcMessage(*value).ok()) {
    spdlog::warn("the upstream MCP server at {} sent a message that is not JSON-RPC: dropped",
                 upstream_.url());
    return true;
  }
  ProxyUpstreamStep step = session.proxy->FromUpstream(message);
  if (step.to_upstream) Tell(session, protocol_version, *step.to_upstream);
  if (step.bridge) {
    Bridge(session, protocol_version, std::move(*step.bridge));
    return true;
  }
  if (step.cancel &&
      waits_.Cancel(McpProxyWaits::Kind::kElicitation, WaitKey(session, *step.cancel),
                    [](const std::function<void()>& work) { work(); })) {
    return true;
  }
  if (step.to_client) return answer.Send(*step.to_client);
  return true;
}

void McpHttpProxy::Bridge(Session& session, const std::string& protocol_version,
                          ProxyBridgedElicitation elicitation) {
  const std::string key = WaitKey(session, elicitation.id);
  auto control = waits_.Register(McpProxyWaits::Kind::kElicitation, key);
  if (!control.ok()) {
    spdlog::warn("elicitation {} answered cancel: {}", key, control.error().message);
    Tell(session, protocol_version, McpProxyWaits::RefusedElicitationLine(elicitation.id));
    return;
  }
  // The session is kept alive by the worker (a DELETE may forget it meanwhile).
  SessionPtr owner = Find(session.id);
  auto work = [this, owner, protocol_version, elicitation, key, control = *control] {
    auto answer = waits_.AnswerElicitation(elicitation, owner->nonce, key, *control);
    waits_.Unregister(McpProxyWaits::Kind::kElicitation, key);
    if (answer) Tell(*owner, protocol_version, *answer);
  };
  bool started = false;
  if (owner != nullptr) {
    MutexLock lock(workers_mu_);
    workers_.Reap();
    started = workers_.Spawn(work);
  }
  if (!started) {
    waits_.Unregister(McpProxyWaits::Kind::kElicitation, key);
    Tell(session, protocol_version, McpProxyWaits::RefusedElicitationLine(elicitation.id));
  }
}

void McpHttpProxy::Tell(const Session& session, const std::string& protocol_version,
                        const std::string& line) {
  McpHttpUpstream::Observer observer;
  observer.message = [](const std::string&) { return true; };
  auto told = upstream_.Post(line, McpUpstreamSession{session.id, protocol_version},
                             options_.upstream_ack_wait, observer);
  if (!told.ok()) {
    spdlog::warn("answering the upstream MCP server failed: {}", told.error().message);
  } else if (told->status / 100 != 2) {
    spdlog::warn("the upstream MCP server at {} refused the proxy's answer: HTTP {}",
                 upstream_.url(), told->status);
  }
}

void McpHttpProxy::Delete(const AgentRequest& request, AgentReply& reply) {
  const std::string session_id = HeaderOf(request, "mcp-session-id");
  if (session_id.empty()) {
    Refuse(reply, 400, kJsonRpcInvalidRequest, "DELETE /mcp needs an Mcp-Session-Id");
    return;
  }
  if (Find(session_id) == nullptr) {
    Refuse(reply, 404, kJsonRpcInvalidRequest, "unknown or ended MCP session " + Echo(session_id));
    return;
  }
  auto deleted =
      upstream_.Delete(McpUpstreamSession{session_id, HeaderOf(request, "mcp-protocol-version")},
                       options_.upstream_ack_wait);
  if (!deleted.ok()) {
    spdlog::warn("{}", deleted.error().message);
    Refuse(reply, 502, kJsonRpcInternalError, deleted.error().message);
    return;
  }
  if (deleted->status / 100 == 2 || deleted->status == 404) Forget(session_id);
  AgentHttpServer::Fields fields;
  if (!deleted->content_type.empty()) fields.emplace_back("Content-Type", deleted->content_type);
  (void)reply.Respond(deleted->status, fields, deleted->body);
}

McpHttpProxy::SessionPtr McpHttpProxy::NewSession() {
  auto session = std::make_shared<Session>();
  session->nonce = McpSessionNonce();
  session->proxy = std::make_unique<McpProxySession>(
      gates_, server_, "mcp-proxy-" + McpSessionNonce().substr(0, 16), always_bridge_);
  return session;
}

void McpHttpProxy::Register(const SessionPtr& session) {
  MutexLock lock(mu_);
  session->used = std::chrono::steady_clock::now();
  sessions_[session->id] = session;
  while (sessions_.size() > options_.max_sessions) {
    auto oldest = std::min_element(
        sessions_.begin(), sessions_.end(),
        [](const auto& a, const auto& b) { return a.second->used < b.second->used; });
    spdlog::info("forgetting MCP session {}: more than {} sessions", Echo(oldest->first),
                 options_.max_sessions);
    sessions_.erase(oldest);
  }
}

McpHttpProxy::SessionPtr McpHttpProxy::Find(const std::string& id) {
  MutexLock lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return nullptr;
  it->second->used = std::chrono::steady_clock::now();
  return it->second;
}

void McpHttpProxy::Forget(const std::string& id) {
  MutexLock lock(mu_);
  sessions_.erase(id);
}

std::string McpHttpProxy::WaitKey(const Session& session, const boost::json::value& id) {
  return session.id + "\n" + boost::json::serialize(id);
}

}  // namespace countersign
