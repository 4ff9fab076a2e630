#include "mcp/mcp_gate_set.hpp"

#include <string>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

namespace countersign {
namespace {

McpGate Gate(std::string tool) {
  McpGate gate;
  gate.tool = std::move(tool);
  return gate;
}

TEST(McpGateSetTest, FirstGateWhoseGlobMatchesHoldsTheCall) {
  McpGate deletes = Gate("delete_*");
  deletes.approvers = {"group:sre"};
  const McpGateSet gates({deletes, Gate("*"), Gate("get-sum")});
  ASSERT_NE(gates.Match("delete_user"), nullptr);
  EXPECT_EQ(gates.Match("delete_user")->approvers, std::vector<std::string>{"group:sre"});
  EXPECT_EQ(gates.Match("get-sum")->tool, "*");
}

TEST(McpGateSetTest, NoMatchingGateLetsTheCallThrough) {
  const McpGateSet gates({Gate("get-?um"), Gate("trigger-*")});
  EXPECT_NE(gates.Match("get-sum"), nullptr);
  EXPECT_NE(gates.Match("trigger-long-running-operation"), nullptr);
  EXPECT_EQ(gates.Match("echo"), nullptr);
  EXPECT_EQ(gates.Match("get-summary"), nullptr);
  EXPECT_EQ(McpGateSet({}).Match("echo"), nullptr);
}

TEST(McpGateSetTest, ElicitationGateIsTheFirstThatBridges) {
  McpGate bridging = Gate("b");
  bridging.bridge_elicitation = true;
  EXPECT_EQ(McpGateSet({Gate("a")}).ElicitationGate(), nullptr);
  EXPECT_EQ(McpGateSet({Gate("a"), bridging}).ElicitationGate()->tool, "b");
}

TEST(McpGateSetTest, ActionIsMcpServerToolMadeSafeAndCut) {
  EXPECT_EQ(GatedCallAction(Gate("*"), "everything", "get-sum"), "mcp.everything.get-sum");
  EXPECT_EQ(GatedCallAction(Gate("*"), "fs", "read file!"), "mcp.fs.read_file_");
  const std::string long_tool(200, 't');
  EXPECT_EQ(GatedCallAction(Gate("*"), "s", long_tool).size(), 128u);
  McpGate own = Gate("*");
  own.action = "deploy_production";
  EXPECT_EQ(GatedCallAction(own, "s", "deploy"), "deploy_production");
}

TEST(McpGateSetTest, ServerNameIsTheCommandsBasename) {
  EXPECT_EQ(McpServerNameForCommand("/usr/local/bin/mcp-server-git"), "mcp-server-git");
  EXPECT_EQ(McpServerNameForCommand("npx"), "npx");
  EXPECT_EQ(McpServerNameForCommand("./my server"), "my_server");
  EXPECT_EQ(McpServerNameForCommand(""), "upstream");
  EXPECT_EQ(McpActionPart("a b\xc3\xa9"), "a_b__");
}

TEST(McpGateSetTest, RequestBodyCarriesTheCallTheSessionAndTheGatesAudience) {
  McpGate gate = Gate("get-*");
  gate.approvers = {"alice", "group:sre"};
  gate.timeout_seconds = 600;
  const auto arguments = boost::json::parse(R"({"a":1,"b":2})").as_object();
  const auto body = GatedCallRequestBody(gate, McpProxyIdentity{"everything", "claude-code", "s-1"},
                                         "get-sum", arguments);
  EXPECT_EQ(body, boost::json::parse(R"({"kind":"approval","action":"mcp.everything.get-sum",
      "title":"claude-code wants to call get-sum on everything",
      "details":{"server":"everything","tool":"get-sum"},"arguments":{"a":1,"b":2},
      "session":"s-1","approvers":["alice","group:sre"],"timeout_seconds":600})"));
}

TEST(McpGateSetTest, RequestBodyLeavesThePolicyItsAudienceWhenTheGateSaysNothing) {
  const auto body = GatedCallRequestBody(Gate("*"), McpProxyIdentity{"s", "a", ""}, "t", {});
  EXPECT_FALSE(body.contains("approvers"));
  EXPECT_FALSE(body.contains("timeout_seconds"));
  EXPECT_FALSE(body.contains("session"));
  EXPECT_EQ(body.at("arguments"), boost::json::object());
}

}  // namespace
}  // namespace countersign
