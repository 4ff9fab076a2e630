// The lifecycle rules on plain values: no store, no clock, no threads.
#include "engine/lifecycle.hpp"

#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include "core/canonical_json.hpp"
#include "core/sha256.hpp"
#include "core/time_format.hpp"

namespace countersign {
namespace {

using namespace std::chrono_literals;

const Actor kAgent{"ci-bot", Role::kAgent, "default", {}};
const Actor kAlice{"alice", Role::kApprover, "default", {"sre"}};
const Actor kBob{"bob", Role::kApprover, "default", {}};
const Actor kCarol{"carol", Role::kApprover, "default", {"sre"}};
const Actor kAdmin{"root", Role::kAdmin, "default", {}};

const TimePoint kCreated = FromUnixMillis(1'700'000'000'000);
const TimePoint kDeadline = kCreated + 300s;

Request Pending(Kind kind = Kind::kApproval) {
  Request r;
  r.id = "req_1";
  r.kind = kind;
  r.action = "deploy_production";
  r.title = "Deploy v2.0";
  r.arguments = {{"version", "2.0"}};
  r.arguments_sha256 = Sha256Hex(CanonicalJson(r.arguments));
  r.requester = kAgent.name;
  r.choices = DefaultChoices(kind);
  r.created_at = kCreated;
  r.deadline_at = kDeadline;
  return r;
}

Decision Vote(const Actor& by, std::string choice, Outcome outcome, TimePoint at) {
  Decision d;
  d.id = "dec_" + by.name;
  d.request_id = "req_1";
  d.principal = by.name;
  d.choice = std::move(choice);
  d.outcome = outcome;
  d.at = at;
  return d;
}

DecisionAttempt Attempt(const Actor& by, std::string choice, TimePoint at = kCreated + 10s) {
  DecisionAttempt a;
  a.actor = by;
  a.decision = Vote(by, std::move(choice), Outcome::kApproved, at);
  return a;
}

void ExpectEvent(const EventDraft& event, TimePoint at, const std::string& type,
                 const std::string& actor, const boost::json::object& data) {
  EXPECT_EQ(event.at, at);
  EXPECT_EQ(event.tenant, "default");
  EXPECT_EQ(event.request_id, "req_1");
  EXPECT_EQ(event.type, type);
  EXPECT_EQ(event.actor, actor);
  EXPECT_EQ(event.data, data) << boost::json::serialize(event.data);
}

boost::json::object Recorded(const Decision& d) {
  return {{"decision_id", d.id},
          {"choice", d.choice},
          {"outcome", OutcomeName(d.outcome)},
          {"comment", d.comment}};
}

TransitionPlan MustPlan(const Request& r, const DecisionAttempt& a, const PolicySet& policies) {
  auto plan = PlanDecision(r, a, policies);
  EXPECT_TRUE(plan.ok()) << plan.error().message;
  return plan.ok() ? std::move(plan).value() : TransitionPlan{};
}

class LifecycleTest : public ::testing::Test {
 protected:
  PolicySet policies_;
};

TEST_F(LifecycleTest, AnApprovalShortOfTheQuorumIsRecordedAndLeavesItPending) {
  Request r = Pending();
  r.quorum = 2;
  TransitionPlan plan = MustPlan(r, Attempt(kAlice, "approve"), policies_);
  ASSERT_TRUE(plan.record);
  EXPECT_EQ(*plan.record, Vote(kAlice, "approve", Outcome::kApproved, kCreated + 10s));
  EXPECT_FALSE(plan.resolve);
  EXPECT_FALSE(plan.escalate);
  EXPECT_FALSE(plan.receipt_arguments_sha256);
  EXPECT_FALSE(plan.grant);
  EXPECT_FALSE(plan.refusal);
  ASSERT_EQ(plan.events.size(), 1u);
  ExpectEvent(plan.events[0], kCreated + 10s, "decision.recorded", "alice", Recorded(*plan.record));
}

TEST_F(LifecycleTest, TheApprovalCompletingTheQuorumResolvesApprovedWithAReceipt) {
  Request r = Pending();
  r.quorum = 2;
  r.decisions = {Vote(kAlice, "approve", Outcome::kApproved, kCreated + 5s)};
  TransitionPlan plan = MustPlan(r, Attempt(kBob, "approve"), policies_);
  ASSERT_TRUE(plan.resolve);
  EXPECT_EQ(*plan.resolve, (Resolution{RequestStatus::kApproved,
                                       kCreated + 10s,
                                       {"alice", "bob"},
                                       "",
                                       ReasonCode::kApproved,
                                       true}));
  EXPECT_EQ(plan.receipt_arguments_sha256, r.arguments_sha256);
  ASSERT_EQ(plan.events.size(), 2u);
  ExpectEvent(plan.events[1], kCreated + 10s, "request.resolved", "bob",
              {{"status", "approved"},
               {"reason_code", "approved"},
               {"resolved_by", boost::json::array{"alice", "bob"}}});
}

TEST_F(LifecycleTest, TheSamePrincipalCannotCountTwiceTowardsTheQuorum) {
  Request r = Pending();
  r.quorum = 2;
  r.decisions = {Vote(kAlice, "approve", Outcome::kApproved, kCreated + 5s)};
  auto plan = PlanDecision(r, Attempt(kAlice, "approve"), policies_);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().code, ErrorCode::kConflict);
  EXPECT_EQ(plan.error().message, "alice has already decided this request");
  ASSERT_TRUE(plan.error().current);
  EXPECT_EQ(*plan.error().current, r);
}

TEST_F(LifecycleTest, AnEscalateVoteLeavesThePrincipalFreeToDecideAndDoesNotCount) {
  Request r = Pending();
  r.quorum = 2;
  r.decisions = {Vote(kAlice, "escalate", Outcome::kEscalate, kCreated + 5s)};
  TransitionPlan plan = MustPlan(r, Attempt(kAlice, "approve"), policies_);
  ASSERT_TRUE(plan.record);
  EXPECT_FALSE(plan.resolve);
}

TEST_F(LifecycleTest, TheReceiptBindsTheNewestEditedArgumentsAmongTheApprovals) {
  Request r = Pending();
  r.quorum = 3;
  Decision first = Vote(kAlice, "approve", Outcome::kApproved, kCreated + 1s);
  first.arguments = boost::json::object{{"version", "2.1"}};
  Decision second = Vote(kCarol, "approve", Outcome::kApproved, kCreated + 2s);
  second.arguments = boost::json::object{{"version", "2.2"}};
  r.decisions = {first, second};
  TransitionPlan plan = MustPlan(r, Attempt(kBob, "approve"), policies_);
  ASSERT_TRUE(plan.resolve);
  EXPECT_EQ(plan.resolve->resolved_by, (std::vector<std::string>{"alice", "carol", "bob"}));
  EXPECT_EQ(plan.receipt_arguments_sha256, Sha256Hex(CanonicalJson(*second.arguments)));
}

TEST_F(LifecycleTest, EditedArgumentsAreHashedOnTheRecord) {
  Request r = Pending();
  DecisionAttempt a = Attempt(kAlice, "approve");
  a.decision.arguments = boost::json::object{{"version", "2.1"}};
  TransitionPlan plan = MustPlan(r, a, policies_);
  const std::string edited = Sha256Hex(CanonicalJson(*a.decision.arguments));
  boost::json::object data = Recorded(*plan.record);
  data["arguments_sha256"] = edited;
  ExpectEvent(plan.events[0], kCreated + 10s, "decision.recorded", "alice", data);
  EXPECT_EQ(plan.receipt_arguments_sha256, edited);
}

TEST_F(LifecycleTest, OneDenyResolvesDeniedEvenWithTheQuorumHalfMet) {
  Request r = Pending();
  r.quorum = 2;
  r.decisions = {Vote(kAlice, "approve", Outcome::kApproved, kCreated + 5s)};
  TransitionPlan plan = MustPlan(r, Attempt(kBob, "deny"), policies_);
  EXPECT_EQ(plan.record->outcome, Outcome::kDenied);
  ASSERT_TRUE(plan.resolve);
  EXPECT_EQ(
      *plan.resolve,
      (Resolution{
          RequestStatus::kDenied, kCreated + 10s, {"bob"}, "", ReasonCode::kDeniedByPerson, true}));
  EXPECT_FALSE(plan.receipt_arguments_sha256);
  ASSERT_EQ(plan.events.size(), 2u);
  ExpectEvent(plan.events[1], kCreated + 10s, "request.resolved", "bob",
              {{"status", "denied"},
               {"reason_code", "denied_by_person"},
               {"resolved_by", boost::json::array{"bob"}}});
}

TEST_F(LifecycleTest, ADenyThresholdOfTwoWaitsForASecondDistinctDenial) {
  Request r = Pending();
  r.deny_threshold = 2;
  TransitionPlan first = MustPlan(r, Attempt(kAlice, "deny"), policies_);
  EXPECT_FALSE(first.resolve);
  ASSERT_EQ(first.events.size(), 1u);

  r.decisions = {*first.record};
  TransitionPlan second = MustPlan(r, Attempt(kBob, "deny", kCreated + 20s), policies_);
  ASSERT_TRUE(second.resolve);
  EXPECT_EQ(*second.resolve, (Resolution{RequestStatus::kDenied,
                                         kCreated + 20s,
                                         {"alice", "bob"},
                                         "",
                                         ReasonCode::kDeniedByPerson,
                                         true}));
}

TEST_F(LifecycleTest, AQuestionIsAnsweredByItsFirstAnswer) {
  Request r = Pending(Kind::kQuestion);
  DecisionAttempt a = Attempt(kAlice, "");
  a.decision.answer = "use the blue one";
  TransitionPlan plan = MustPlan(r, a, policies_);
  EXPECT_EQ(plan.record->choice, "answer");
  EXPECT_EQ(plan.record->outcome, Outcome::kAnswered);
  ASSERT_TRUE(plan.resolve);
  EXPECT_EQ(*plan.resolve, (Resolution{RequestStatus::kAnswered,
                                       kCreated + 10s,
                                       {"alice"},
                                       "use the blue one",
                                       ReasonCode::kAnswered,
                                       true}));
  boost::json::object data = Recorded(*plan.record);
  data["answer"] = "use the blue one";
  ExpectEvent(plan.events[0], kCreated + 10s, "decision.recorded", "alice", data);
}

// A request whose decisions fill a form: a required integer and an optional choice.
Request WithForm(Kind kind = Kind::kApproval) {
  Request r = Pending(kind);
  r.response_schema =
      boost::json::object{{"type", "object"},
                          {"properties",
                           {{"replicas", {{"type", "integer"}, {"minimum", 1}}},
                            {"env", {{"type", "string"}, {"enum", {"dev", "prod"}}}}}},
                          {"required", {"replicas"}}};
  return r;
}

TEST_F(LifecycleTest, AnApprovalFillsTheFormAndItsHashGoesIntoTheReceipt) {
  DecisionAttempt a = Attempt(kAlice, "approve");
  a.decision.response = boost::json::object{{"replicas", 3}, {"env", "prod"}};
  TransitionPlan plan = MustPlan(WithForm(), a, policies_);
  ASSERT_TRUE(plan.resolve);
  EXPECT_EQ(plan.resolve->status, RequestStatus::kApproved);
  EXPECT_EQ(plan.record->response, a.decision.response);
  EXPECT_EQ(plan.receipt_response_sha256, Sha256Hex(CanonicalJson(*a.decision.response)));
  boost::json::object data = Recorded(*plan.record);
  data["response"] = *a.decision.response;
  ExpectEvent(plan.events[0], kCreated + 10s, "decision.recorded", "alice", data);
}

TEST_F(LifecycleTest, AnApprovalWithoutTheRequiredFieldIsInvalidAndNamesIt) {
  auto missing = PlanDecision(WithForm(), Attempt(kAlice, "approve"), policies_);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(missing.error().field, "response.replicas");
  EXPECT_NE(missing.error().message.find("response.replicas is required"), std::string::npos);
  EXPECT_NE(missing.error().message.find("countersign decide req_1 --choice approve --field"),
            std::string::npos)
      << "a press without a form is told where the form is: " << missing.error().message;

  DecisionAttempt wrong = Attempt(kAlice, "approve");
  wrong.decision.response = boost::json::object{{"replicas", 2}, {"env", "staging"}};
  auto outside = PlanDecision(WithForm(), wrong, policies_);
  ASSERT_FALSE(outside.ok());
  EXPECT_EQ(outside.error().field, "response.env");
}

TEST_F(LifecycleTest, ADenialNeedsNoResponseButOneItSendsIsChecked) {
  TransitionPlan plan = MustPlan(WithForm(), Attempt(kAlice, "deny"), policies_);
  ASSERT_TRUE(plan.resolve);
  EXPECT_EQ(plan.resolve->status, RequestStatus::kDenied);
  EXPECT_TRUE(plan.receipt_response_sha256.empty());

  DecisionAttempt bad = Attempt(kAlice, "deny");
  bad.decision.response = boost::json::object{{"replicas", "many"}};
  auto refused = PlanDecision(WithForm(), bad, policies_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().field, "response.replicas");
}

TEST_F(LifecycleTest, ARequestWithoutAFormTakesNoResponse) {
  DecisionAttempt a = Attempt(kAlice, "approve");
  a.decision.response = boost::json::object{{"replicas", 3}};
  auto plan = PlanDecision(Pending(), a, policies_);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(plan.error().field, "response");
}

TEST_F(LifecycleTest, AQuestionWithAFormIsAnsweredByFillingItWithoutText) {
  DecisionAttempt a = Attempt(kAlice, "");
  a.decision.response = boost::json::object{{"replicas", 5}};
  TransitionPlan plan = MustPlan(WithForm(Kind::kQuestion), a, policies_);
  ASSERT_TRUE(plan.resolve);
  EXPECT_EQ(plan.resolve->status, RequestStatus::kAnswered);
  EXPECT_EQ(plan.record->choice, "answer");

  auto empty = PlanDecision(WithForm(Kind::kQuestion), Attempt(kAlice, ""), policies_);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().field, "response.replicas");
}

