#include "mcp/elicitation_bridge.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

namespace countersign {
namespace {

boost::json::object Json(const char* text) { return boost::json::parse(text).as_object(); }

const McpProxyIdentity kIdentity{"everything", "agent", "s-1"};

TEST(ElicitationBridgeTest, ModeIsFormWithoutModeOrWithFormAndUrlWithAUrl) {
  EXPECT_EQ(*ReadElicitationMode(Json(R"({"message":"m","requestedSchema":{}})")),
            ElicitationMode::kForm);
  EXPECT_EQ(*ReadElicitationMode(Json(R"({"mode":"form","requestedSchema":{}})")),
            ElicitationMode::kForm);
  EXPECT_EQ(*ReadElicitationMode(Json(R"({"mode":"url","url":"https://x","elicitationId":"e"})")),
            ElicitationMode::kUrl);
  EXPECT_FALSE(ReadElicitationMode(Json(R"({"mode":"url"})")).ok());
  EXPECT_FALSE(ReadElicitationMode(Json(R"({"mode":"telepathy"})")).ok());
  EXPECT_FALSE(ReadElicitationMode(Json(R"({"message":"no schema"})")).ok());
}

TEST(ElicitationBridgeTest, FormBecomesAnApprovalWithTheSchemaAndADeclineChoice) {
  McpGate gate;
  gate.approvers = {"alice"};
  gate.timeout_seconds = 60;
  const auto params = Json(R"({"message":"Your name?","requestedSchema":
      {"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}})");
  const auto body = ElicitationRequestBody(ElicitationMode::kForm, params, kIdentity, &gate);
  EXPECT_EQ(body.at("kind"), "approval");
  EXPECT_EQ(body.at("action"), "mcp.everything.elicitation");
  EXPECT_EQ(body.at("title"), "Your name?");
  EXPECT_EQ(body.at("response_schema"), params.at("requestedSchema"));
  EXPECT_EQ(body.at("choices"), boost::json::parse(R"([
      {"id":"approve","label":"Answer","outcome":"approved"},
      {"id":"deny","label":"Decline","outcome":"denied"}])"));
  EXPECT_EQ(body.at("session"), "s-1");
  EXPECT_EQ(body.at("approvers"), boost::json::parse(R"(["alice"])"));
  EXPECT_EQ(body.at("timeout_seconds"), 60);
}

TEST(ElicitationBridgeTest, UrlBecomesAnApprovalWhoseDetailsCarryTheLink) {
  const auto params =
      Json(R"({"mode":"url","message":"Sign in","url":"https://idp/x","elicitationId":"e-1"})");
  const auto body = ElicitationRequestBody(ElicitationMode::kUrl, params, kIdentity, nullptr);
  EXPECT_FALSE(body.contains("response_schema"));
  EXPECT_FALSE(body.contains("approvers"));
  const auto& details = body.at("details").as_object();
  EXPECT_EQ(details.at("url"), "https://idp/x");
  EXPECT_EQ(details.at("elicitation_id"), "e-1");
  EXPECT_EQ(body.at("choices").as_array()[0].as_object().at("label"), "Done");
}

TEST(ElicitationBridgeTest, AnsweredIsAcceptWithTheResponse) {
  const auto request = Json(R"({"status":"approved","response":{"name":"Ada"}})");
  EXPECT_EQ(ElicitResultForRequest(ElicitationMode::kForm, request),
            Json(R"({"action":"accept","content":{"name":"Ada"}})"));
  EXPECT_EQ(ElicitResultForRequest(ElicitationMode::kUrl, request), Json(R"({"action":"accept"})"));
}

TEST(ElicitationBridgeTest, ApprovedWithoutAResponseIsADecline) {
  // A policy or a grant approved it: nobody filled in the form.
  EXPECT_EQ(ElicitResultForRequest(ElicitationMode::kForm,
                                   Json(R"({"status":"approved","response":null})")),
            ElicitDecline());
}

TEST(ElicitationBridgeTest, DeniedIsDeclineAndEveryOtherEndIsCancel) {
  EXPECT_EQ(ElicitResultForRequest(ElicitationMode::kForm, Json(R"({"status":"denied"})")),
            Json(R"({"action":"decline"})"));
  for (const char* status : {"expired", "cancelled", "dismissed", "pending"}) {
    boost::json::object request{{"status", status}};
    EXPECT_EQ(ElicitResultForRequest(ElicitationMode::kForm, request),
              Json(R"({"action":"cancel"})"))
        << status;
  }
}

}  // namespace
}  // namespace countersign
