// The request builder on plain values: no store, no clock.
#include "engine/request_builder.hpp"

#include <gtest/gtest.h>

namespace countersign {
namespace {

using namespace std::chrono_literals;

const Actor kAgent{"ci-bot", Role::kAgent, "default", {}};
const TimePoint kNow = FromUnixMillis(1'700'000'000'000);

// read_* is approved by policy; deploy_* needs two of three named approvers within ten
// minutes unless the request asks for longer; db_* gives ten minutes and allows at most an
// hour; wipe_* is high-risk.
PolicySet Policies() {
  Policy reads;
  reads.name = "reads";
  reads.match.action = "read_*";
  reads.decision = AutoDecision::kApprove;
  Policy prod;
  prod.name = "prod";
  prod.match.action = "deploy_*";
  prod.quorum = 2;
  prod.approvers = {"alice", "bob", "carol"};
  prod.timeout = 600s;
  prod.notify = {"ops-slack"};
  Policy db;
  db.name = "db";
  db.match.action = "db_*";
  db.timeout = 600s;
  db.max_timeout = 3600s;
  return PolicySet({reads, prod, db}, {}, {"wipe_*"});
}

NewRequest Submission(std::string action) {
  NewRequest in;
  in.action = std::move(action);
  in.title = "Do it";
  return in;
}

class RequestBuilderTest : public ::testing::Test {
 protected:
  RequestBuilder builder_{300s, 7200s};
  PolicySet policies_ = Policies();
};

TEST_F(RequestBuilderTest, RouteGivesTheVerdictBuildGives) {
  for (const char* action : {"read_logs", "deploy_x", "wipe_users", "other"}) {
    NewRequest in = Submission(action);
    const AutoVerdict routed = RequestBuilder::Route(kAgent, in, policies_);
    auto built = builder_.Build(kAgent, in, policies_, "req_1", kNow);
    ASSERT_TRUE(built.ok()) << built.error().message;
    EXPECT_EQ(routed.decision, built->verdict.decision) << action;
    EXPECT_EQ(routed.decided_by, built->verdict.decided_by) << action;
    EXPECT_EQ(routed.grantable, built->verdict.grantable) << action;
  }
}

TEST_F(RequestBuilderTest, APolicyDecisionNamesThePolicyAndHighRiskIsNeverGrantable) {
  const AutoVerdict reads = RequestBuilder::Route(kAgent, Submission("read_logs"), policies_);
  EXPECT_EQ(reads.decision, AutoDecision::kApprove);
  EXPECT_EQ(reads.decided_by, "policy:reads");
  EXPECT_FALSE(reads.grantable);
  EXPECT_FALSE(reads.AsksAPerson());

  const AutoVerdict wipe = RequestBuilder::Route(kAgent, Submission("wipe_users"), policies_);
  EXPECT_TRUE(wipe.AsksAPerson());
  EXPECT_FALSE(wipe.grantable);

  NewRequest declared_high = Submission("read_logs");
  declared_high.risk = "high";
  const AutoVerdict high = RequestBuilder::Route(kAgent, declared_high, policies_);
  EXPECT_TRUE(high.AsksAPerson());
  EXPECT_FALSE(high.grantable);

  const AutoVerdict deploy = RequestBuilder::Route(kAgent, Submission("deploy_x"), policies_);
  EXPECT_TRUE(deploy.AsksAPerson());
  EXPECT_TRUE(deploy.grantable);
}

TEST_F(RequestBuilderTest, ThePolicySetsTheRulesAndTheRequestMayOnlyTightenThem) {
  NewRequest in = Submission("deploy_x");
  in.quorum = 3;
  in.timeout_seconds = 60;
  in.notify = {"ops-slack", "pager"};
  auto built = builder_.Build(kAgent, in, policies_, "req_1", kNow);
  ASSERT_TRUE(built.ok()) << built.error().message;
  const Request& r = built->request;
  EXPECT_EQ(r.id, "req_1");
  EXPECT_EQ(r.requester, "ci-bot");
  EXPECT_EQ(r.policy, "prod");
  EXPECT_EQ(r.quorum, 3);
  EXPECT_EQ(r.approvers, (std::vector<std::string>{"alice", "bob", "carol"}));
  EXPECT_EQ(r.created_at, kNow);
  EXPECT_EQ(r.deadline_at, kNow + 60s);
  EXPECT_EQ(r.tier_timeout, 600s);
  EXPECT_EQ(r.notify, (std::vector<std::string>{"ops-slack", "pager"}));
  EXPECT_EQ(r.choices, DefaultChoices(Kind::kApproval));

  NewRequest looser = Submission("deploy_x");
  looser.quorum = 1;
  auto clamped = builder_.Build(kAgent, looser, policies_, "req_2", kNow);
  ASSERT_TRUE(clamped.ok());
  EXPECT_EQ(clamped->request.quorum, 2);
  EXPECT_EQ(clamped->request.deadline_at, kNow + 600s);
  EXPECT_TRUE(clamped->warnings.empty());

  NewRequest outsider = Submission("deploy_x");
  outsider.approvers = {"mallory"};
  auto refused = builder_.Build(kAgent, outsider, policies_, "req_3", kNow);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(refused.error().message, "approver mallory is not allowed by policy prod");
}

TEST_F(RequestBuilderTest, GrantOptionsComeFromThePolicyButNeverForHighRiskOrOtherKinds) {
  RequestBuilder builder{300s, 30 * 24h};  // the server's own limit: 30 days
  NewRequest in = Submission("deploy_api");
  in.session = "sess-1";
  auto built = builder.Build(kAgent, in, policies_, "req_1", kNow);
  ASSERT_TRUE(built.ok()) << built.error().message;
  EXPECT_EQ(built->request.grant_options,
            (std::vector<GrantOption>{{"session", 3600s}, {"requester", 30 * 24h}}));
  EXPECT_EQ(built->request.receipt_use, "reusable");

  // Without a session there is no session to grant.
  NewRequest sessionless = Submission("deploy_api");
  built = builder.Build(kAgent, sessionless, policies_, "req_2", kNow);
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(built->request.grant_options, (std::vector<GrantOption>{{"requester", 30 * 24h}}));

  NewRequest wipe = Submission("wipe_users");
  wipe.session = "sess-1";
  built = builder.Build(kAgent, wipe, policies_, "req_3", kNow);
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(built->request.risk, "high");
  EXPECT_TRUE(built->request.grant_options.empty());

  NewRequest question = Submission("deploy_api");
  question.session = "sess-1";
  question.kind = "question";
  built = builder.Build(kAgent, question, policies_, "req_4", kNow);
  ASSERT_TRUE(built.ok()) << built.error().message;
  EXPECT_TRUE(built->request.grant_options.empty());
}

TEST_F(RequestBuilderTest, NoGrantOptionOutlastsTheServersLongestTimeout) {
  RequestBuilder short_server{300s, 3600s};
  NewRequest in = Submission("deploy_api");
  in.session = "sess-1";
  auto built = short_server.Build(kAgent, in, policies_, "req_1", kNow);
  ASSERT_TRUE(built.ok()) << built.error().message;
  EXPECT_EQ(built->request.grant_options,
            (std::vector<GrantOption>{{"session", 3600s}, {"requester", 3600s}}));
}

TEST_F(RequestBuilderTest, APolicySetsReceiptUseAndReportWithin) {
  PolicySet strict = [] {
    Policy p;
    p.name = "strict";
    p.match.action = "pay_*";
    p.receipt_use = "single_use";
    p.report_within = 900s;
    p.grant_options = {};
    return PolicySet({p}, {}, {});
  }();
  NewRequest in = Submission("pay_invoice");
  in.session = "sess-1";
  auto built = builder_.Build(kAgent, in, strict, "req_1", kNow);
  ASSERT_TRUE(built.ok()) << built.error().message;
  EXPECT_EQ(built->request.receipt_use, "single_use");
  EXPECT_EQ(built->request.report_within, 900s);
  EXPECT_TRUE(built->request.grant_options.empty());
}

TEST_F(RequestBuilderTest, APolicyTimeoutIsADefaultNotACeiling) {
  for (const char* action : {"deploy_x", "other"}) {
    NewRequest in = Submission(action);
    in.timeout_seconds = 7200;
    auto built = builder_.Build(kAgent, in, policies_, "req_1", kNow);
    ASSERT_TRUE(built.ok()) << action << ": " << built.error().message;
    EXPECT_EQ(built->request.deadline_at, kNow + 7200s) << action;
    EXPECT_TRUE(built->warnings.empty()) << action;
  }
}

TEST_F(RequestBuilderTest, APolicyMaxTimeoutCutsALongerRequestAndSaysSo) {
  NewRequest longer = Submission("db_migrate");
  longer.timeout_seconds = 5400;
  auto cut = builder_.Build(kAgent, longer, policies_, "req_1", kNow);
  ASSERT_TRUE(cut.ok()) << cut.error().message;
  EXPECT_EQ(cut->request.deadline_at, kNow + 3600s);
  EXPECT_EQ(cut->warnings, (std::vector<std::string>{
                               "timeout_seconds 5400 was cut to 3600: policy db allows at most "
                               "that (max_timeout)"}));

  NewRequest within = Submission("db_migrate");
  within.timeout_seconds = 3600;
  auto kept = builder_.Build(kAgent, within, policies_, "req_2", kNow);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->request.deadline_at, kNow + 3600s);
  EXPECT_TRUE(kept->warnings.empty());