TEST_F(LifecycleTest, AQuestionWithoutAnAnswerIsInvalid) {
  auto plan = PlanDecision(Pending(Kind::kQuestion), Attempt(kAlice, ""), policies_);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(plan.error().message, "a question needs a non-empty answer");
}

TEST_F(LifecycleTest, MissingAndUnknownChoicesAreInvalidAndNameTheChoices) {
  auto missing = PlanDecision(Pending(), Attempt(kAlice, ""), policies_);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(missing.error().message, "choice is required (one of: approve, deny)");
  auto unknown = PlanDecision(Pending(), Attempt(kAlice, "maybe"), policies_);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message, "unknown choice 'maybe' (one of: approve, deny)");
}

TEST_F(LifecycleTest, TheRequesterAndAgentsMayNotDecide) {
  Request r = Pending();
  r.requester = "alice";
  auto own = PlanDecision(r, Attempt(kAlice, "approve"), policies_);
  ASSERT_FALSE(own.ok());
  EXPECT_EQ(own.error().code, ErrorCode::kForbidden);
  EXPECT_EQ(own.error().message, "the requester may not decide its own request");
  auto agent = PlanDecision(Pending(), Attempt(kAgent, "approve"), policies_);
  ASSERT_FALSE(agent.ok());
  EXPECT_EQ(agent.error().code, ErrorCode::kForbidden);
  EXPECT_EQ(agent.error().message, "role agent may not decide");
}

