#include "mcp/tool_arguments.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace countersign {
namespace {

boost::json::object Object(std::string_view text) { return boost::json::parse(text).as_object(); }

TEST(ToolArgumentsTest, RequestApprovalBecomesAnApprovalRequest) {
  auto body = RequestBodyFor(
      McpTool::kRequestApproval,
      Object(R"({"action":"deploy_production","title":"Deploy v2","details":{"ticket":"OPS-1"},)"
             R"("arguments":{"ref":"v2"},"approvers":["group:sre"],"timeout_seconds":60,)"
             R"("session":"s1","unknown":true})"));
  ASSERT_TRUE(body.ok()) << body.error().message;
  EXPECT_EQ(*body, Object(R"({"kind":"approval","action":"deploy_production","title":"Deploy v2",)"
                          R"("details":{"ticket":"OPS-1"},"arguments":{"ref":"v2"},)"
                          R"("approvers":["group:sre"],"timeout_seconds":60,"session":"s1"})"));
}

TEST(ToolArgumentsTest, RequestApprovalPassesItsResponseSchemaThrough) {
  const char* schema = R"({"type":"object","properties":{"ticket":{"type":"string"}}})";
  auto body = RequestBodyFor(
      McpTool::kRequestApproval,
      Object(std::string(R"({"action":"a","title":"t","response_schema":)") + schema + "}"));
  ASSERT_TRUE(body.ok()) << body.error().message;
  EXPECT_EQ(body->at("response_schema"), boost::json::parse(schema));
  auto not_an_object = RequestBodyFor(McpTool::kRequestApproval,
                                      Object(R"({"action":"a","title":"t","response_schema":[]})"));
  ASSERT_FALSE(not_an_object.ok());
  EXPECT_NE(not_an_object.error().message.find("response_schema"), std::string::npos);
}

TEST(ToolArgumentsTest, RequestApprovalChecksTypesAndTheActionCharset) {
  for (std::string_view text :
       {R"({"title":"t"})", R"({"action":"","title":"t"})", R"({"action":"a b","title":"t"})",
        R"({"action":"a"})", R"({"action":"a","title":5})",
        R"({"action":"a","title":"t","details":[]})",
        R"({"action":"a","title":"t","arguments":"x"})",
        R"({"action":"a","title":"t","approvers":"bob"})",
        R"({"action":"a","title":"t","approvers":[1]})",
        R"({"action":"a","title":"t","timeout_seconds":1.5})",
        R"({"action":"a","title":"t","session":3})"}) {
    auto body = RequestBodyFor(McpTool::kRequestApproval, Object(text));
    ASSERT_FALSE(body.ok()) << text;
    EXPECT_EQ(body.error().code, ErrorCode::kInvalid) << text;
  }
  auto long_action =
      RequestBodyFor(McpTool::kRequestApproval,
                     Object(R"({"title":"t","action":")" + std::string(129, 'a') + "\"}"));
  EXPECT_FALSE(long_action.ok());
}

TEST(ToolArgumentsTest, NullCountsAsAbsent) {
  auto body =
      RequestBodyFor(McpTool::kRequestApproval,
                     Object(R"({"action":"a","title":"t","details":null,"approvers":null})"));
  ASSERT_TRUE(body.ok());
  EXPECT_FALSE(body->contains("details"));
  EXPECT_FALSE(body->contains("approvers"));
}

TEST(ToolArgumentsTest, AskHumanBecomesAQuestionWithItsResponseSchema) {
  auto body = RequestBodyFor(
      McpTool::kAskHuman,
      Object(
          R"({"question":"Which region?","response_schema":{"type":"object"},"approvers":["bob"]})"));
  ASSERT_TRUE(body.ok()) << body.error().message;
  EXPECT_EQ(*body, Object(R"({"kind":"question","action":"mcp.ask_human","title":"Which region?",)"
                          R"("response_schema":{"type":"object"},"approvers":["bob"]})"));
  EXPECT_FALSE(RequestBodyFor(McpTool::kAskHuman, Object(R"({"question":""})")).ok());
  EXPECT_FALSE(
      RequestBodyFor(McpTool::kAskHuman, Object(R"({"question":"q","response_schema":true})"))
          .ok());
}

TEST(ToolArgumentsTest, ALongQuestionIsCutForTheTitleAndKeptWholeInDetails) {
  const std::string question(600, 'q');
  auto body = RequestBodyFor(McpTool::kAskHuman,
                             Object(R"({"question":")" + question + R"(","details":{"x":1}})"));
  ASSERT_TRUE(body.ok());
  EXPECT_LE(body->at("title").as_string().size(), 512u);
  EXPECT_EQ(std::string(body->at("details").at("question").as_string()), question);
  EXPECT_EQ(body->at("details").at("x"), 1);
}

TEST(ToolArgumentsTest, PermissionPromptAsksAboutTheToolWithItsInputAsArguments) {
  auto body = RequestBodyFor(
      McpTool::kPermissionPrompt,
      Object(R"({"tool_name":"Bash","input":{"command":"rm -rf build"},"tool_use_id":"toolu_1"})"));
  ASSERT_TRUE(body.ok()) << body.error().message;
  EXPECT_EQ(*body, Object(R"({"kind":"approval","action":"claude.Bash",)"
                          R"("title":"Claude Code wants to use Bash",)"
                          R"("details":{"tool_name":"Bash","tool_use_id":"toolu_1"},)"
                          R"("arguments":{"command":"rm -rf build"}})"));
  EXPECT_FALSE(RequestBodyFor(McpTool::kPermissionPrompt, Object(R"({"input":{}})")).ok());
  EXPECT_FALSE(
      RequestBodyFor(McpTool::kPermissionPrompt, Object(R"({"tool_name":"x","input":"ls"})")).ok());
}

TEST(ToolArgumentsTest, PermissionPromptActionsKeepToTheActionCharsetAndLength) {
  EXPECT_EQ(PermissionPromptAction("mcp__github__create_issue"),
            "claude.mcp__github__create_issue");
  EXPECT_EQ(PermissionPromptAction("Web Fetch!\xc3\xa9"), "claude.Web_Fetch___");
  EXPECT_EQ(PermissionPromptAction(std::string(300, 'x')).size(), 128u);
}

TEST(ToolArgumentsTest, GetAndCancelTakeAnIdAndAnOptionalReason) {
  EXPECT_EQ(*RequestIdArgument(Object(R"({"id":"req_1"})")), "req_1");
  EXPECT_FALSE(RequestIdArgument(Object(R"({"id":5})")).ok());
  EXPECT_FALSE(RequestIdArgument(Object("{}")).ok());
  EXPECT_EQ(*CancelReasonArgument(Object("{}")), kMcpCancelReason);
  EXPECT_EQ(*CancelReasonArgument(Object(R"({"reason":"done"})")), "done");
  EXPECT_FALSE(CancelReasonArgument(Object(R"({"reason":1})")).ok());
  EXPECT_FALSE(RequestBodyFor(McpTool::kGetRequest, Object("{}")).ok());
}

}  // namespace
}  // namespace countersign
