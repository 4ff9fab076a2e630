#include "config/mcp_gate_config.hpp"

#include "config/toml_values.hpp"
#include "config/where.hpp"

namespace countersign {
namespace {

constexpr std::int64_t kMaxTimeoutSeconds = 30LL * 24 * 60 * 60;
constexpr std::size_t kMaxActionBytes = 128;

bool IsAction(const std::string& action) {
  if (action.empty() || action.size() > kMaxActionBytes) return false;
  for (char c : action) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == ':' || c == '/' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Status ReadGateKey(const std::string& key, const toml::node& value, const std::string& where,
                   McpGate& gate) {
  if (key == "tool") {
    auto tool = ReadNonEmptyText(value, where);
    if (!tool.ok()) return std::move(tool).error();
    gate.tool = std::move(tool).value();
  } else if (key == "action") {
    auto action = ReadNonEmptyText(value, where);
    if (!action.ok()) return std::move(action).error();
    if (!IsAction(*action)) {
      return Error::Invalid(where + " must be 1 to 128 of A-Z a-z 0-9 _ . : / -");
    }
    gate.action = std::move(action).value();
  } else if (key == "approvers") {
    auto approvers = ReadStringList(value, where, /*allow_empty_items=*/false);
    if (!approvers.ok()) return std::move(approvers).error();
    gate.approvers = std::move(approvers).value();
  } else if (key == "timeout_seconds") {
    auto timeout = ReadIntegerBetween(value, where, 1, kMaxTimeoutSeconds);
    if (!timeout.ok()) return std::move(timeout).error();
    gate.timeout_seconds = *timeout;
  } else if (key == "bridge_elicitation") {
    auto bridge = ReadBool(value, where);
    if (!bridge.ok()) return std::move(bridge).error();
    gate.bridge_elicitation = *bridge;
  } else {
    return Error::Invalid(where +
                          ": unknown key (tool, action, approvers, timeout_seconds, "
                          "bridge_elicitation)");
  }
  return Ok();
}

Result<McpGate> ReadGate(const toml::node& node, const std::string& file, std::size_t index) {
  const std::string name = "mcp.gate[" + std::to_string(index) + "]";
  const toml::table* table = node.as_table();
  if (table == nullptr) return Error::Invalid(Where(file, node, name) + " must be a table");
  McpGate gate;
  for (const auto& [key_node, value] : *table) {
    const std::string key(key_node.str());
    CS_RETURN_IF_ERROR(ReadGateKey(key, value, Where(file, value, name + "." + key), gate));
  }
  if (gate.tool.empty()) {
    return Error::Invalid(Where(file, node, name + ".tool") + " is required (a tool name glob)");
  }
  return gate;
}

}  // namespace

Result<std::vector<McpGate>> ReadMcpGates(const toml::table& root, const std::string& file) {
  std::vector<McpGate> gates;
  const toml::node* node = root.get("mcp");
  if (node == nullptr) return gates;
  const toml::table* mcp = node->as_table();
  if (mcp == nullptr) return Error::Invalid(Where(file, *node, "mcp") + " must be a table");
  for (const auto& [key_node, value] : *mcp) {
    const std::string key(key_node.str());
    if (key != "gate")
      return Error::Invalid(Where(file, value, "mcp." + key) + ": unknown key (gate)");
    const toml::array* list = value.as_array();
    if (list == nullptr) {
      return Error::Invalid(Where(file, value, "mcp.gate") +
                            " must be an array of tables ([[mcp.gate]])");
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
      auto gate = ReadGate(*list->get(i), file, i);
      if (!gate.ok()) return std::move(gate).error();
      gates.push_back(std::move(gate).value());
    }
  }
  return gates;
}

Result<std::vector<McpGate>> ReadMcpGateFile(const std::string& path) {
  auto root = ParseTomlFile(path);
  if (!root.ok()) return std::move(root).error();
  return ReadMcpGates(*root, path);
}

}  // namespace countersign