TEST_F(LifecycleTest, ADecisionOnAResolvedRequestIsAConflictWithItsState) {
  Request r = Pending();
  r.status = RequestStatus::kDenied;
  auto plan = PlanDecision(r, Attempt(kAlice, "approve"), policies_);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().code, ErrorCode::kConflict);
  EXPECT_EQ(plan.error().message, "request is already denied");
  ASSERT_TRUE(plan.error().current);
  EXPECT_EQ(plan.error().current->status, RequestStatus::kDenied);
}

TEST_F(LifecycleTest, AnIneligibleApproverIsRefusedOnTheRecord) {
  Request r = Pending();
  r.approvers = {"group:sre"};
  EXPECT_TRUE(MustPlan(r, Attempt(kCarol, "approve"), policies_).resolve);

  TransitionPlan plan = MustPlan(r, Attempt(kBob, "approve"), policies_);
  EXPECT_FALSE(plan.record);
  EXPECT_FALSE(plan.resolve);
  ASSERT_TRUE(plan.refusal);
  EXPECT_EQ(plan.refusal->code, ErrorCode::kForbidden);
  EXPECT_EQ(plan.refusal->message, "bob is not an approver of this request");
  ASSERT_EQ(plan.events.size(), 1u);
  ExpectEvent(plan.events[0], kCreated + 10s, "decision.rejected", "bob",
              {{"choice", "approve"}, {"reason", "not an approver of this request"}});
}

