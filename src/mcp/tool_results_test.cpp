#include "mcp/tool_results.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace countersign {
namespace {

boost::json::object Object(std::string_view text) { return boost::json::parse(text).as_object(); }

const char* kApproved = R"({"id":"req_A","kind":"approval","action":"deploy","title":"Deploy",
  "arguments":{"ref":"v2","replicas":3},"requester":"bot","status":"approved",
  "created_at":"2026-11-21T10:00:00.000Z","deadline_at":"2026-11-21T10:05:00.000Z",
  "decisions":[{"id":"dec_1","by":"alice","choice":"approve","outcome":"approved","comment":"ok",
                "at":"2026-11-21T10:01:00.000Z","arguments":{"ref":"v2","replicas":2}}],
  "resolved_at":"2026-11-21T10:01:00.000Z","resolved_by":["alice"],"receipt":"a.b.c",
  "reason_code":"approved"})";

std::string TextOf(const boost::json::object& result) {
  return std::string(result.at("content").at(0).at("text").as_string());
}

TEST(ToolResultsTest, AnApprovalCarriesTheEditedArgumentsAndTheReceipt) {
  const auto result = ToolResultForRequest(McpTool::kRequestApproval, Object(kApproved));
  EXPECT_FALSE(result.contains("isError"));
  const auto& structured = result.at("structuredContent").as_object();
  EXPECT_EQ(structured, Object(R"({"request_id":"req_A","status":"approved",
    "reason_code":"approved","approved_by":["alice"],
    "arguments":{"ref":"v2","replicas":2},"arguments_edited":true,
    "comments":[{"by":"alice","comment":"ok"}],"receipt":"a.b.c","receipt_jti":null,
    "receipt_use":null})"));
  EXPECT_EQ(boost::json::parse(TextOf(result)), structured);
}

TEST(ToolResultsTest, AnApprovalNamesItsReceiptsJtiAndWhetherItIsSingleUse) {
  auto request = Object(kApproved);
  // base64url of {"jti":"rct_0123","receipt_use":"single_use"}, as a receipt's payload.
  request["receipt"] =
      "eyJhbGciOiJFZERTQSJ9.eyJqdGkiOiJyY3RfMDEyMyIsInJlY2VpcHRfdXNlIjoic2luZ2xlX3VzZSJ9.c2ln";
  request["receipt_use"] = "single_use";
  const auto result = ToolResultForRequest(McpTool::kRequestApproval, request);
  EXPECT_EQ(result.at("structuredContent").at("receipt_jti"), "rct_0123");
  EXPECT_EQ(result.at("structuredContent").at("receipt_use"), "single_use");
}

TEST(ToolResultsTest, AnApprovalWithoutEditsCarriesTheOriginalArguments) {
  auto request = Object(kApproved);
  request["decisions"].as_array()[0].as_object().erase("arguments");
  const auto result = ToolResultForRequest(McpTool::kRequestApproval, request);
  EXPECT_EQ(result.at("structuredContent").at("arguments"), Object(R"({"ref":"v2","replicas":3})"));
  EXPECT_EQ(result.at("structuredContent").at("arguments_edited"), false);
}

TEST(ToolResultsTest, AnApprovalWithAFormCarriesTheFilledInResponse) {
  auto request = Object(kApproved);
  request["response"] = Object(R"({"ticket":"CHG-7"})");
  auto result = ToolResultForRequest(McpTool::kRequestApproval, request);
  EXPECT_EQ(result.at("structuredContent").at("response"), Object(R"({"ticket":"CHG-7"})"));
  request["response"] = nullptr;
  result = ToolResultForRequest(McpTool::kRequestApproval, request);
  EXPECT_FALSE(result.at("structuredContent").as_object().contains("response"));
}

