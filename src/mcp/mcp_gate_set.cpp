#include "mcp/mcp_gate_set.hpp"

#include <boost/json/array.hpp>

#include "core/result.hpp"
#include "policy/glob.hpp"

namespace countersign {
namespace {

constexpr std::size_t kMaxActionBytes = 128;
constexpr std::size_t kMaxTitlePartBytes = 150;  // three parts stay under the 512-byte title

bool IsActionByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == ':' || c == '/' || c == '-';
}

}  // namespace

const McpGate* McpGateSet::Match(std::string_view tool) const {
  for (const auto& gate : gates_) {
    if (GlobMatch(gate.tool, tool)) return &gate;
  }
  return nullptr;
}

const McpGate* McpGateSet::ElicitationGate() const {
  for (const auto& gate : gates_) {
    if (gate.bridge_elicitation) return &gate;
  }
  return nullptr;
}

std::string McpActionPart(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (out.size() == kMaxActionBytes) break;
    out += IsActionByte(c) ? c : '_';
  }
  return out;
}

std::string McpServerNameForCommand(std::string_view command) {
  while (command.size() > 1 && command.back() == '/') command.remove_suffix(1);
  if (const auto slash = command.rfind('/');
      slash != std::string_view::npos && command.size() > 1) {
    command.remove_prefix(slash + 1);
  }
  std::string name = McpActionPart(command);
  return name.empty() ? std::string("upstream") : name;
}

std::string GatedCallAction(const McpGate& gate, std::string_view server, std::string_view tool) {
  if (!gate.action.empty()) return gate.action;
  std::string action = "mcp.";
  action += server;
  action += '.';
  action += tool;
  return McpActionPart(action);
}

boost::json::object GatedCallRequestBody(const McpGate& gate, const McpProxyIdentity& identity,
                                         std::string_view tool,
                                         const boost::json::object& arguments) {
  boost::json::object body{{"kind", "approval"},
                           {"action", GatedCallAction(gate, identity.server, tool)}};
  body["title"] = Echo(identity.agent, kMaxTitlePartBytes) + " wants to call " +
                  Echo(tool, kMaxTitlePartBytes) + " on " +
                  Echo(identity.server, kMaxTitlePartBytes);
  body["details"] = boost::json::object{{"server", identity.server}, {"tool", tool}};
  body["arguments"] = arguments;
  if (!identity.session.empty()) body["session"] = identity.session;
  if (!gate.approvers.empty()) {
    boost::json::array approvers;
    for (const auto& approver : gate.approvers) approvers.emplace_back(approver);
    body["approvers"] = std::move(approvers);
  }
  if (gate.timeout_seconds) body["timeout_seconds"] = *gate.timeout_seconds;
  return body;
}

}  // namespace countersign
