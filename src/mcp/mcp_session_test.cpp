#include "mcp/mcp_session.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "mcp/json_rpc.hpp"

namespace countersign {
namespace {

constexpr const char* kInitialize =
    R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25",)"
    R"("capabilities":{},"clientInfo":{"name":"test","version":"1"}}})";

boost::json::object ReplyOf(const McpStep& step) {
  EXPECT_TRUE(step.reply.has_value());
  if (!step.reply) return {};
  return boost::json::parse(*step.reply).as_object();
}

std::int64_t ErrorCodeOf(const McpStep& step) {
  return ReplyOf(step).at("error").at("code").as_int64();
}

class McpSessionTest : public ::testing::Test {
 protected:
  McpSession session_{McpServerIdentity{"countersign", "0.1.0"}};

  void Initialize() { ASSERT_TRUE(ReplyOf(session_.Handle(kInitialize)).contains("result")); }
};

TEST_F(McpSessionTest, InitializeEchoesASupportedVersionAndDescribesTheServer) {
  const auto reply = ReplyOf(session_.Handle(kInitialize));
  EXPECT_EQ(reply.at("id"), boost::json::value(0));
  const auto& result = reply.at("result").as_object();
  EXPECT_EQ(result.at("protocolVersion"), "2025-11-25");
  EXPECT_EQ(result.at("capabilities"), boost::json::parse(R"({"tools":{"listChanged":false}})"));
  EXPECT_EQ(result.at("serverInfo"),
            boost::json::parse(R"({"name":"countersign","version":"0.1.0"})"));
  EXPECT_NE(result.at("instructions").as_string().find("request_approval"), std::string::npos);
  EXPECT_EQ(session_.protocol_version(), "2025-11-25");
}

TEST_F(McpSessionTest, InitializeEchoesTheOlderVersionAndAnswersItsLatestToAnUnknownOne) {
  McpSession older({"countersign", "1"});
  auto reply = ReplyOf(older.Handle(
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18"}})"));
  EXPECT_EQ(reply.at("result").at("protocolVersion"), "2025-06-18");

  McpSession newer({"countersign", "1"});
  reply = ReplyOf(newer.Handle(
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2026-07-28"}})"));
  EXPECT_EQ(reply.at("result").at("protocolVersion"), "2025-11-25");
}

TEST_F(McpSessionTest, InitializeWithoutAVersionIsInvalidParams) {
  EXPECT_EQ(ErrorCodeOf(session_.Handle(R"({"jsonrpc":"2.0","id":1,"method":"initialize"})")),
            kJsonRpcInvalidParams);
  EXPECT_TRUE(session_.protocol_version().empty());
}

TEST_F(McpSessionTest, RequestsBeforeInitializeAreRefusedButPingIsAnswered) {
  EXPECT_EQ(ErrorCodeOf(session_.Handle(R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})")),
            kJsonRpcInvalidRequest);
  const auto pong = ReplyOf(session_.Handle(R"({"jsonrpc":"2.0","id":2,"method":"ping"})"));
  EXPECT_EQ(pong.at("result"), boost::json::object());
}

TEST_F(McpSessionTest, ASecondInitializeIsRefused) {
  Initialize();
  EXPECT_EQ(ErrorCodeOf(session_.Handle(kInitialize)), kJsonRpcInvalidRequest);
}

TEST_F(McpSessionTest, ListsEveryToolWithItsSchemasAndAnnotations) {
  Initialize();
  const auto reply = ReplyOf(
      session_.Handle(R"({"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"cursor":"c"}})"));
  const auto& tools = reply.at("result").at("tools").as_array();
  ASSERT_EQ(tools.size(), 5u);
  std::vector<std::string> names;
  for (const auto& tool : tools) {
    const auto& object = tool.as_object();
    names.emplace_back(object.at("name").as_string());
    EXPECT_EQ(object.at("inputSchema").at("type"), "object");
    EXPECT_EQ(object.at("outputSchema").at("type"), "object");
    EXPECT_TRUE(object.at("annotations").is_object());
    EXPECT_FALSE(object.at("description").as_string().empty());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"request_approval", "ask_human", "get_request",
                                             "cancel_request", "permission_prompt"}));
  EXPECT_FALSE(reply.at("result").as_object().contains("nextCursor"));
}

