#include "config/mcp_gate_config.hpp"

#include <gtest/gtest.h>

#include "config/where.hpp"

namespace countersign {
namespace {

Result<std::vector<McpGate>> Read(std::string_view text) {
  auto root = ParseTomlText(text, "proxy.toml");
  if (!root.ok()) return std::move(root).error();
  return ReadMcpGates(*root, "proxy.toml");
}

TEST(McpGateConfigTest, ReadsEveryKeyOfEachGateInOrder) {
  auto gates = Read(R"(
[server]
listen = "ignored: not ours"

[[mcp.gate]]
tool = "delete_*"
action = "fs.delete"
approvers = ["alice", "group:sre"]
timeout_seconds = 600
bridge_elicitation = true

[[mcp.gate]]
tool = "get-sum"
)");
  ASSERT_TRUE(gates.ok()) << gates.error().message;
  ASSERT_EQ(gates->size(), 2u);
  const McpGate& first = (*gates)[0];
  EXPECT_EQ(first.tool, "delete_*");
  EXPECT_EQ(first.action, "fs.delete");
  EXPECT_EQ(first.approvers, (std::vector<std::string>{"alice", "group:sre"}));
  EXPECT_EQ(first.timeout_seconds, 600);
  EXPECT_TRUE(first.bridge_elicitation);
  EXPECT_EQ((*gates)[1].tool, "get-sum");
  EXPECT_FALSE((*gates)[1].timeout_seconds);
  EXPECT_FALSE((*gates)[1].bridge_elicitation);
}

TEST(McpGateConfigTest, NoMcpTableIsNoGates) {
  auto gates = Read("[server]\n");
  ASSERT_TRUE(gates.ok());
  EXPECT_TRUE(gates->empty());
}

TEST(McpGateConfigTest, ErrorsNameTheKey) {
  const std::pair<const char*, const char*> cases[] = {
      {"[[mcp.gate]]\ntool = \"x\"\napprover = [\"a\"]\n",
       "proxy.toml:3: mcp.gate[0].approver: unknown key"},
      {"[[mcp.gate]]\ntool = \"x\"\ntimeout_seconds = 0\n",
       "proxy.toml:3: mcp.gate[0].timeout_seconds must be an integer 1-2592000"},
      {"[[mcp.gate]]\ntool = \"x\"\naction = \"has space\"\n",
       "proxy.toml:3: mcp.gate[0].action must be 1 to 128 of"},
      {"[[mcp.gate]]\ntool = \"x\"\nbridge_elicitation = \"yes\"\n",
       "mcp.gate[0].bridge_elicitation must be true or false"},
      {"[[mcp.gate]]\napprovers = [\"a\"]\n", "mcp.gate[0].tool is required"},
      {"[[mcp.gate]]\ntool = \"\"\n", "mcp.gate[0].tool must be a non-empty string"},
      {"[mcp]\ngates = 1\n", "proxy.toml:2: mcp.gates: unknown key (gate)"},
      {"[mcp]\ngate = 1\n", "mcp.gate must be an array of tables"},
      {"mcp = 1\n", "proxy.toml:1: mcp must be a table"},
  };
  for (const auto& [text, message] : cases) {
    auto gates = Read(text);
    ASSERT_FALSE(gates.ok()) << text;
    EXPECT_NE(gates.error().message.find(message), std::string::npos)
        << text << " gave: " << gates.error().message;
  }
}

}  // namespace
}  // namespace countersign
