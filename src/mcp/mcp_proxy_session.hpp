// McpProxySession: what `countersign mcp proxy` does with each line between an MCP client (the
// agent) and the upstream MCP server it stands in front of, as decisions without I/O.
//
// Every line passes through unchanged, except:
//  - the client's `initialize`: its capabilities and clientInfo.name are remembered, and when
//    the proxy may bridge elicitations (the client declared no `elicitation`, or
//    `always_bridge`) `capabilities.elicitation: {}` is added before it goes upstream, since
//    servers offer elicitation only to clients that declare it;
//  - a client `tools/call` whose tool a gate matches: held (ProxyClientStep::hold) instead of
//    sent; the transport asks the gateway and, once approved, sends ForwardApproved();
//  - the upstream's `elicitation/create` while bridging: answered by the proxy
//    (ProxyUpstreamStep::bridge); one it cannot read is answered -32602 at once;
//  - the upstream's `notifications/progress` for a forwarded call whose waiting already sent
//    the agent progress: shifted by that count, so the agent's progress keeps increasing.
// A `notifications/cancelled` from either side is passed on unless the transport holds the
// call or elicitation it names (`cancel`). Lines that are not JSON-RPC pass through. Thread-
// safe: the client's and the upstream's reading threads call it at once.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/mutex.hpp"
#include "mcp/elicitation_bridge.hpp"
#include "mcp/mcp_gate_set.hpp"

namespace countersign {

// A gated tools/call, held until a person decides.
struct ProxyHeldCall {
  boost::json::value id;
  std::string tool;
  boost::json::value progress_token;  // null when the client sent none
  boost::json::object request_body;   // POST /v1/requests, without the idempotency key
  boost::json::object message;        // the call as the client sent it
};

// An upstream elicitation the proxy answers through the gateway.
struct ProxyBridgedElicitation {
  boost::json::value id;
  ElicitationMode mode = ElicitationMode::kForm;
  boost::json::object request_body;  // POST /v1/requests, without the idempotency key
};

struct ProxyClientStep {
  std::optional<std::string> to_upstream;    // the line to send upstream (unless `cancel` hits)
  std::optional<ProxyHeldCall> hold;         // a call to hold
  std::optional<boost::json::value> cancel;  // requestId of a client notifications/cancelled
};

struct ProxyUpstreamStep {
  std::optional<std::string> to_client;    // the line to send the client (unless `cancel` hits)
  std::optional<std::string> to_upstream;  // the proxy's own answer to the upstream
  std::optional<ProxyBridgedElicitation> bridge;
  std::optional<boost::json::value> cancel;  // requestId of an upstream notifications/cancelled
};

class McpProxySession {
 public:
  // `server` is already safe for an action (McpActionPart); `session` labels the requests.
  McpProxySession(McpGateSet gates, std::string server, std::string session, bool always_bridge);

  ProxyClientStep FromClient(std::string_view line);
  ProxyUpstreamStep FromUpstream(std::string_view line);

  // The tools/call line for `call`, approved with `arguments`. `progress_sent` is how many
  // progress notifications the wait sent the agent under the call's token.
  std::string ForwardApproved(const ProxyHeldCall& call, boost::json::object arguments,
                              std::int64_t progress_sent);

  // Whether elicitations are bridged now (before initialize: only when `always_bridge`).
  bool Bridging() const;

 private:
  struct ProgressShift {
    std::string call_id;  // the forwarded call's id, as JSON text
    std::int64_t offset = 0;
  };

  std::string Initialize(std::string_view line, boost::json::object message);
  std::optional<ProxyHeldCall> Gate(const boost::json::value& id,
                                    const boost::json::object& message);
  McpProxyIdentity Identity() const;

  const McpGateSet gates_;
  const std::string server_;
  const std::string session_;
  const bool always_bridge_;

  mutable Mutex mu_;
  bool initialized_ CS_GUARDED_BY(mu_) = false;
  bool client_elicits_ CS_GUARDED_BY(mu_) = false;
  std::string agent_ CS_GUARDED_BY(mu_) = "An agent";
  // By progress token (JSON text).
  std::map<std::string, ProgressShift> shifts_ CS_GUARDED_BY(mu_);
};

}  // namespace countersign