  NewRequest unnamed_timeout = Submission("db_migrate");
  auto unnamed = builder_.Build(kAgent, unnamed_timeout, policies_, "req_3", kNow);
  ASSERT_TRUE(unnamed.ok());
  EXPECT_EQ(unnamed->request.deadline_at, kNow + 600s);
}

TEST_F(RequestBuilderTest, TheBuiltInPolicyUsesTheConfiguredDefaultTimeout) {
  NewRequest in = Submission("other");
  auto built = builder_.Build(kAgent, in, policies_, "req_1", kNow);
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(built->request.policy, policies_.default_policy().name);
  EXPECT_EQ(built->request.deadline_at, kNow + 300s);
}

TEST_F(RequestBuilderTest, EachFieldIsCheckedBeforeAnyPolicyApplies) {
  struct Case {
    void (*change)(NewRequest&);
    const char* message;
  };
  const Case cases[] = {
      {[](NewRequest& in) { in.action = "bad action"; },
       "action must match [A-Za-z0-9_.:/-]{1,128}"},
      {[](NewRequest& in) { in.title.clear(); }, "title is required"},
      {[](NewRequest& in) { in.kind = "poll"; },
       "kind must be approval, verification or question (a conversation is created by POST "
       "/v1/alerts)"},
      // A conversation comes only from an alert, which creates its chat with it.
      {[](NewRequest& in) { in.kind = "conversation"; },
       "kind must be approval, verification or question (a conversation is created by POST "
       "/v1/alerts)"},
      {[](NewRequest& in) { in.on_timeout = "retry"; },
       "on_timeout must be expire, deny or escalate"},
      {[](NewRequest& in) { in.choices = std::vector<Choice>{}; },
       "choices must hold 1 to 10 entries"},
      {[](NewRequest& in) { in.quorum = 0; }, "quorum must be between 1 and 100"},
      {[](NewRequest& in) { in.timeout_seconds = 7201; },
       "timeout_seconds must be between 1 and 7200"},
      {[](NewRequest& in) { in.callback_url = "ftp://x"; },
       "callback_url must be an http or https URL"},
  };
  for (const Case& c : cases) {
    NewRequest in = Submission("deploy_x");
    c.change(in);
    auto built = builder_.Build(kAgent, in, policies_, "req_1", kNow);
    ASSERT_FALSE(built.ok()) << c.message;
    EXPECT_EQ(built.error().code, ErrorCode::kInvalid);
    EXPECT_EQ(built.error().message, c.message);
  }
}

}  // namespace
}  // namespace countersign