TEST_F(LifecycleTest, ARefusedChatDecisionIsRecordedWithWhereItCameFrom) {
  DecisionAttempt a = Attempt(kAlice, "maybe");
  a.via = DecisionVia{"ops-slack", "slack:U1", "https://hooks.example/r"};
  TransitionPlan plan = MustPlan(Pending(), a, policies_);
  EXPECT_FALSE(plan.record);
  ASSERT_TRUE(plan.refusal);
  EXPECT_EQ(plan.refusal->code, ErrorCode::kInvalid);
  ASSERT_EQ(plan.events.size(), 1u);
  ExpectEvent(plan.events[0], kCreated + 10s, "decision.rejected", "alice",
              {{"choice", "maybe"},
               {"reason", "unknown choice 'maybe' (one of: approve, deny)"},
               {"via",
                {{"channel", "ops-slack"},
                 {"identity", "slack:U1"},
                 {"response_url", "https://hooks.example/r"}}}});
}

TEST_F(LifecycleTest, AChatPressWithoutTheFormIsRefusedAndMarkedSoThePersonGetsTheForm) {
  DecisionAttempt a = Attempt(kAlice, "approve");
  a.via = DecisionVia{"ops-slack", "slack:U1", "https://hooks.example/r"};
  TransitionPlan plan = MustPlan(WithForm(), a, policies_);
  EXPECT_FALSE(plan.record);
  ASSERT_TRUE(plan.refusal);
  EXPECT_EQ(plan.refusal->field, "response.replicas");
  ASSERT_EQ(plan.events.size(), 1u);
  EXPECT_EQ(plan.events[0].type, "decision.rejected");
  EXPECT_EQ(plan.events[0].data.at("form_required"), true);

  // A response that is there but wrong is refused without the mark: the person has the form.
  a.decision.response = boost::json::object{{"replicas", "many"}};
  plan = MustPlan(WithForm(), a, policies_);
  ASSERT_EQ(plan.events.size(), 1u);
  EXPECT_FALSE(plan.events[0].data.contains("form_required"));
  // Nor is any other refusal.
  a.decision.response.reset();
  a.decision.choice = "maybe";
  plan = MustPlan(WithForm(), a, policies_);
  ASSERT_EQ(plan.events.size(), 1u);
  EXPECT_FALSE(plan.events[0].data.contains("form_required"));
}