TEST(ToolResultsTest, ADenialIsAnErrorNamingTheDenierAndTheComment) {
  auto request = Object(kApproved);
  request["status"] = "denied";
  request["decisions"] = boost::json::parse(
      R"([{"by":"bob","choice":"deny","outcome":"denied","comment":"not on a Friday"}])");
  request["resolved_by"] = boost::json::array{"bob"};
  const auto result = ToolResultForRequest(McpTool::kRequestApproval, request);
  EXPECT_EQ(result.at("isError"), true);
  EXPECT_FALSE(result.contains("structuredContent"));
  const std::string text = TextOf(result);
  EXPECT_EQ(text.rfind("denied: ", 0), 0u) << text;
  EXPECT_NE(text.find("bob"), std::string::npos);
  EXPECT_NE(text.find("not on a Friday"), std::string::npos);
}

TEST(ToolResultsTest, ExpiredAndCancelledAreErrorsWithTheirReason) {
  auto request = Object(kApproved);
  request["decisions"] = boost::json::array();
  request["status"] = "expired";
  request["resolved_by"] = boost::json::array();
  EXPECT_EQ(TextOf(ToolResultForRequest(McpTool::kAskHuman, request)).rfind("expired: ", 0), 0u);
  request["status"] = "cancelled";
  request["resolved_by"] = boost::json::array{"bot"};
  const auto cancelled = ToolResultForRequest(McpTool::kRequestApproval, request);
  EXPECT_EQ(TextOf(cancelled).rfind("cancelled: ", 0), 0u);
  EXPECT_EQ(cancelled.at("isError"), true);
}

TEST(ToolResultsTest, EveryResultNamesTheReasonCode) {
  auto request = Object(kApproved);
  request["reason_code"] = "approved_by_grant";
  auto result = ToolResultForRequest(McpTool::kRequestApproval, request);
  EXPECT_EQ(result.at("structuredContent").at("reason_code"), "approved_by_grant");
  EXPECT_EQ(
      ToolResultForRequest(McpTool::kGetRequest, request).at("structuredContent").at("reason_code"),
      "approved_by_grant");

  request["status"] = "denied";
  request["decisions"] = boost::json::array();
  request["resolved_by"] = boost::json::array{"policy:never"};
  request["reason_code"] = "denied_by_policy";
  std::string text = TextOf(ToolResultForRequest(McpTool::kRequestApproval, request));
  EXPECT_EQ(text.rfind("denied: ", 0), 0u) << text;
  EXPECT_NE(text.find("(reason_code: denied_by_policy)"), std::string::npos) << text;
  const auto deny = ToolResultForRequest(McpTool::kPermissionPrompt, request);
  EXPECT_NE(deny.at("structuredContent").at("message").as_string().find("denied_by_policy"),
            boost::json::string::npos);

  // Past the last escalation tier: the words say so as well as the code.
  request["status"] = "expired";
  request["resolved_by"] = boost::json::array();
  request["reason_code"] = "escalation_exhausted";
  text = TextOf(ToolResultForRequest(McpTool::kRequestApproval, request));
  EXPECT_EQ(text.rfind("expired: ", 0), 0u) << text;
  EXPECT_NE(text.find("every escalation tier (reason_code: escalation_exhausted)"),
            std::string::npos)
      << text;

  request["status"] = "cancelled";
  request["resolved_by"] = boost::json::array{"bot"};
  request["reason_code"] = "cancelled_by_requester";
  const auto cancelled = ToolResultForRequest(McpTool::kCancelRequest, request);
  EXPECT_EQ(cancelled.at("structuredContent").at("reason_code"), "cancelled_by_requester");

  // A pending request has none yet.
  request["status"] = "pending";
  request["reason_code"] = nullptr;
  EXPECT_TRUE(ToolResultForRequest(McpTool::kGetRequest, request)
                  .at("structuredContent")
                  .at("reason_code")
                  .is_null());
}

TEST(ToolResultsTest, AnAnswerCarriesTheTextAndTheStructuredResponseWhenThereIsOne) {
  auto request = Object(R"({"id":"req_Q","kind":"question","status":"answered","answer":"eu-west-1",
    "resolved_by":["carol"],"decisions":[],"response":{"region":"eu-west-1"},
    "reason_code":"answered"})");
  auto result = ToolResultForRequest(McpTool::kAskHuman, request);
  EXPECT_EQ(result.at("structuredContent"),
            Object(R"({"request_id":"req_Q","status":"answered","reason_code":"answered",
              "answer":"eu-west-1",
              "answered_by":"carol","response":{"region":"eu-west-1"}})"));
  request["response"] = nullptr;
  result = ToolResultForRequest(McpTool::kAskHuman, request);
  EXPECT_FALSE(result.at("structuredContent").as_object().contains("response"));
}

