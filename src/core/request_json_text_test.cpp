#include <string>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/request_json.hpp"
#include "core/time_format.hpp"

namespace countersign {
namespace {

TimePoint At(int64_t unix_ms) { return TimePoint(std::chrono::milliseconds(unix_ms)); }

// The oracle: how RequestToJson built a decision's and a request's object, member by member,
// before it became AppendRequestJson's text read back (kept here, as the API's shape, to
// compare with).
boost::json::object DecisionAsBuiltBefore(const Decision& d) {
  boost::json::object o{{"id", d.id},           {"by", d.principal},
                        {"choice", d.choice},   {"outcome", OutcomeName(d.outcome)},
                        {"comment", d.comment}, {"at", FormatTime(d.at)}};
  if (!d.answer.empty()) o["answer"] = d.answer;
  if (d.arguments) o["arguments"] = *d.arguments;
  if (d.response) o["response"] = *d.response;
  return o;
}

// The request's object, the same way.
boost::json::object ObjectAsBuiltBefore(const Request& r) {
  boost::json::array decisions;
  decisions.reserve(r.decisions.size());
  for (const auto& d : r.decisions) decisions.emplace_back(DecisionAsBuiltBefore(d));
  boost::json::object o;
  o.reserve(32);
  o["id"] = r.id;
  o["tenant"] = r.tenant;
  o["kind"] = KindName(r.kind);
  o["action"] = r.action;
  o["title"] = r.title;
  o["details"] = r.details;
  o["arguments"] = r.arguments;
  o["arguments_sha256"] = r.arguments_sha256;
  o["requester"] = r.requester;
  o["session"] = r.session;
  o["status"] = StatusName(r.status);
  o["choices"] = ChoicesToJson(r.choices);
  o["approvers"] = StringsToJson(r.approvers);
  o["quorum"] = r.quorum;
  o["policy"] = r.policy;
  o["policy_reason"] = r.policy_reason;
  o["risk"] = r.risk;
  o["deny_threshold"] = r.deny_threshold;
  o["created_at"] = FormatTime(r.created_at);
  o["deadline_at"] = FormatTime(r.deadline_at);
  o["on_timeout"] = OnTimeoutName(r.on_timeout);
  o["escalation_level"] = r.escalation_level;
  o["notify"] = StringsToJson(r.notify);
  if (r.callback_url.empty()) {
    o["callback_url"] = nullptr;
  } else {
    o["callback_url"] = r.callback_url;
  }
  o["decisions"] = std::move(decisions);
  if (r.resolved_at) {
    o["resolved_at"] = FormatTime(*r.resolved_at);
  } else {
    o["resolved_at"] = nullptr;
  }
  o["resolved_by"] = StringsToJson(r.resolved_by);
  if (r.kind == Kind::kQuestion) {
    if (r.answer.empty()) {
      o["answer"] = nullptr;
    } else {
      o["answer"] = r.answer;
    }
  }
  if (r.response_schema) {
    o["response_schema"] = *r.response_schema;
    const boost::json::object* response = r.ResolvedResponse();
    if (response) {
      o["response"] = *response;
    } else {
      o["response"] = nullptr;
    }
  }
  if (r.receipt.empty()) {
    o["receipt"] = nullptr;
  } else {
    o["receipt"] = r.receipt;
  }
  if (r.reason_code == ReasonCode::kNone) {
    o["reason_code"] = nullptr;
  } else {
    o["reason_code"] = ReasonCodeName(r.reason_code);
  }
  o["grant_options"] = GrantOptionsToJson(r.grant_options);
  o["receipt_use"] = r.receipt_use;
  if (r.report_within.count() > 0) {
    o["report_within_seconds"] = r.report_within.count();
  } else {
    o["report_within_seconds"] = nullptr;
  }
  if (r.execution) {
    o["execution"] = ExecutionToJson(*r.execution);
  } else {
    o["execution"] = nullptr;
  }
  return o;
}

// What the API answered before AppendRequestJson: that object, serialised.
std::string Serialized(const Request& r) { return boost::json::serialize(ObjectAsBuiltBefore(r)); }

std::string Written(const Request& r) {
  std::string out;
  AppendRequestJson(r, out);
  return out;
}

// AppendRequestJson writes the bytes the oracle serialises to, and RequestToJson gives its object.
void ExpectBothRenderingsAsBefore(const Request& r) {
  EXPECT_EQ(Written(r), Serialized(r));
  EXPECT_EQ(RequestToJson(r), ObjectAsBuiltBefore(r));
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
  ExpectBothRenderingsAsBefore(r);
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
  ExpectBothRenderingsAsBefore(r);

  // The same request without the structured answer, the execution's exit code or the answer.
  r.decisions[1].response.reset();
  r.execution->exit_code.reset();
  r.answer.clear();
  ASSERT_EQ(r.ResolvedResponse(), nullptr);
  ExpectBothRenderingsAsBefore(r);
}

TEST(AppendRequestJsonTest, TextNeedingEscapesIsEscapedAsBoostJsonEscapesIt) {
  Request r = Pending();
  r.title = std::string("quote \" backslash \\ newline \n tab \t bell \x07 del \x7f ") +
            "é 漢字 \xF0\x9F\x9A\x80 </script>";
  r.requester = std::string("nul \0 inside", 12);
  r.approvers = {"a\"b", "c\\d"};
  r.arguments = boost::json::parse(R"({"k\"ey":"v\u0001al"})").as_object();
  ExpectBothRenderingsAsBefore(r);
}

// A body nested as deep as the API's parser takes (32 levels), then placed two levels down in
// a decision's edited arguments: RequestToJson reads its own text back all the same.
TEST(AppendRequestJsonTest, RequestToJsonReadsBackTheDeepestArgumentsADecisionCanHold) {
  std::string deep = "{\"arguments\":";
  for (int i = 0; i < 31; ++i) deep += "{\"a\":";
  deep += "1";
  for (int i = 0; i < 32; ++i) deep += "}";
  boost::json::value body = boost::json::parse(deep);  // throws past the default 32 levels
  Request r = Pending();
  Decision d;
  d.id = "dec_1";
  d.principal = "alice";
  d.choice = "approve";
  d.arguments = body.as_object().at("arguments").as_object();
  d.at = At(1796480790000);
  r.decisions = {d};
  ExpectBothRenderingsAsBefore(r);
  EXPECT_FALSE(RequestToJson(r).empty());
}

TEST(AppendRequestJsonTest, ItAppendsToWhatTheStringHolds) {
  const Request r = Pending();
  std::string out = "[";
  AppendRequestJson(r, out);
  EXPECT_EQ(out, "[" + Serialized(r));
  // And parses back to the same object.
  EXPECT_EQ(boost::json::parse(out.substr(1)).as_object(), ObjectAsBuiltBefore(r));
}

}  // namespace
}  // namespace countersign