TEST_F(LifecycleTest, AGrantAskedWithTheDecidingApprovalIsMadeWithIt) {
  Request r = Pending();
  r.session = "sess-1";
  DecisionAttempt a = Attempt(kAlice, "approve");
  a.grant = NewGrant{"", "session", "", "", 600};
  a.grant_id = "grt_1";
  TransitionPlan plan = MustPlan(r, a, policies_);
  ASSERT_TRUE(plan.grant);
  EXPECT_EQ(plan.grant->id, "grt_1");
  EXPECT_EQ(plan.grant->action, "deploy_production");
  EXPECT_EQ(plan.grant->scope, "session");
  EXPECT_EQ(plan.grant->session, "sess-1");
  EXPECT_EQ(plan.grant->created_by, "alice");
  EXPECT_EQ(plan.grant->expires_at, kCreated + 610s);
  EXPECT_EQ(plan.grant->request_id, "req_1");
  ASSERT_EQ(plan.events.size(), 3u);
  ExpectEvent(plan.events[2], kCreated + 10s, "grant.created", "alice",
              {{"grant_id", "grt_1"},
               {"action", "deploy_production"},
               {"scope", "session"},
               {"session", "sess-1"},
               {"requester", ""},
               {"expires_at", FormatTime(kCreated + 610s)}});
}