TEST_F(McpSessionTest, AToolCallIsHandedToTheTransportWithItsProgressToken) {
  Initialize();
  const auto step = session_.Handle(
      R"({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"request_approval",)"
      R"("arguments":{"action":"a","title":"t"},"_meta":{"progressToken":0}}})");
  EXPECT_FALSE(step.reply.has_value());
  ASSERT_TRUE(step.call.has_value());
  EXPECT_EQ(step.call->id, boost::json::value(5));
  EXPECT_EQ(step.call->tool, McpTool::kRequestApproval);
  EXPECT_EQ(step.call->arguments.at("action"), "a");
  EXPECT_EQ(step.call->progress_token, boost::json::value(0));  // 0 is a token, not "none"
}

TEST_F(McpSessionTest, AToolCallWithoutProgressTokenOrArgumentsIsStillACall) {
  Initialize();
  const auto step = session_.Handle(
      R"({"jsonrpc":"2.0","id":"x","method":"tools/call","params":{"name":"get_request"}})");
  ASSERT_TRUE(step.call.has_value());
  EXPECT_TRUE(step.call->progress_token.is_null());
  EXPECT_TRUE(step.call->arguments.empty());
}

TEST_F(McpSessionTest, AnUnknownToolOrBadCallParamsAreInvalidParams) {
  Initialize();
  const auto unknown = session_.Handle(
      R"({"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"rm_rf"}})");
  EXPECT_EQ(ErrorCodeOf(unknown), kJsonRpcInvalidParams);
  EXPECT_NE(ReplyOf(unknown).at("error").at("message").as_string().find("rm_rf"),
            std::string::npos);
  EXPECT_EQ(ErrorCodeOf(session_.Handle(R"({"jsonrpc":"2.0","id":7,"method":"tools/call"})")),
            kJsonRpcInvalidParams);
  EXPECT_EQ(
      ErrorCodeOf(session_.Handle(
          R"({"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"get_request","arguments":[1]}})")),
      kJsonRpcInvalidParams);
}

TEST_F(McpSessionTest, UnknownMethodsAreMethodNotFoundAndUnknownNotificationsAreIgnored) {
  Initialize();
  EXPECT_EQ(ErrorCodeOf(session_.Handle(R"({"jsonrpc":"2.0","id":9,"method":"resources/list"})")),
            kJsonRpcMethodNotFound);
  const auto step = session_.Handle(R"({"jsonrpc":"2.0","method":"notifications/whatever"})");
  EXPECT_FALSE(step.reply || step.call || step.cancel);
}

TEST_F(McpSessionTest, CancelledNotificationsNameTheCallToCancel) {
  Initialize();
  const auto step = session_.Handle(
      R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":5,"reason":"timeout"}})");
  ASSERT_TRUE(step.cancel.has_value());
  EXPECT_EQ(*step.cancel, boost::json::value(5));
  EXPECT_FALSE(step.reply.has_value());
}

TEST_F(McpSessionTest, MalformedLinesGetParseAndInvalidRequestErrors) {
  const auto parse = session_.Handle("{nope");
  EXPECT_EQ(ErrorCodeOf(parse), kJsonRpcParseError);
  EXPECT_FALSE(ReplyOf(parse).contains("id"));
  const auto batch = session_.Handle(R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])");
  EXPECT_EQ(ErrorCodeOf(batch), kJsonRpcInvalidRequest);
  const auto no_version = session_.Handle(R"({"id":12,"method":"ping"})");
  EXPECT_EQ(ErrorCodeOf(no_version), kJsonRpcInvalidRequest);
  EXPECT_EQ(ReplyOf(no_version).at("id"), boost::json::value(12));
}

TEST_F(McpSessionTest, ResponsesFromTheClientGetNoReply) {
  const auto step = session_.Handle(R"({"jsonrpc":"2.0","id":1,"result":{}})");
  EXPECT_FALSE(step.reply || step.call || step.cancel);
}

}  // namespace
}  // namespace countersign
