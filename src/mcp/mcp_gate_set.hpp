// McpGateSet: which of an upstream MCP server's tools `countersign mcp proxy` holds for a
// person's approval, and what it asks the gateway for each.
//
// A gate names tools by a glob (`*` and `?`, policy/glob.hpp); the first gate whose glob
// matches a tools/call's name holds the call. The request a held call becomes: action
// `mcp.<server>.<tool>` (or the gate's own `action`), title "<agent> wants to call <tool> on
// <server>", the call's arguments, details {server, tool}, the proxy run's session (so a
// session grant lets the next matching calls through), and the gate's approvers and
// timeout. Names are made safe for an action: every byte outside [A-Za-z0-9_.:/-] becomes
// '_', and an action is cut to 128 bytes. Immutable after construction; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

namespace countersign {

struct McpGate {
  std::string tool;                             // a glob over tool names
  std::string action;                           // empty: mcp.<server>.<tool>
  std::vector<std::string> approvers;           // empty: the policy's
  std::optional<std::int64_t> timeout_seconds;  // none: the policy's
  bool bridge_elicitation = false;  // bridge every elicitation, even for a client that can
};

// Who the proxy is, for the requests it creates.
struct McpProxyIdentity {
  std::string server;   // the upstream's name, already safe for an action (McpActionPart)
  std::string agent;    // the client's clientInfo.name, or a stand-in
  std::string session;  // this proxy run's session label
};

class McpGateSet {
 public:
  explicit McpGateSet(std::vector<McpGate> gates) : gates_(std::move(gates)) {}

  // The first gate whose glob matches `tool`, or nullptr.
  const McpGate* Match(std::string_view tool) const;

  // The first gate with bridge_elicitation, or nullptr: its approvers and timeout serve the
  // elicitations the proxy bridges.
  const McpGate* ElicitationGate() const;

  const std::vector<McpGate>& gates() const { return gates_; }

 private:
  std::vector<McpGate> gates_;
};

// `text` with every byte outside [A-Za-z0-9_.:/-] made '_', at most 128 bytes.
std::string McpActionPart(std::string_view text);

// The default server name for an upstream started as `command`: its basename, made safe.
std::string McpServerNameForCommand(std::string_view command);

// The action a held call of `tool` asks about under `gate`.
std::string GatedCallAction(const McpGate& gate, std::string_view server, std::string_view tool);

// The body of POST /v1/requests for a held call of `tool` with `arguments`.
boost::json::object GatedCallRequestBody(const McpGate& gate, const McpProxyIdentity& identity,
                                         std::string_view tool,
                                         const boost::json::object& arguments);

}  // namespace countersign
