#include "mcp/mcp_proxy_session.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace countersign {
namespace {

boost::json::value Json(std::string_view text) { return boost::json::parse(text); }

McpProxySession Session(bool always_bridge = false) {
  McpGate gate;
  gate.tool = "get-*";
  return McpProxySession(McpGateSet({gate}), "everything", "s-1", always_bridge);
}

constexpr std::string_view kInitialize =
    R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25",)"
    R"("capabilities":{},"clientInfo":{"name":"claude-code","version":"1"}}})";
constexpr std::string_view kInitializeEliciting =
    R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25",)"
    R"("capabilities":{"elicitation":{}},"clientInfo":{"name":"c","version":"1"}}})";
constexpr std::string_view kElicit =
    R"({"jsonrpc":"2.0","id":7,"method":"elicitation/create","params":{"message":"Name?",)"
    R"("requestedSchema":{"type":"object","properties":{"name":{"type":"string"}}}}})";

TEST(McpProxySessionTest, UngatedLinesPassThroughByteForByte) {
  McpProxySession session = Session();
  for (std::string_view line :
       {std::string_view(
            R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo"}})"),
        std::string_view(R"({"jsonrpc":"2.0","id":"x","method":"tools/list"}  )"),
        std::string_view("not json at all"), std::string_view(R"([{"jsonrpc":"2.0"}])")}) {
    const ProxyClientStep step = session.FromClient(line);
    ASSERT_TRUE(step.to_upstream) << line;
    EXPECT_EQ(*step.to_upstream, line);
    EXPECT_FALSE(step.hold);
  }
  const std::string_view result = R"({"jsonrpc":"2.0","id":3,"result":{"content":[]}})";
  EXPECT_EQ(*session.FromUpstream(result).to_client, result);
}

TEST(McpProxySessionTest, GatedCallIsHeldWithItsRequestBody) {
  McpProxySession session = Session();
  (void)session.FromClient(kInitialize);
  const ProxyClientStep step = session.FromClient(
      R"({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"get-sum",)"
      R"("arguments":{"a":1,"b":2},"_meta":{"progressToken":5}}})");
  EXPECT_FALSE(step.to_upstream);
  ASSERT_TRUE(step.hold);
  EXPECT_EQ(step.hold->id, 5);
  EXPECT_EQ(step.hold->tool, "get-sum");
  EXPECT_EQ(step.hold->progress_token, 5);
  EXPECT_EQ(step.hold->request_body.at("title"), "claude-code wants to call get-sum on everything");
  EXPECT_EQ(step.hold->request_body.at("arguments"), Json(R"({"a":1,"b":2})"));
  EXPECT_EQ(step.hold->request_body.at("session"), "s-1");
}

TEST(McpProxySessionTest, ApprovedCallGoesUpstreamWithTheApprovedArgumentsAndTheSameId) {
  McpProxySession session = Session();
  const ProxyClientStep step = session.FromClient(
      R"({"jsonrpc":"2.0","id":"c-1","method":"tools/call","params":{"name":"get-sum",)"
      R"("arguments":{"a":1,"b":2}}})");
  ASSERT_TRUE(step.hold);
  const std::string line =
      session.ForwardApproved(*step.hold, Json(R"({"a":10,"b":20})").as_object(), 0);
  EXPECT_EQ(Json(line), Json(R"({"jsonrpc":"2.0","id":"c-1","method":"tools/call",)"
                             R"("params":{"name":"get-sum","arguments":{"a":10,"b":20}}})"));
}

TEST(McpProxySessionTest, UpstreamProgressOfAForwardedCallContinuesTheWaitsCount) {
  McpProxySession session = Session();
  const ProxyClientStep step = session.FromClient(
      R"({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"get-x",)"
      R"("_meta":{"progressToken":"t"}}})");
  ASSERT_TRUE(step.hold);
  (void)session.ForwardApproved(*step.hold, {}, 3);
  const auto shifted = session.FromUpstream(
      R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"t","progress":1,"total":2}})");
  EXPECT_EQ(Json(*shifted.to_client).at("params"),
            Json(R"({"progressToken":"t","progress":4,"total":5})"));
  // Once the call's response has passed, the token is the upstream's own again.
  (void)session.FromUpstream(R"({"jsonrpc":"2.0","id":4,"result":{"content":[]}})");
  const std::string_view later =
      R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"t","progress":1}})";
  EXPECT_EQ(*session.FromUpstream(later).to_client, later);
}