TEST_F(LifecycleTest, AGrantComesOnlyWithAnApprovalOfANormalRiskRequestInASession) {
  DecisionAttempt deny = Attempt(kAlice, "deny");
  deny.grant = NewGrant{"", "tenant", "", "", 600};
  auto denied = PlanDecision(Pending(), deny, policies_);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().message, "a grant can only come with an approval");

  Request high = Pending();
  high.risk = "high";
  DecisionAttempt approve = Attempt(kAlice, "approve");
  approve.grant = NewGrant{"", "tenant", "", "", 600};
  auto risky = PlanDecision(high, approve, policies_);
  ASSERT_FALSE(risky.ok());
  EXPECT_EQ(risky.error().message, "a high-risk action can never be granted");

  approve.grant->scope = "session";
  auto sessionless = PlanDecision(Pending(), approve, policies_);
  ASSERT_FALSE(sessionless.ok());
  EXPECT_EQ(sessionless.error().message, "a session grant needs a request made in a session");
}

Request WithTiers() {
  Request r = Pending(Kind::kVerification);
  r.approvers = {"alice"};
  r.tier_timeout = 300s;
  r.escalate_to = {EscalationTier{{"bob", "alice"}, 600s, {"ops-slack"}},
                   EscalationTier{{"carol"}, 0s, {}}};
  return r;
}

TEST_F(LifecycleTest, AnEscalateChoiceMovesToTheNextTierAndRestartsTheClock) {
  Request r = WithTiers();
  TransitionPlan plan = MustPlan(r, Attempt(kAlice, "escalate"), policies_);
  EXPECT_EQ(plan.record->outcome, Outcome::kEscalate);
  EXPECT_FALSE(plan.resolve);
  ASSERT_TRUE(plan.escalate);
  EXPECT_EQ(*plan.escalate, (Escalation{1, kCreated + 610s, {"alice", "bob"}, true}));
  ASSERT_EQ(plan.events.size(), 2u);
  ExpectEvent(plan.events[1], kCreated + 10s, "request.escalated", "alice",
              {{"escalation_level", 1},
               {"reason", "choice"},
               {"approvers", boost::json::array{"bob", "alice"}},
               {"notify", boost::json::array{"ops-slack"}},
               {"deadline_at", FormatTime(kCreated + 610s)}});
}

TEST_F(LifecycleTest, ATierWithoutATimeoutUsesThePolicysAndNeverShortensTheDeadline) {
  Request r = WithTiers();
  r.escalation_level = 1;
  r.deadline_at = kCreated + 1000s;
  TransitionPlan later = PlanEscalation(r, kCreated + 900s, "choice", "bob");
  EXPECT_EQ(*later.escalate, (Escalation{2, kCreated + 1200s, {"alice", "carol"}, true}));
  TransitionPlan sooner = PlanEscalation(r, kCreated + 100s, "choice", "bob");
  EXPECT_EQ(sooner.escalate->deadline, kCreated + 1000s);
}

