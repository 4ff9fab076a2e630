#include <string>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/request_json.hpp"

namespace countersign {
namespace {

TimePoint At(int64_t unix_ms) { return TimePoint(std::chrono::milliseconds(unix_ms)); }

// What the API answered before AppendRequestJson: the object, serialised.
std::string Serialized(const Request& r) { return boost::json::serialize(RequestToJson(r)); }

std::string Written(const Request& r) {
  std::string out;
  AppendRequestJson(r, out);
  return out;
}

Request Pending() {
  Request r;
  r.id = "req_01M939JHW424R4SYF147TFWH5E";
  r.action = "deploy_production";
  r.title = "Deploy v2.0";
  r.arguments = boost::json::parse(R"({"ref":"v2.0","replicas":3})").as_object();
  r.arguments_sha256 = std::string(64, 'a');
  r.requester = "ci-bot";
  r.choices = DefaultChoices(Kind::kApproval);
  r.created_at = At(1796480780164);
  r.deadline_at = At(1796484380164);
  r.grant_options = {{"requester", std::chrono::seconds(2592000)}};
  return r;
}

TEST(AppendRequestJsonTest, APendingRequestIsWrittenAsTheObjectSerialises) {
  const Request r = Pending();
  EXPECT_EQ(Written(r), Serialized(r));
}

TEST(AppendRequestJsonTest, EveryOptionalMemberIsWrittenAsTheObjectSerialisesIt) {
  Request r = Pending();
  r.tenant = "tenant-b";
  r.kind = Kind::kQuestion;
  r.status = RequestStatus::kAnswered;
  r.details =
      boost::json::parse(R"({"diff":"+1 -2","nested":{"a":[1,2.5,null,true]}})").as_object();
  r.session = "sess-7";
  r.approvers = {"alice", "group:sre"};
  r.quorum = 2;
  r.policy = "prod";
  r.policy_reason = "action matches deploy_*";
  r.risk = "high";
  r.deny_threshold = 2;
  r.on_timeout = OnTimeout::kDeny;
  r.escalation_level = 1;
  r.notify = {"slack:#ops", "email:ops@example.com"};
  r.callback_url = "https://agent.example.com/callback?x=1&y=2";
  r.resolved_at = At(1796480790000);
  r.resolved_by = {"alice"};
  r.answer = "ship it";
  r.response_schema =
      boost::json::parse(R"({"type":"object","properties":{"n":{"type":"integer"}}})").as_object();
  Decision edited;
  edited.id = "dec_1";
  edited.principal = "alice";
  edited.choice = "answer";
  edited.outcome = Outcome::kAnswered;
  edited.comment = "fine";
  edited.answer = "ship it";
  edited.arguments = boost::json::parse(R"({"ref":"v2.1"})").as_object();
  edited.response = boost::json::parse(R"({"n":-4})").as_object();
  edited.at = At(1796480790000);
  Decision plain;
  plain.id = "dec_0";
  plain.principal = "bob";
  plain.choice = "deny";
  plain.outcome = Outcome::kDenied;
  plain.at = At(1796480785000);
  r.decisions = {plain, edited};
  r.receipt = "eyJhbGciOiJFZERTQSJ9.e30.c2ln";
  r.reason_code = ReasonCode::kApproved;
  r.grant_options = {{"session", std::chrono::seconds(3600)},
                     {"requester", std::chrono::seconds(60)}};
  r.receipt_use = "once";
  r.report_within = std::chrono::seconds(900);
  r.execution = ExecutionReport{"failed", 2, "exit 2", "ci-bot", At(1796480799000)};
  ASSERT_NE(r.ResolvedResponse(), nullptr);
  EXPECT_EQ(Written(r), Serialized(r));

  // The same request without the structured answer, the execution's exit code or the answer.
  r.decisions[1].response.reset();
  r.execution->exit_code.reset();
  r.answer.clear();
  ASSERT_EQ(r.ResolvedResponse(), nullptr);
  EXPECT_EQ(Written(r), Serialized(r));
}

TEST(AppendRequestJsonTest, TextNeedingEscapesIsEscapedAsBoostJsonEscapesIt) {
  Request r = Pending();
  r.title = std::string("quote \" backslash \\ newline \n tab \t bell \x07 del \x7f ") +
            "é 漢字 \xF0\x9F\x9A\x80 </script>";
  r.requester = std::string("nul \0 inside", 12);
  r.approvers = {"a\"b", "c\\d"};
  r.arguments = boost::json::parse(R"({"k\"ey":"v\u0001al"})").as_object();
  EXPECT_EQ(Written(r), Serialized(r));
}

TEST(AppendRequestJsonTest, ItAppendsToWhatTheStringHolds) {
  const Request r = Pending();
  std::string out = "[";
  AppendRequestJson(r, out);
  EXPECT_EQ(out, "[" + Serialized(r));
  // And parses back to the same object.
  EXPECT_EQ(boost::json::parse(out.substr(1)).as_object(), RequestToJson(r));
}

}  // namespace
}  // namespace countersign