TEST(ToolResultsTest, PermissionPromptAllowsWithTheEditedInputAndDeniesWithAMessage) {
  auto allow = ToolResultForRequest(McpTool::kPermissionPrompt, Object(kApproved));
  EXPECT_FALSE(allow.contains("isError"));
  EXPECT_EQ(boost::json::parse(TextOf(allow)),
            boost::json::parse(R"({"behavior":"allow","updatedInput":{"ref":"v2","replicas":2}})"));

  auto request = Object(kApproved);
  request["status"] = "denied";
  request["decisions"] =
      boost::json::parse(R"([{"by":"bob","choice":"deny","outcome":"denied","comment":"no"}])");
  auto deny = ToolResultForRequest(McpTool::kPermissionPrompt, request);
  EXPECT_FALSE(deny.contains("isError"));
  const auto decision = boost::json::parse(TextOf(deny)).as_object();
  EXPECT_EQ(decision.at("behavior"), "deny");
  EXPECT_NE(decision.at("message").as_string().find("bob"), boost::json::string::npos);
  EXPECT_EQ(deny.at("structuredContent"), decision);
}

TEST(ToolResultsTest, PermissionPromptDeniesWhenTheCallFails) {
  auto deny = ToolFailureResult(McpTool::kPermissionPrompt, McpToolFailure::kUnavailable, "down");
  EXPECT_EQ(boost::json::parse(TextOf(deny)),
            boost::json::parse(R"({"behavior":"deny","message":"unavailable: down"})"));
  auto error = ToolFailureResult(McpTool::kGetRequest, McpToolFailure::kNotFound, "no req_X");
  EXPECT_EQ(error.at("isError"), true);
  EXPECT_EQ(TextOf(error), "not_found: no req_X");
}

TEST(ToolResultsTest, GatewayErrorsMapToReasonCodes) {
  EXPECT_EQ(FailureForGatewayError(Error::Unavailable("x")), McpToolFailure::kUnavailable);
  EXPECT_EQ(FailureForGatewayError(Error::Internal("x")), McpToolFailure::kUnavailable);
  EXPECT_EQ(FailureForGatewayError(Error::Invalid("x")), McpToolFailure::kInvalidArguments);
  EXPECT_EQ(FailureForGatewayError(Error::Malformed("x")), McpToolFailure::kInvalidArguments);
  EXPECT_EQ(FailureForGatewayError(Error::NotFound("x")), McpToolFailure::kNotFound);
  EXPECT_EQ(FailureForGatewayError(Error::Forbidden("x")), McpToolFailure::kForbidden);
  EXPECT_EQ(FailureForGatewayError(Error::Unauthorized("x")), McpToolFailure::kForbidden);
  EXPECT_EQ(FailureForGatewayError(Error::Conflict("x")), McpToolFailure::kConflict);
  EXPECT_EQ(McpToolFailureName(McpToolFailure::kInvalidArguments), "invalid_arguments");
}

TEST(ToolResultsTest, GetAndCancelReturnTheSummaryWhateverTheStatus) {
  auto request = Object(kApproved);
  request["status"] = "pending";
  request["resolved_at"] = nullptr;
  request["receipt"] = nullptr;
  const auto result = ToolResultForRequest(McpTool::kGetRequest, request);
  EXPECT_FALSE(result.contains("isError"));
  const auto& summary = result.at("structuredContent").as_object();
  EXPECT_EQ(summary.at("request_id"), "req_A");
  EXPECT_EQ(summary.at("status"), "pending");
  EXPECT_TRUE(summary.at("resolved_at").is_null());
  EXPECT_TRUE(summary.at("answer").is_null());
  EXPECT_EQ(summary.at("decisions").at(0).at("by"), "alice");
}

}  // namespace
}  // namespace countersign
