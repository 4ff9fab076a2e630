// McpHttpProxy: the Streamable HTTP transport of `countersign mcp proxy --upstream-url`:
// answers the agent's POST, DELETE and GET /mcp (AgentHttpServer) and carries each message to
// the upstream MCP server (McpHttpUpstream), with an McpProxySession per MCP session deciding
// what each message becomes, exactly as the stdio transport (McpProxy) does.
//
// Sessions: the agent's initialize gets a new McpProxySession; the upstream's Mcp-Session-Id
// in its answer names it, and the agent's later requests find it by that header (passed
// through unchanged both ways, as is MCP-Protocol-Version). An upstream that assigns no
// session id gets one session for every agent. At most `max_sessions` are kept; past that the
// least recently used is forgotten. An unknown session is 404 (the agent then starts a new
// one); one the upstream answers 404 for, or that the agent DELETEs, is forgotten.
//
// POST: a message that passes through goes upstream and the upstream's answer comes back: 202
// as 202, a JSON answer as JSON, an event stream as an event stream, each of its messages
// through the session (so the upstream's elicitations are bridged, and its progress for an
// approved call shifted). A gated tools/call is held: its answer is an event stream at once
// (progress every interval when the call asked for it, an SSE comment otherwise), then the
// upstream's answer to the approved call, or the isError result. A notifications/cancelled
// for a held call cancels its request (202, and its stream ends without a response). An agent
// that leaves while its call is held cancels nothing: the request stays pending, but the call
// is not made. The upstream unreachable, or answering what is not MCP: a JSON-RPC error
// (-32603) as a 502, or as the stream's last event once the stream is open. DELETE is passed
// upstream; GET is 405 (no server stream is relayed). A foreign Origin is 403.
//
// Handle() is called on each connection's thread; thread-safe. References must outlive it.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "cli/agent_http_server.hpp"
#include "cli/mcp_agent_answer.hpp"
#include "cli/mcp_http_upstream.hpp"
#include "cli/mcp_proxy_waits.hpp"
#include "cli/worker_threads.hpp"
#include "core/mutex.hpp"
#include "mcp/json_rpc.hpp"
#include "mcp/mcp_gate_set.hpp"
#include "mcp/mcp_proxy_session.hpp"
#include "mcp/tool_runner.hpp"

namespace countersign {

struct McpHttpProxyOptions {
  std::size_t max_waiting = 32;
  std::size_t max_sessions = 1000;
  // The bound URL's origin ("http://127.0.0.1:7401"), an Origin always allowed; loopback
  // origins are allowed too when `loopback`.
  std::string public_origin = {};
  bool loopback = true;
  // How long the upstream may take for each piece of its answer to a request.
  std::chrono::seconds upstream_wait{3600};
  // ... and to a notification or response (202 expected).
  std::chrono::seconds upstream_ack_wait{30};
};

class McpHttpProxy {
 public:
  McpHttpProxy(McpGateSet gates, std::string server, bool always_bridge, const ToolRunner& runner,
               const McpHttpUpstream& upstream, McpHttpProxyOptions options);

  void Handle(const AgentHttpServer::Request& request, AgentHttpServer::Reply& reply);

 private:
  struct Session {
    std::string id;  // the upstream's Mcp-Session-Id; empty when it assigns none
    std::string nonce;
    std::unique_ptr<McpProxySession> proxy;
    std::chrono::steady_clock::time_point used = {};  // written under mu_
  };
  using SessionPtr = std::shared_ptr<Session>;

  void Post(const AgentHttpServer::Request& request, AgentHttpServer::Reply& reply);
  void Delete(const AgentHttpServer::Request& request, AgentHttpServer::Reply& reply);
  // Holds `call` until a person decides, then answers it.
  void Hold(Session& session, const std::string& protocol_version, ProxyHeldCall call,
            McpAgentAnswer& answer);
  // Sends `line` upstream and relays the answer to `answer`; `initialize` when it starts a
  // session (`session` is then registered once the upstream names it).
  void Forward(const SessionPtr& session, const std::string& protocol_version,
               const std::string& line, bool is_request, bool initialize, McpAgentAnswer& answer);
  // One upstream message: through the session, then to the agent, the upstream or a bridge.
  bool FromUpstream(Session& session, const std::string& protocol_version,
                    const std::string& message, McpAgentAnswer& answer);
  void Bridge(Session& session, const std::string& protocol_version,
              ProxyBridgedElicitation elicitation);
  // The proxy's own message to the upstream (an answer to it): logged when not taken.
  void Tell(const Session& session, const std::string& protocol_version, const std::string& line);

  SessionPtr NewSession();
  void Register(const SessionPtr& session);
  SessionPtr Find(const std::string& id);
  void Forget(const std::string& id);

  static std::string WaitKey(const Session& session, const boost::json::value& id);

  const McpGateSet gates_;
  const std::string server_;
  const bool always_bridge_;
  const McpHttpUpstream& upstream_;
  const McpHttpProxyOptions options_;
  McpProxyWaits waits_;

  Mutex mu_;
  std::map<std::string, SessionPtr> sessions_ CS_GUARDED_BY(mu_);
  // Bridged elicitations wait here, so the relay that met one goes on reading.
  Mutex workers_mu_;
  WorkerThreads workers_ CS_GUARDED_BY(workers_mu_);
};

}  // namespace countersign