TEST_F(LifecycleTest, EscalatingPastTheLastTierOnlyRaisesTheLevel) {
  Request r = WithTiers();
  r.escalation_level = 2;
  TransitionPlan plan = PlanEscalation(r, kCreated + 10s, "choice", "carol");
  EXPECT_EQ(*plan.escalate, (Escalation{3, kDeadline, {"alice"}, false}));
  ASSERT_EQ(plan.events.size(), 1u);
  ExpectEvent(plan.events[0], kCreated + 10s, "request.escalated", "carol",
              {{"escalation_level", 3}, {"reason", "choice"}, {"tier", "none left"}});
}

TEST_F(LifecycleTest, ATimerBeforeTheDeadlineOrAfterTheResolutionDoesNothing) {
  Request r = Pending();
  EXPECT_FALSE(PlanTimeout(r, kDeadline - 1ms));
  r.status = RequestStatus::kApproved;
  EXPECT_FALSE(PlanTimeout(r, kDeadline + 1s));
}

TEST_F(LifecycleTest, TheDeadlineExpiresARequestAndALostRaceIsNoConflict) {
  auto plan = PlanTimeout(Pending(), kDeadline);
  ASSERT_TRUE(plan);
  EXPECT_FALSE(plan->escalate);
  ASSERT_TRUE(plan->resolve);
  EXPECT_EQ(*plan->resolve,
            (Resolution{RequestStatus::kExpired, kDeadline, {}, "", ReasonCode::kExpired, false}));
  ASSERT_EQ(plan->events.size(), 1u);
  ExpectEvent(plan->events[0], kDeadline, "request.expired", "system",
              {{"status", "expired"},
               {"reason_code", "expired"},
               {"on_timeout", "expire"},
               {"deadline_at", FormatTime(kDeadline)}});
}

TEST_F(LifecycleTest, OnTimeoutDenyResolvesDenied) {
  Request r = Pending();
  r.on_timeout = OnTimeout::kDeny;
  auto plan = PlanTimeout(r, kDeadline + 1s);
  ASSERT_TRUE(plan);
  EXPECT_EQ(
      *plan->resolve,
      (Resolution{RequestStatus::kDenied, kDeadline + 1s, {}, "", ReasonCode::kExpired, false}));
  EXPECT_EQ(plan->events[0].data.at("on_timeout"), "deny");
}

TEST_F(LifecycleTest, OnTimeoutEscalateEscalatesWhileTiersLastThenExpires) {
  Request r = WithTiers();
  r.on_timeout = OnTimeout::kEscalate;
  auto first = PlanTimeout(r, kDeadline);
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->resolve);
  EXPECT_EQ(*first->escalate, (Escalation{1, kDeadline + 600s, {"alice", "bob"}, true}));
  ASSERT_EQ(first->events.size(), 1u);
  EXPECT_EQ(first->events[0].type, "request.escalated");
  EXPECT_EQ(first->events[0].actor, "system");
  EXPECT_EQ(first->events[0].data.at("reason"), "timeout");

  r.escalation_level = 2;
  auto last = PlanTimeout(r, kDeadline);
  ASSERT_TRUE(last);
  EXPECT_FALSE(last->escalate);
  EXPECT_EQ(
      *last->resolve,
      (Resolution{
          RequestStatus::kExpired, kDeadline, {}, "", ReasonCode::kEscalationExhausted, false}));
  EXPECT_EQ(last->events[0].data.at("on_timeout"), "escalate");
  EXPECT_EQ(last->events[0].data.at("reason_code"), "escalation_exhausted");
}