TEST(McpProxySessionTest, ClientWithoutElicitationGetsItDeclaredUpstreamAndBridged) {
  McpProxySession session = Session();
  EXPECT_FALSE(session.Bridging());
  const ProxyClientStep step = session.FromClient(kInitialize);
  ASSERT_TRUE(step.to_upstream);
  EXPECT_EQ(Json(*step.to_upstream).at("params").at("capabilities"), Json(R"({"elicitation":{}})"));
  EXPECT_EQ(Json(*step.to_upstream).at("params").at("clientInfo").at("name"), "claude-code");
  EXPECT_TRUE(session.Bridging());

  const ProxyUpstreamStep elicit = session.FromUpstream(kElicit);
  EXPECT_FALSE(elicit.to_client);
  ASSERT_TRUE(elicit.bridge);
  EXPECT_EQ(elicit.bridge->id, 7);
  EXPECT_EQ(elicit.bridge->mode, ElicitationMode::kForm);
  EXPECT_EQ(elicit.bridge->request_body.at("action"), "mcp.everything.elicitation");
}

TEST(McpProxySessionTest, ClientThatElicitsAnswersElicitationsItself) {
  McpProxySession session = Session();
  const ProxyClientStep step = session.FromClient(kInitializeEliciting);
  EXPECT_EQ(*step.to_upstream, kInitializeEliciting);
  const ProxyUpstreamStep elicit = session.FromUpstream(kElicit);
  EXPECT_FALSE(elicit.bridge);
  EXPECT_EQ(*elicit.to_client, kElicit);
}

TEST(McpProxySessionTest, AlwaysBridgeBridgesEvenForAClientThatElicits) {
  McpProxySession session = Session(/*always_bridge=*/true);
  const ProxyClientStep step = session.FromClient(kInitializeEliciting);
  EXPECT_EQ(*step.to_upstream, kInitializeEliciting);  // declared already: left as sent
  EXPECT_TRUE(session.FromUpstream(kElicit).bridge);
}

TEST(McpProxySessionTest, UnreadableElicitationIsRefusedToTheUpstream) {
  McpProxySession session = Session();
  (void)session.FromClient(kInitialize);
  const ProxyUpstreamStep step = session.FromUpstream(
      R"({"jsonrpc":"2.0","id":8,"method":"elicitation/create","params":{"mode":"telepathy"}})");
  EXPECT_FALSE(step.bridge);
  EXPECT_FALSE(step.to_client);
  ASSERT_TRUE(step.to_upstream);
  EXPECT_EQ(Json(*step.to_upstream).at("error").at("code"), -32602);
  EXPECT_EQ(Json(*step.to_upstream).at("id"), 8);
}

TEST(McpProxySessionTest, CancelledNotificationsNameTheirRequestAndStillPass) {
  McpProxySession session = Session();
  const std::string_view cancel =
      R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":5,"reason":"t"}})";
  const ProxyClientStep from_client = session.FromClient(cancel);
  EXPECT_EQ(*from_client.cancel, 5);
  EXPECT_EQ(*from_client.to_upstream, cancel);
  const ProxyUpstreamStep from_upstream = session.FromUpstream(cancel);
  EXPECT_EQ(*from_upstream.cancel, 5);
  EXPECT_EQ(*from_upstream.to_client, cancel);
}

}  // namespace
}  // namespace countersign