TEST_F(LifecycleTest, OnlyTheRequesterOrAnAdminCancelsAPendingRequest) {
  auto other = PlanCancel(Pending(), kAlice, "", kCreated + 1s);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, ErrorCode::kForbidden);

  auto own = PlanCancel(Pending(), kAgent, "not needed", kCreated + 1s);
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(*own->resolve, (Resolution{RequestStatus::kCancelled,
                                       kCreated + 1s,
                                       {"ci-bot"},
                                       "",
                                       ReasonCode::kCancelledByRequester,
                                       true}));
  ASSERT_EQ(own->events.size(), 1u);
  ExpectEvent(own->events[0], kCreated + 1s, "request.cancelled", "ci-bot",
              {{"reason", "not needed"}, {"reason_code", "cancelled_by_requester"}});

  auto by_admin = PlanCancel(Pending(), kAdmin, "", kCreated + 1s);
  ASSERT_TRUE(by_admin.ok());
  EXPECT_EQ(by_admin->resolve->reason, ReasonCode::kCancelledByAdmin);
  EXPECT_EQ(by_admin->events[0].data.at("reason_code"), "cancelled_by_admin");
  Request resolved = Pending();
  resolved.status = RequestStatus::kExpired;
  auto late = PlanCancel(resolved, kAdmin, "", kCreated + 1s);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, ErrorCode::kConflict);
  EXPECT_EQ(late.error().message, "request is already expired");
}

TEST_F(LifecycleTest, AnAutomaticApprovalCarriesAReceiptAndADenialNone) {
  const Request r = Pending();
  TransitionPlan approved = PlanAutoDecision(r, AutoDecision::kApprove, "grant:grt_1");
  EXPECT_EQ(*approved.resolve, (Resolution{RequestStatus::kApproved,
                                           kCreated,
                                           {"grant:grt_1"},
                                           "",
                                           ReasonCode::kApprovedByGrant,
                                           true}));
  EXPECT_EQ(approved.receipt_arguments_sha256, r.arguments_sha256);
  ASSERT_EQ(approved.events.size(), 1u);
  ExpectEvent(approved.events[0], kCreated, "request.resolved", "system",
              {{"status", "approved"},
               {"reason_code", "approved_by_grant"},
               {"resolved_by", boost::json::array{"grant:grt_1"}},
               {"automatic", true}});

  TransitionPlan by_policy = PlanAutoDecision(r, AutoDecision::kApprove, "policy:reads");
  EXPECT_EQ(by_policy.resolve->reason, ReasonCode::kApprovedByPolicy);

  TransitionPlan denied = PlanAutoDecision(r, AutoDecision::kDeny, "policy:no-friday");
  EXPECT_EQ(denied.resolve->status, RequestStatus::kDenied);
  EXPECT_EQ(denied.resolve->reason, ReasonCode::kDeniedByPolicy);
  EXPECT_EQ(denied.events[0].data.at("reason_code"), "denied_by_policy");
  EXPECT_FALSE(denied.receipt_arguments_sha256);
}

TEST_F(LifecycleTest, RemindersGoOnlyToPendingRequestsThatAskForThem) {
  Request r = Pending();
  EXPECT_FALSE(PlanReminder(r, kCreated + 60s));
  r.remind_every = 60s;
  r.notify = {"ops-slack"};
  r.approvers = {"alice"};
  auto plan = PlanReminder(r, kCreated + 60s);
  ASSERT_TRUE(plan);
  EXPECT_FALSE(plan->resolve);
  ASSERT_EQ(plan->events.size(), 1u);
  ExpectEvent(plan->events[0], kCreated + 60s, "request.reminded", "system",
              {{"notify", boost::json::array{"ops-slack"}},
               {"approvers", boost::json::array{"alice"}},
               {"deadline_at", FormatTime(kDeadline)}});
  r.status = RequestStatus::kCancelled;
  EXPECT_FALSE(PlanReminder(r, kCreated + 120s));
}

}  // namespace
}  // namespace countersign
