// The conversation rules on plain values: no store, no clock, no threads.
#include "engine/conversation_rules.hpp"

#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include "core/time_format.hpp"

namespace countersign {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

const TimePoint kPostedAt = FromUnixMillis(1'795'255'200'000);  // 2026-11-21T10:00:00Z
const TimePoint kNow = kPostedAt + 60s;

const Actor kAlice{"alice", Role::kApprover, "default", {"soc"}};
const Actor kBob{"bob", Role::kApprover, "default", {}};
const Actor kAgent{"alert-bot", Role::kAgent, "default", {}};

Request Pending() {
  Request r;
  r.id = "req_1";
  r.kind = Kind::kConversation;
  r.action = "alert.impossible_travel";
  r.title = "Impossible travel";
  r.requester = "alert-bot";
  r.details = {{"subject", "slack:U123"}};
  r.created_at = kPostedAt;
  r.deadline_at = kPostedAt + 24h;
  return r;
}

Request Resolved(RequestStatus status) {
  Request r = Pending();
  r.status = status;
  r.resolved_at = kNow;
  return r;
}

// An alert in the feed: the alert message and its properties note (message 1) shown, the note
// counted as judged (there is nothing in it to judge).
Conversation Posted() {
  Conversation c;
  c.request_id = "req_1";
  c.subject = "slack:U123";
  c.channel = "slack-ops";
  c.alert.name = "Impossible travel";
  c.question = "Was the user aware of this activity?";
  c.phase = ConversationPhase::kPosted;
  c.parent_version = 1;
  c.parent_shown = 1;
  c.feed_channel = "C0FEED";
  c.feed_ts = "1795255200.000100";
  c.last_seq = 1;
  c.judged_through = 1;
  c.delivered_through = 1;
  c.step_due = kPostedAt;
  c.updated_at = kPostedAt;
  return c;
}

// The chat started; the worker is writing the greeting.
Conversation Greeting() {
  Conversation c = Posted();
  c.phase = ConversationPhase::kChatting;
  c.started_by = "alice";
  c.step = ConversationStep::kGreet;
  c.parent_version = 2;
  c.parent_shown = 2;
  return c;
}

// The greeting (message 2) written, sent and mirrored.
Conversation Chatting() {
  Conversation c = Greeting();
  c.step = ConversationStep::kNone;
  c.dm_channel = "D0DM";
  c.last_seq = 2;
  c.delivered_through = 2;
  c.sent_through = 2;
  return c;
}

Conversation Judging(int64_t last_seq = 3) {
  Conversation c = Chatting();
  c.step = ConversationStep::kJudge;
  c.last_seq = last_seq;
  return c;
}

Conversation ClosingAs(RequestStatus status, std::string closed_by) {
  Conversation c = Chatting();
  c.phase = ConversationPhase::kClosing;
  c.step = ConversationStep::kClose;
  c.closing_status = static_cast<int>(status);
  c.closed_by = std::move(closed_by);
  return c;
}

const DecisionVia kVia{"slack-ops", "slack:UA1", "https://hooks.slack.example/actions/1"};

ConversationActor Analyst() { return {"slack:UA1", "alice", true, kVia}; }
ConversationActor Unmapped() { return {"slack:UX9", "", false, kVia}; }
ConversationActor NotAnAnalyst() { return {"slack:UB2", "bob", false, kVia}; }

ModelCall TemplateCall(std::string output = "") {
  ModelCall call;
  call.output = std::move(output);
  return call;
}

ModelCall JudgeCall() {
  ModelCall call;
  call.model = "gpt-4o-mini";
  call.input_bytes = 1234;
  call.output = "{\"has_answered\":true}";
  call.latency_ms = 850;
  return call;
}

ModelCall NudgeCall() {
  ModelCall call;
  call.model = "gpt-4o-mini";
  call.input_bytes = 2048;
  call.output = "Sorry to ask again";
  call.latency_ms = 640;
  return call;
}

const Verdict kNoAnswer{false, std::nullopt, 0, "no answer"};

void ExpectEvent(const EventDraft& event, const std::string& type, const std::string& actor,
                 const json::object& data, TimePoint at = kNow) {
  EXPECT_EQ(event.at, at);
  EXPECT_EQ(event.tenant, "default");
  EXPECT_EQ(event.request_id, "req_1");
  EXPECT_EQ(event.type, type);
  EXPECT_EQ(event.actor, actor);
  EXPECT_EQ(event.data, data) << json::serialize(event.data);
}

void ExpectMessage(const ConversationMessage& m, MessageRole role, const std::string& author,
                   const std::string& text, const std::string& external_id = "",
                   TimePoint at = kNow) {
  EXPECT_EQ(m.request_id, "req_1");
  EXPECT_EQ(m.seq, 0);  // the store assigns it
  EXPECT_EQ(m.role, role);
  EXPECT_EQ(m.author, author);
  EXPECT_EQ(m.text, text);
  EXPECT_EQ(m.at, at);
  EXPECT_EQ(m.external_id, external_id);
}

json::object Rejected(const std::string& what, const std::string& reason) {
  return {{"choice", what},
          {"reason", reason},
          {"via", json::object{{"channel", kVia.channel},
                               {"identity", kVia.identity},
                               {"response_url", kVia.response_url}}}};
}

ConversationPlan MustPlan(Result<ConversationPlan> plan) {
  EXPECT_TRUE(plan.ok()) << plan.error().message;
  return plan.ok() ? std::move(plan).value() : ConversationPlan{};
}

// The plan's conversation, or a failure (and a default conversation) when it has none.
Conversation Next(const ConversationPlan& plan) {
  EXPECT_TRUE(plan.conversation) << "the plan leaves the conversation unchanged";
  return plan.conversation ? *plan.conversation : Conversation{};
}

// A press refused on the record: a plan that changes nothing, writes one decision.rejected
// event by `actor` for `what`, and carries the error `code` with `reason` for the caller.
void ExpectRefusal(const Result<ConversationPlan>& planned, ErrorCode code,
                   const std::string& actor, const std::string& what, const std::string& reason) {
  ASSERT_TRUE(planned.ok()) << "refused off the record: " << planned.error().message;
  const ConversationPlan& plan = planned.value();
  ASSERT_TRUE(plan.refusal);
  EXPECT_EQ(plan.refusal->code, code);
  EXPECT_EQ(plan.refusal->message, reason);
  EXPECT_FALSE(plan.conversation);
  EXPECT_TRUE(plan.messages.empty());
  EXPECT_FALSE(plan.resolve);
  ASSERT_EQ(plan.events.size(), 1u);
  ExpectEvent(plan.events[0], "decision.rejected", actor, Rejected(what, reason));
}

TEST(StepBackoffTest, DoublesFromOneSecondAndStopsAtFiveMinutes) {
  EXPECT_EQ(StepBackoff(0), 1s);
  EXPECT_EQ(StepBackoff(1), 2s);
  EXPECT_EQ(StepBackoff(2), 4s);
  EXPECT_EQ(StepBackoff(8), 256s);
  EXPECT_EQ(StepBackoff(9), 300s);
  EXPECT_EQ(StepBackoff(1000), 300s);
  EXPECT_EQ(StepBackoff(-5), 1s);
}

TEST(ActorOnTest, AnUnmappedIdentityIsNamedByItselfAndMayNotAct) {
  const ConversationActor actor = ActorOn(Pending(), "slack:UX9", std::nullopt, PolicySet(), kVia);
  EXPECT_EQ(actor.identity, "slack:UX9");
  EXPECT_EQ(actor.principal, "");
  EXPECT_EQ(actor.name(), "slack:UX9");
  EXPECT_FALSE(actor.eligible);
  ASSERT_TRUE(actor.via);
  EXPECT_EQ(actor.via->response_url, kVia.response_url);
}

TEST(ActorOnTest, AnApproverAmongTheAlertsApproversMayAct) {
  Request r = Pending();
  r.approvers = {"alice"};
  const ConversationActor alice = ActorOn(r, "slack:UA1", kAlice, PolicySet());
  EXPECT_EQ(alice.principal, "alice");
  EXPECT_EQ(alice.name(), "alice");
  EXPECT_TRUE(alice.eligible);
  EXPECT_FALSE(alice.via);
  EXPECT_FALSE(ActorOn(r, "slack:UB2", kBob, PolicySet()).eligible);
}

TEST(ActorOnTest, AnAgentAndTheRequesterMayNotAct) {
  EXPECT_FALSE(ActorOn(Pending(), "slack:UC3", kAgent, PolicySet()).eligible);
  Request r = Pending();
  r.requester = "alice";
  EXPECT_FALSE(ActorOn(r, "slack:UA1", kAlice, PolicySet()).eligible);
}

TEST(ActorOnTest, TheSubjectOfTheAlertIsNeverEligible) {
  // The user the alert is about is mapped to an approver who could otherwise settle it.
  Request r = Pending();
  r.details["subject"] = "slack:UA1";
  const ConversationActor subject = ActorOn(r, "slack:UA1", kAlice, PolicySet(), kVia);
  EXPECT_EQ(subject.principal, "alice");
  EXPECT_FALSE(subject.eligible);
  r.approvers = {"alice"};
  EXPECT_FALSE(ActorOn(r, "slack:UA1", kAlice, PolicySet()).eligible);

  // It is the chat identity that is excluded: the same principal through another identity,
  // and anyone else, may act.
  EXPECT_TRUE(ActorOn(r, "slack:UA2", kAlice, PolicySet()).eligible);
  EXPECT_TRUE(ActorOn(Pending(), "slack:UA1", kAlice, PolicySet()).eligible);
}

TEST(ActorOnTest, AnAlertWithoutASubjectInItsDetailsExcludesNobody) {
  Request r = Pending();
  r.details = {};
  EXPECT_TRUE(ActorOn(r, "slack:U123", kAlice, PolicySet()).eligible);
  r.details = {{"subject", 7}};
  EXPECT_TRUE(ActorOn(r, "slack:U123", kAlice, PolicySet()).eligible);
}

TEST(PlanStartChatTest, AnEligibleAnalystStartsTheChatAndTheWorkerGreets) {
  const Conversation c = Posted();
  ConversationPlan plan = MustPlan(PlanStartChat(Pending(), c, Analyst(), kNow));
  EXPECT_FALSE(plan.refusal);
  EXPECT_FALSE(plan.resolve);
  EXPECT_TRUE(plan.messages.empty());
  Conversation expected = c;
  expected.phase = ConversationPhase::kChatting;
  expected.started_by = "alice";
  expected.step = ConversationStep::kGreet;
  expected.step_due = kNow;
  expected.parent_version = 2;
  expected.updated_at = kNow;
  EXPECT_EQ(Next(plan), expected);
  ASSERT_EQ(plan.events.size(), 1u);
  ExpectEvent(plan.events[0], "conversation.started", "alice",
              {{"identity", "slack:UA1"}, {"subject", "slack:U123"}});
}

TEST(PlanStartChatTest, AnUnmappedUserIsRefusedForbiddenOnTheRecord) {
  ConversationPlan plan = MustPlan(PlanStartChat(Pending(), Posted(), Unmapped(), kNow));
  ASSERT_TRUE(plan.refusal);
  EXPECT_EQ(plan.refusal->code, ErrorCode::kForbidden);
  const std::string reason = "not authorised: slack:UX9 is not mapped to a principal";
  EXPECT_EQ(plan.refusal->message, reason);
  EXPECT_FALSE(plan.conversation);
  EXPECT_TRUE(plan.messages.empty());
  ASSERT_EQ(plan.events.size(), 1u);
  ExpectEvent(plan.events[0], "decision.rejected", "slack:UX9", Rejected("start a chat", reason));
}

TEST(PlanStartChatTest, AMappedUserWhoIsNoAnalystOfTheAlertIsRefusedForbidden) {
  ConversationPlan plan = MustPlan(PlanStartChat(Pending(), Posted(), NotAnAnalyst(), kNow));
  ASSERT_TRUE(plan.refusal);
  EXPECT_EQ(plan.refusal->code, ErrorCode::kForbidden);
  const std::string reason = "not authorised: bob is not an analyst of this alert";
  EXPECT_EQ(plan.refusal->message, reason);
  ASSERT_EQ(plan.events.size(), 1u);
  ExpectEvent(plan.events[0], "decision.rejected", "bob", Rejected("start a chat", reason));
}

TEST(PlanStartChatTest, ASecondStartIsAConflictOnTheRecord) {
  ConversationActor carol{"slack:UC3", "carol", true, kVia};
  ConversationPlan plan = MustPlan(PlanStartChat(Pending(), Chatting(), carol, kNow));
  ASSERT_TRUE(plan.refusal);
  EXPECT_EQ(plan.refusal->code, ErrorCode::kConflict);
  EXPECT_EQ(plan.refusal->message, "the chat was already started by alice");
  ASSERT_TRUE(plan.refusal->current);
  EXPECT_EQ(*plan.refusal->current, Pending());
  EXPECT_FALSE(plan.conversation);
  ASSERT_EQ(plan.events.size(), 1u);
  ExpectEvent(plan.events[0], "decision.rejected", "carol",
              Rejected("start a chat", "the chat was already started by alice"));
}

TEST(PlanStartChatTest, AClosedConversationIsAConflictOnTheRecord) {
  Conversation c = Posted();
  c.phase = ConversationPhase::kClosed;
  ExpectRefusal(PlanStartChat(Resolved(RequestStatus::kDismissed), c, Analyst(), kNow),
                ErrorCode::kConflict, "alice", "start a chat",
                "the conversation is already closed (request dismissed)");
}

TEST(PlanStartChatTest, ARequestThatLeftPendingIsAConflictEvenBeforeItsChatCloses) {
  // The request expired; the conversation is not closed yet (the same transaction closes it).
  ExpectRefusal(PlanStartChat(Resolved(RequestStatus::kExpired), Posted(), Analyst(), kNow),
                ErrorCode::kConflict, "alice", "start a chat",
                "the conversation is already posted (request expired)");
}

TEST(PlanStartChatTest, AnOutsiderOnAClosedConversationIsRefusedAsAnOutsider) {
  Conversation c = Posted();
  c.phase = ConversationPhase::kClosed;
  ExpectRefusal(PlanStartChat(Resolved(RequestStatus::kDismissed), c, NotAnAnalyst(), kNow),
                ErrorCode::kForbidden, "bob", "start a chat",
                "not authorised: bob is not an analyst of this alert");
}

TEST(PlanDismissTest, DoNothingClosesTheConversationAndResolvesDismissed) {
  const Conversation c = Posted();
  ConversationPlan plan = MustPlan(PlanDismiss(Pending(), c, Analyst(), kNow));
  Conversation expected = c;
  expected.phase = ConversationPhase::kClosed;
  expected.closed_by = "alice";
  expected.parent_version = 2;
  expected.updated_at = kNow;
  EXPECT_EQ(Next(plan), expected);
  ASSERT_TRUE(plan.resolve);
  EXPECT_EQ(
      *plan.resolve,
      (Resolution{RequestStatus::kDismissed, kNow, {"alice"}, "", ReasonCode::kDismissed, true}));
  ASSERT_EQ(plan.events.size(), 2u);
  ExpectEvent(plan.events[0], "conversation.dismissed", "alice", {{"identity", "slack:UA1"}});
  ExpectEvent(plan.events[1], "request.resolved", "alice",
              {{"status", "dismissed"},
               {"reason_code", "dismissed"},
               {"resolved_by", json::array{"alice"}}});
  EXPECT_FALSE(plan.refusal);
}

TEST(PlanDismissTest, DismissingAClosedConversationIsAConflictOnTheRecord) {
  Conversation c = Chatting();
  c.phase = ConversationPhase::kClosed;
  ExpectRefusal(PlanDismiss(Resolved(RequestStatus::kEnded), c, Analyst(), kNow),
                ErrorCode::kConflict, "alice", "dismiss",
                "the conversation is already closed (request ended)");
}

TEST(PlanDismissTest, AnIneligibleUserIsRefusedAndNothingResolves) {
  ConversationPlan plan = MustPlan(PlanDismiss(Pending(), Posted(), Unmapped(), kNow));
  ASSERT_TRUE(plan.refusal);
  EXPECT_EQ(plan.refusal->code, ErrorCode::kForbidden);
  EXPECT_FALSE(plan.resolve);
  EXPECT_FALSE(plan.conversation);
  ASSERT_EQ(plan.events.size(), 1u);
  EXPECT_EQ(plan.events[0].type, "decision.rejected");
  EXPECT_EQ(plan.events[0].data.at("choice"), "dismiss");
}

TEST(PlanEndChatTest, EndChatMovesToClosingTowardEndedForTheWorkerToSummarise) {
  const Conversation c = Chatting();
  ConversationPlan plan = MustPlan(PlanEndChat(Pending(), c, Analyst(), kNow));
  Conversation expected = c;
  expected.phase = ConversationPhase::kClosing;
  expected.closing_status = static_cast<int>(RequestStatus::kEnded);
  expected.closed_by = "alice";
  expected.step = ConversationStep::kClose;
  expected.step_due = kNow;
  expected.parent_version = 3;
  expected.updated_at = kNow;
  EXPECT_EQ(Next(plan), expected);
  EXPECT_FALSE(plan.resolve);  // the summary resolves it
  ASSERT_EQ(plan.events.size(), 1u);
  ExpectEvent(plan.events[0], "conversation.ending", "alice", {{"identity", "slack:UA1"}});
}

TEST(PlanEndChatTest, EndChatBeforeTheChatStartedIsAConflictOnTheRecord) {
  ExpectRefusal(PlanEndChat(Pending(), Posted(), Analyst(), kNow), ErrorCode::kConflict, "alice",
                "end the chat", "the chat has not started; dismiss the alert instead");
}

TEST(PlanEndChatTest, EndChatWhileClosingOrClosedIsAConflictOnTheRecord) {
  ExpectRefusal(
      PlanEndChat(Pending(), ClosingAs(RequestStatus::kAnswered, "judge"), Analyst(), kNow),
      ErrorCode::kConflict, "alice", "end the chat",
      "the conversation is already closing (request pending)");
  Conversation closed = Chatting();
  closed.phase = ConversationPhase::kClosed;
  ExpectRefusal(PlanEndChat(Resolved(RequestStatus::kAnswered), closed, Analyst(), kNow),
                ErrorCode::kConflict, "alice", "end the chat",
                "the conversation is already closed (request answered)");
}

TEST(PlanEndChatTest, AnIneligibleUserIsRefusedForbiddenOnTheRecord) {
  ExpectRefusal(PlanEndChat(Pending(), Chatting(), Unmapped(), kNow), ErrorCode::kForbidden,
                "slack:UX9", "end the chat",
                "not authorised: slack:UX9 is not mapped to a principal");
}

TEST(PlanAnalystVerdictTest, UserDeniedClosesAsAnsweredWithTheAnalystsWord) {
  Conversation c = Chatting();
  c.step_attempts = 2;
  ConversationPlan plan = MustPlan(PlanAnalystVerdict(Pending(), c, Analyst(), false, kNow));
  const Conversation next = Next(plan);
  EXPECT_EQ(next.phase, ConversationPhase::kClosing);
  EXPECT_EQ(next.closing_status, static_cast<int>(RequestStatus::kAnswered));
  EXPECT_EQ(next.closed_by, "alice");
  EXPECT_EQ(next.step, ConversationStep::kClose);
  EXPECT_EQ(next.step_attempts, 0);
  EXPECT_EQ(next.parent_version, 3);
  EXPECT_EQ(next.result,
            (ConversationResult{true, false, 1.0, "alice denied it for the user", ""}));
  ASSERT_EQ(plan.events.size(), 1u);
  ExpectEvent(plan.events[0], "conversation.settled", "alice",
              {{"identity", "slack:UA1"}, {"is_aware", false}});
}

TEST(PlanAnalystVerdictTest, UserConfirmedSaysSoInTheReason) {
  ConversationPlan plan =
      MustPlan(PlanAnalystVerdict(Pending(), Chatting(), Analyst(), true, kNow));
  EXPECT_EQ(Next(plan).result.is_aware, true);
  EXPECT_EQ(Next(plan).result.reason, "alice confirmed it for the user");
}

TEST(PlanAnalystVerdictTest, AVerdictBeforeTheChatOrByAnOutsiderIsRefusedOnTheRecord) {
  ExpectRefusal(PlanAnalystVerdict(Pending(), Posted(), Analyst(), true, kNow),
                ErrorCode::kConflict, "alice", "settle the chat",
                "the chat has not started; there is no answer to confirm");
  ConversationPlan outsider =
      MustPlan(PlanAnalystVerdict(Pending(), Chatting(), NotAnAnalyst(), true, kNow));
  ASSERT_TRUE(outsider.refusal);
  EXPECT_EQ(outsider.refusal->code, ErrorCode::kForbidden);
  ASSERT_EQ(outsider.events.size(), 1u);
  EXPECT_EQ(outsider.events[0].data.at("choice"), "settle the chat");
}

TEST(PlanAnalystVerdictTest, AVerdictOnAChatAlreadyClosingIsAConflictOnTheRecord) {
  ExpectRefusal(PlanAnalystVerdict(Pending(), ClosingAs(RequestStatus::kEnded, "bob"), Analyst(),
                                   false, kNow),
                ErrorCode::kConflict, "alice", "settle the chat",
                "the conversation is already closing (request pending)");
}

TEST(PlanSubjectMessageTest, AReplyWhileChattingIsRecordedAndJudged) {
  const Conversation c = Chatting();
  ConversationPlan plan =
      PlanSubjectMessage(Pending(), c, "yes that was me", "1795255260.000200", true, kNow);
  ASSERT_EQ(plan.messages.size(), 1u);
  ExpectMessage(plan.messages[0], MessageRole::kSubject, "slack:U123", "yes that was me",
                "1795255260.000200");
  ASSERT_EQ(plan.events.size(), 1u);
  ExpectEvent(plan.events[0], "conversation.message", "slack:U123",
              {{"role", "subject"}, {"text", "yes that was me"}});
  Conversation expected = c;
  expected.step = ConversationStep::kJudge;
  expected.step_due = kNow;
  expected.updated_at = kNow;
  EXPECT_EQ(Next(plan), expected);
  EXPECT_FALSE(plan.resolve);
}

TEST(PlanSubjectMessageTest, WithoutAJudgeTheReplyIsOnlyRecorded) {
  ConversationPlan plan = PlanSubjectMessage(Pending(), Chatting(), "yes", "e1", false, kNow);
  ASSERT_EQ(plan.messages.size(), 1u);
  EXPECT_EQ(Next(plan).step, ConversationStep::kNone);
}

TEST(PlanSubjectMessageTest, AReplyDuringTheGreetingOrWhenAnalystsSettleItIsNotJudged) {
  Conversation greeting = Chatting();
  greeting.step = ConversationStep::kGreet;
  greeting.step_due = kPostedAt;
  ConversationPlan during = PlanSubjectMessage(Pending(), greeting, "hi", "e1", true, kNow);
  ASSERT_EQ(during.messages.size(), 1u);
  EXPECT_EQ(Next(during).step, ConversationStep::kGreet);
  EXPECT_EQ(Next(during).step_due, kPostedAt);

  Conversation analysts = Chatting();
  analysts.needs_analyst = true;
  ConversationPlan settled = PlanSubjectMessage(Pending(), analysts, "hi", "e2", true, kNow);
  ASSERT_EQ(settled.messages.size(), 1u);
  EXPECT_EQ(Next(settled).step, ConversationStep::kNone);
}

TEST(PlanSubjectMessageTest, NothingIsRecordedUnlessTheChatIsOn) {
  EXPECT_TRUE(PlanSubjectMessage(Pending(), Posted(), "hi", "e1", true, kNow).empty());
  Conversation closing = ClosingAs(RequestStatus::kEnded, "alice");
  EXPECT_TRUE(PlanSubjectMessage(Pending(), closing, "hi", "e1", true, kNow).empty());
  Conversation closed = Chatting();
  closed.phase = ConversationPhase::kClosed;
  EXPECT_TRUE(PlanSubjectMessage(Pending(), closed, "hi", "e1", true, kNow).empty());
  EXPECT_TRUE(
      PlanSubjectMessage(Resolved(RequestStatus::kExpired), Chatting(), "hi", "e1", true, kNow)
          .empty());
}

TEST(PlanAnalystMessageTest, AnAnalystsWordsAreRelayedWhileChatting) {
  const Conversation c = Chatting();
  ConversationPlan plan =
      MustPlan(PlanAnalystMessage(Pending(), c, Analyst(), "which city were you in?", "t9", kNow));
  ASSERT_EQ(plan.messages.size(), 1u);
  ExpectMessage(plan.messages[0], MessageRole::kAnalyst, "alice", "which city were you in?", "t9");
  ASSERT_EQ(plan.events.size(), 1u);
  ExpectEvent(plan.events[0], "conversation.message", "alice",
              {{"role", "analyst"}, {"text", "which city were you in?"}});
  Conversation expected = c;
  expected.updated_at = kNow;
  EXPECT_EQ(Next(plan), expected);
}

TEST(PlanAnalystMessageTest, BeforeTheChatItIsAConflictAndFromAnOutsiderARefusal) {
  ExpectRefusal(PlanAnalystMessage(Pending(), Posted(), Analyst(), "hello", "t1", kNow),
                ErrorCode::kConflict, "alice", "write to the user",
                "the chat has not started; press Start chat first");

  ConversationPlan outsider =
      MustPlan(PlanAnalystMessage(Pending(), Chatting(), Unmapped(), "hello", "t2", kNow));
  ASSERT_TRUE(outsider.refusal);
  EXPECT_EQ(outsider.refusal->code, ErrorCode::kForbidden);
  EXPECT_TRUE(outsider.messages.empty());
  ASSERT_EQ(outsider.events.size(), 1u);
  EXPECT_EQ(outsider.events[0].data.at("choice"), "write to the user");
}

TEST(PlanAnalystMessageTest, AfterTheChatClosedItIsAConflictOnTheRecordAndNothingIsRelayed) {
  ExpectRefusal(PlanAnalystMessage(Pending(), ClosingAs(RequestStatus::kEnded, "alice"), Analyst(),
                                   "one more thing", "t3", kNow),
                ErrorCode::kConflict, "alice", "write to the user",
                "the conversation is already closing (request pending)");
}

TEST(PlanGreetingTest, TheGreetingIsSentAndTheStepIsDone) {
  Conversation c = Greeting();
  c.step_attempts = 1;
  ConversationPlan plan = PlanGreeting(Pending(), c, "we noticed a sign-in",
                                       TemplateCall("we noticed"), /*with_judge=*/true, kNow);
  ASSERT_EQ(plan.events.size(), 2u);
  ExpectEvent(plan.events[0], "conversation.model", "countersign",
              {{"model", "template"},
               {"input_bytes", 0},
               {"latency_ms", 0},
               {"output", "we noticed"},
               {"use", "greeting"}});
  ExpectEvent(plan.events[1], "conversation.message", "countersign",
              {{"role", "bot"}, {"text", "we noticed a sign-in"}});
  ASSERT_EQ(plan.messages.size(), 1u);
  ExpectMessage(plan.messages[0], MessageRole::kBot, "countersign", "we noticed a sign-in");
  // Nothing came while it was written (the properties note is judged already): no judge.
  Conversation expected = c;
  expected.step = ConversationStep::kNone;
  expected.step_due = kNow;
  expected.step_attempts = 0;
  expected.updated_at = kNow;
  EXPECT_EQ(Next(plan), expected);
  EXPECT_FALSE(plan.resolve);
}

TEST(PlanGreetingTest, WithAJudgeRepliesThatCameWhileItWasWrittenAreJudgedNext) {
  Conversation c = Greeting();
  c.last_seq = 2;  // the subject wrote before the greeting was ready
  c.step_attempts = 1;
  ConversationPlan plan = PlanGreeting(Pending(), c, "we noticed a sign-in", TemplateCall(),
                                       /*with_judge=*/true, kNow);
  ASSERT_EQ(plan.messages.size(), 1u);
  EXPECT_EQ(plan.messages[0].role, MessageRole::kBot);
  Conversation expected = c;
  expected.step = ConversationStep::kJudge;
  expected.step_due = kNow;
  expected.step_attempts = 0;
  expected.updated_at = kNow;
  EXPECT_EQ(Next(plan), expected);
  EXPECT_EQ(Next(plan).judged_through, 1);  // the judge has read nothing of the chat yet
}

TEST(PlanGreetingTest, WithoutAJudgeOrWithTheAnalystsAskedRepliesWaitForTheAnalysts) {
  Conversation c = Greeting();
  c.last_seq = 2;
  ConversationPlan without = PlanGreeting(Pending(), c, "hello", TemplateCall(),
                                          /*with_judge=*/false, kNow);
  ASSERT_EQ(without.messages.size(), 1u);
  EXPECT_EQ(Next(without).step, ConversationStep::kNone);

  c.needs_analyst = true;
  ConversationPlan asked =
      PlanGreeting(Pending(), c, "hello", TemplateCall(), /*with_judge=*/true, kNow);
  ASSERT_EQ(asked.messages.size(), 1u);
  EXPECT_EQ(Next(asked).step, ConversationStep::kNone);
}

TEST(PlanGreetingTest, OnlyMessagesPastWhatTheJudgeReadCount) {
  Conversation c = Greeting();
  c.last_seq = 3;
  c.judged_through = 3;
  ConversationPlan plan =
      PlanGreeting(Pending(), c, "hello", TemplateCall(), /*with_judge=*/true, kNow);
  EXPECT_EQ(Next(plan).step, ConversationStep::kNone);
}

TEST(PlanGreetingTest, AModelCallThatFailedIsNamedWithItsError) {
  ModelCall call = TemplateCall("hello");
  call.error = "the model server did not answer";
  ConversationPlan plan =
      PlanGreeting(Pending(), Greeting(), "hello", call, /*with_judge=*/false, kNow);
  ASSERT_FALSE(plan.events.empty());
  EXPECT_EQ(plan.events[0].data.at("error"), "the model server did not answer");
  EXPECT_EQ(plan.events[0].data.at("model"), "template");
}

TEST(PlanGreetingTest, AGreetingThatCameTooLateChangesNothing) {
  EXPECT_TRUE(PlanGreeting(Pending(), Chatting(), "hello", TemplateCall(), true, kNow).empty());
  EXPECT_TRUE(PlanGreeting(Resolved(RequestStatus::kCancelled), Greeting(), "hello", TemplateCall(),
                           true, kNow)
                  .empty());
}

TEST(PlanJudgementTest, AConfidentAnswerClosesAsAnsweredByTheJudge) {
  const Conversation c = Judging(3);
  const Verdict verdict{true, true, 0.9, "they confirmed the trip"};
  ConversationPlan plan =
      PlanJudgement(Pending(), c, verdict, 3, JudgeCall(), "", ModelCall{}, kNow);
  ASSERT_EQ(plan.events.size(), 1u);
  ExpectEvent(plan.events[0], "conversation.judged", "countersign",
              {{"model", "gpt-4o-mini"},
               {"input_bytes", 1234},
               {"latency_ms", 850},
               {"output", "{\"has_answered\":true}"},
               {"use", "judge"},
               {"has_answered", true},
               {"is_aware", true},
               {"confidence", 0.9},
               {"reason", "they confirmed the trip"},
               {"judged_through", 3}});
  EXPECT_TRUE(plan.messages.empty());
  EXPECT_FALSE(plan.resolve);  // the summary resolves it
  const Conversation next = Next(plan);
  EXPECT_EQ(next.phase, ConversationPhase::kClosing);
  EXPECT_EQ(next.closing_status, static_cast<int>(RequestStatus::kAnswered));
  EXPECT_EQ(next.closed_by, "judge");
  EXPECT_EQ(next.step, ConversationStep::kClose);
  EXPECT_EQ(next.step_due, kNow);
  EXPECT_EQ(next.judged_through, 3);
  EXPECT_EQ(next.parent_version, c.parent_version + 1);
  EXPECT_EQ(next.result, (ConversationResult{true, true, 0.9, "they confirmed the trip", ""}));
}

TEST(PlanJudgementTest, AnUnsureAnswerAsksTheAnalystsWithANote) {
  const Conversation c = Judging(3);
  ConversationPlan plan = PlanJudgement(Pending(), c, {true, true, 0.5, "maybe"}, 3, JudgeCall(),
                                        "", ModelCall{}, kNow);
  const Conversation next = Next(plan);
  EXPECT_EQ(next.phase, ConversationPhase::kChatting);
  EXPECT_EQ(next.step, ConversationStep::kNone);
  EXPECT_TRUE(next.needs_analyst);
  EXPECT_EQ(next.parent_version, c.parent_version + 1);
  EXPECT_FALSE(next.result.has_answered);
  ASSERT_EQ(plan.messages.size(), 1u);
  ExpectMessage(plan.messages[0], MessageRole::kNote, "countersign",
                "The model thinks the user has answered, but is not sure (confidence 50%): please "
                "read the chat and settle it with the buttons.");
  ASSERT_EQ(plan.events.size(), 2u);
  EXPECT_EQ(plan.events[0].type, "conversation.judged");
  EXPECT_EQ(plan.events[1].type, "conversation.message");
  EXPECT_EQ(plan.events[1].data.at("role"), "note");
}

TEST(PlanJudgementTest, JustBelowTheThresholdIsUnsureAndAtItIsConfident) {
  ConversationPlan below =
      PlanJudgement(Pending(), Judging(), {true, true, kMinConfidence - 0.01, ""}, 3, JudgeCall(),
                    "", ModelCall{}, kNow);
  EXPECT_EQ(Next(below).phase, ConversationPhase::kChatting);
  ConversationPlan at = PlanJudgement(Pending(), Judging(), {true, true, kMinConfidence, ""}, 3,
                                      JudgeCall(), "", ModelCall{}, kNow);
  EXPECT_EQ(Next(at).phase, ConversationPhase::kClosing);
}

TEST(PlanJudgementTest, NoAnswerYetSendsTheNudgeAndCountsIt) {
  Conversation c = Judging(3);
  c.nudges = 1;
  ConversationPlan plan = PlanJudgement(Pending(), c, kNoAnswer, 3, JudgeCall(),
                                        "Sorry to ask again", NudgeCall(), kNow);
  const Conversation next = Next(plan);
  EXPECT_EQ(next.nudges, 2);
  EXPECT_EQ(next.step, ConversationStep::kNone);
  EXPECT_FALSE(next.needs_analyst);
  EXPECT_EQ(next.parent_version, c.parent_version);
  ASSERT_EQ(plan.messages.size(), 1u);
  ExpectMessage(plan.messages[0], MessageRole::kBot, "countersign", "Sorry to ask again");
}

TEST(PlanJudgementTest, ANudgeIsOnTheRecordAsAModelCallBetweenTheVerdictAndTheMessage) {
  ConversationPlan plan = PlanJudgement(Pending(), Judging(3), kNoAnswer, 3, JudgeCall(),
                                        "Sorry to ask again", NudgeCall(), kNow);
  ASSERT_EQ(plan.events.size(), 3u);
  EXPECT_EQ(plan.events[0].type, "conversation.judged");
  EXPECT_EQ(plan.events[0].data.at("is_aware"), nullptr);
  ExpectEvent(plan.events[1], "conversation.model", "countersign",
              {{"model", "gpt-4o-mini"},
               {"input_bytes", 2048},
               {"latency_ms", 640},
               {"output", "Sorry to ask again"},
               {"use", "nudge"}});
  ExpectEvent(plan.events[2], "conversation.message", "countersign",
              {{"role", "bot"}, {"text", "Sorry to ask again"}});
}

TEST(PlanJudgementTest, ATemplateNudgeIsRecordedAsTheTemplateWithTheModelsError) {
  ModelCall fallback = TemplateCall("Sorry to ask again: Was this you, or did you know about it?");
  fallback.error = "the model server answered HTTP 503: overloaded";
  ConversationPlan plan =
      PlanJudgement(Pending(), Judging(3), kNoAnswer, 3, JudgeCall(),
                    "Sorry to ask again: Was this you, or did you know about it?", fallback, kNow);
  ASSERT_EQ(plan.events.size(), 3u);
  ExpectEvent(plan.events[1], "conversation.model", "countersign",
              {{"model", "template"},
               {"input_bytes", 0},
               {"latency_ms", 0},
               {"output", "Sorry to ask again: Was this you, or did you know about it?"},
               {"error", "the model server answered HTTP 503: overloaded"},
               {"use", "nudge"}});
  ASSERT_EQ(plan.messages.size(), 1u);
  EXPECT_EQ(plan.messages[0].text, "Sorry to ask again: Was this you, or did you know about it?");
}

TEST(PlanJudgementTest, WhenTheNudgesAreUsedUpTheAnalystsAreAskedOnce) {
  Conversation c = Judging(3);
  c.nudges = 3;
  c.max_nudges = 3;
  ConversationPlan plan = PlanJudgement(Pending(), c, {false, std::nullopt, 0, ""}, 3, JudgeCall(),
                                        "", ModelCall{}, kNow);
  Conversation next = Next(plan);
  EXPECT_TRUE(next.needs_analyst);
  EXPECT_EQ(next.nudges, 3);
  EXPECT_EQ(next.parent_version, c.parent_version + 1);
  ASSERT_EQ(plan.messages.size(), 1u);
  ExpectMessage(plan.messages[0], MessageRole::kNote, "countersign",
                "No answer after 3 reminders; countersign will not ask again. Settle it with the "
                "buttons.");

  // The next reply (after the note, message 4) is judged again (a model still judges), and
  // nothing more is said.
  next.step = ConversationStep::kJudge;
  next.last_seq = 5;
  ConversationPlan again = PlanJudgement(Pending(), next, {false, std::nullopt, 0, ""}, 5,
                                         JudgeCall(), "", ModelCall{}, kNow);
  EXPECT_TRUE(again.messages.empty());
  EXPECT_EQ(Next(again).parent_version, next.parent_version);
}

TEST(PlanJudgementTest, AnUnusedNudgeIsNotSentWhenTheNudgesAreUsedUp) {
  Conversation c = Judging(3);
  c.nudges = 3;
  c.max_nudges = 3;
  ConversationPlan plan = PlanJudgement(Pending(), c, {false, std::nullopt, 0, ""}, 3, JudgeCall(),
                                        "ask again", NudgeCall(), kNow);
  ASSERT_EQ(plan.messages.size(), 1u);
  EXPECT_EQ(plan.messages[0].role, MessageRole::kNote);
  EXPECT_EQ(Next(plan).nudges, 3);
  for (const auto& e : plan.events) EXPECT_NE(e.type, "conversation.model");
}

TEST(PlanJudgementTest, MessagesThatArrivedMeanwhileAreJudgedAgainBeforeANudge) {
  const Conversation c = Judging(5);
  ConversationPlan plan = PlanJudgement(Pending(), c, {false, std::nullopt, 0, ""}, 4, JudgeCall(),
                                        "Sorry to ask again", NudgeCall(), kNow);
  const Conversation next = Next(plan);
  EXPECT_EQ(next.step, ConversationStep::kJudge);
  EXPECT_EQ(next.step_due, kNow);
  EXPECT_EQ(next.judged_through, 4);
  EXPECT_EQ(next.nudges, 0);
  EXPECT_TRUE(plan.messages.empty());
}

// Whatever the judge made of messages 1..4, message 5 came while it read them: nothing is
// closed, nobody nudged, no note written; the verdict is on the record and the judge reads
// again.
TEST(PlanJudgementTest, WhileMoreMessagesWaitNoVerdictClosesNudgesOrAsksTheAnalysts) {
  struct Case {
    const char* what;
    Verdict verdict;
    int nudges;
  };
  const Case cases[] = {
      {"a confident answer", {true, true, 0.95, "it was them"}, 0},
      {"an unsure answer", {true, true, 0.4, "maybe"}, 0},
      {"no answer, a nudge written", kNoAnswer, 0},
      {"no answer, the nudges used up", kNoAnswer, 3},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.what);
    Conversation c = Judging(5);
    c.nudges = k.nudges;
    c.step_attempts = 1;
    ConversationPlan plan = PlanJudgement(Pending(), c, k.verdict, 4, JudgeCall(),
                                          "Sorry to ask again", NudgeCall(), kNow);
    EXPECT_TRUE(plan.messages.empty());
    EXPECT_FALSE(plan.resolve);
    ASSERT_EQ(plan.events.size(), 1u);
    EXPECT_EQ(plan.events[0].type, "conversation.judged");
    EXPECT_EQ(plan.events[0].data.at("has_answered"), k.verdict.has_answered);
    EXPECT_EQ(plan.events[0].data.at("judged_through"), 4);
    Conversation expected = c;
    expected.judged_through = 4;
    expected.step = ConversationStep::kJudge;
    expected.step_due = kNow;
    expected.step_attempts = 0;
    expected.updated_at = kNow;
    EXPECT_EQ(Next(plan), expected);
  }
}

TEST(PlanJudgementTest, TheJudgementOfTheWholeTranscriptIsActedOn) {
  // The judge read again, through message 5: now the answer closes the chat.
  Conversation c = Judging(5);
  c.judged_through = 4;
  ConversationPlan plan = PlanJudgement(Pending(), c, {true, false, 0.9, "not them"}, 5,
                                        JudgeCall(), "", ModelCall{}, kNow);
  const Conversation next = Next(plan);
  EXPECT_EQ(next.phase, ConversationPhase::kClosing);
  EXPECT_EQ(next.step, ConversationStep::kClose);
  EXPECT_EQ(next.judged_through, 5);
  EXPECT_EQ(next.result.is_aware, false);
}

TEST(PlanJudgementTest, JudgedThroughNeverGoesBack) {
  Conversation c = Judging(5);
  c.judged_through = 4;
  ConversationPlan plan = PlanJudgement(Pending(), c, {false, std::nullopt, 0, ""}, 2, JudgeCall(),
                                        "", ModelCall{}, kNow);
  EXPECT_EQ(Next(plan).judged_through, 4);
}

TEST(PlanJudgementTest, AVerdictForAConversationNoLongerJudgedChangesNothing) {
  EXPECT_TRUE(PlanJudgement(Pending(), Chatting(), {true, true, 1, ""}, 2, JudgeCall(), "",
                            ModelCall{}, kNow)
                  .empty());
  EXPECT_TRUE(PlanJudgement(Resolved(RequestStatus::kExpired), Judging(), {true, true, 1, ""}, 3,
                            JudgeCall(), "", ModelCall{}, kNow)
                  .empty());
}

TEST(PlanCloseTest, AnAnsweredChatThanksTheUserPostsTheSummaryAndResolves) {
  Conversation c = ClosingAs(RequestStatus::kAnswered, "judge");
  c.result = {true, true, 0.9, "they confirmed the trip", ""};
  ConversationPlan plan =
      PlanClose(Pending(), c, "The user was travelling.", TemplateCall("summary"), kNow);
  ASSERT_EQ(plan.messages.size(), 2u);
  ExpectMessage(plan.messages[0], MessageRole::kBot, "countersign",
                "Thank you for your answer. The security team has what it needs.");
  ExpectMessage(plan.messages[1], MessageRole::kNote, "countersign",
                "Summary: The user was travelling.");
  ASSERT_EQ(plan.events.size(), 5u);
  EXPECT_EQ(plan.events[0].type, "conversation.model");
  EXPECT_EQ(plan.events[0].data.at("use"), "summary");
  EXPECT_EQ(plan.events[1].type, "conversation.message");
  EXPECT_EQ(plan.events[2].type, "conversation.message");
  ExpectEvent(plan.events[3], "conversation.closed", "judge",
              {{"status", "answered"}, {"has_answered", true}, {"is_aware", true}});
  ExpectEvent(
      plan.events[4], "request.resolved", "judge",
      {{"status", "answered"}, {"reason_code", "answered"}, {"resolved_by", json::array{"judge"}}});
  ASSERT_TRUE(plan.resolve);
  EXPECT_EQ(*plan.resolve, (Resolution{RequestStatus::kAnswered,
                                       kNow,
                                       {"judge"},
                                       "The user was travelling.",
                                       ReasonCode::kAnswered,
                                       false}));
  const Conversation next = Next(plan);
  EXPECT_EQ(next.phase, ConversationPhase::kClosed);
  EXPECT_EQ(next.step, ConversationStep::kNone);
  EXPECT_EQ(next.parent_version, c.parent_version + 1);
  EXPECT_EQ(next.result.summary, "The user was travelling.");
  EXPECT_EQ(next.result.is_aware, true);
}

TEST(PlanCloseTest, AnEndedChatOnlyPostsTheSummary) {
  const Conversation c = ClosingAs(RequestStatus::kEnded, "alice");
  ConversationPlan plan = PlanClose(Pending(), c, "No answer.", TemplateCall(), kNow);
  ASSERT_EQ(plan.messages.size(), 1u);
  ExpectMessage(plan.messages[0], MessageRole::kNote, "countersign", "Summary: No answer.");
  ASSERT_TRUE(plan.resolve);
  EXPECT_EQ(*plan.resolve,
            (Resolution{
                RequestStatus::kEnded, kNow, {"alice"}, "No answer.", ReasonCode::kEnded, false}));
  ASSERT_EQ(plan.events.size(), 4u);
  ExpectEvent(plan.events[2], "conversation.closed", "alice",
              {{"status", "ended"}, {"has_answered", false}, {"is_aware", nullptr}});
}

TEST(PlanCloseTest, ARequestThatLeftPendingMeanwhileClosesWithoutAResolution) {
  const Conversation c = ClosingAs(RequestStatus::kEnded, "alice");
  ConversationPlan plan =
      PlanClose(Resolved(RequestStatus::kExpired), c, "No answer.", TemplateCall(), kNow);
  EXPECT_FALSE(plan.resolve);
  EXPECT_EQ(Next(plan).phase, ConversationPhase::kClosed);
  for (const auto& e : plan.events) EXPECT_NE(e.type, "request.resolved");
}

TEST(PlanCloseTest, ASummaryWithoutACloseStepChangesNothing) {
  EXPECT_TRUE(PlanClose(Pending(), Chatting(), "s", TemplateCall(), kNow).empty());
  Conversation no_status = ClosingAs(RequestStatus::kEnded, "alice");
  no_status.closing_status.reset();
  EXPECT_TRUE(PlanClose(Pending(), no_status, "s", TemplateCall(), kNow).empty());
}

TEST(PlanStepFailedTest, AFailedStepIsRetriedAfterTheBackoff) {
  Conversation c = Chatting();
  c.step = ConversationStep::kGreet;
  c.step_attempts = 1;
  ConversationPlan plan = PlanStepFailed(Pending(), c, "timeout", 3, 0s, kNow);
  const Conversation next = Next(plan);
  EXPECT_EQ(next.step, ConversationStep::kGreet);
  EXPECT_EQ(next.step_attempts, 2);
  EXPECT_EQ(next.step_due, kNow + StepBackoff(2));
  EXPECT_EQ(next.step_due, kNow + 4s);
  EXPECT_FALSE(next.needs_analyst);
  EXPECT_TRUE(plan.messages.empty());
  ASSERT_EQ(plan.events.size(), 1u);
  ExpectEvent(plan.events[0], "conversation.step_failed", "countersign",
              {{"step", "greet"}, {"attempt", 2}, {"error", "timeout"}});
}

TEST(PlanStepFailedTest, ARetryAfterLongerThanTheBackoffIsWaitedOut) {
  Conversation c = Judging();
  c.step_attempts = 1;
  ConversationPlan plan = PlanStepFailed(Pending(), c, "rate-limited", 5, 30s, kNow);
  EXPECT_EQ(Next(plan).step_due, kNow + 30s);
  EXPECT_EQ(Next(plan).step_attempts, 2);
  EXPECT_EQ(Next(plan).step, ConversationStep::kJudge);
}

TEST(PlanStepFailedTest, ARetryAfterShorterThanTheBackoffDoesNotShortenIt) {
  Conversation c = Judging();
  c.step_attempts = 3;
  ConversationPlan plan = PlanStepFailed(Pending(), c, "rate-limited", 5, 1s, kNow);
  EXPECT_EQ(Next(plan).step_due, kNow + StepBackoff(4));
  EXPECT_EQ(Next(plan).step_due, kNow + 16s);
}

TEST(PlanStepFailedTest, AJudgeThatKeepsFailingHandsTheChatToTheAnalysts) {
  Conversation c = Judging();
  c.step_attempts = 2;
  ConversationPlan plan = PlanStepFailed(Pending(), c, "HTTP 503", 3, 0s, kNow);
  const Conversation next = Next(plan);
  EXPECT_EQ(next.step, ConversationStep::kNone);
  EXPECT_EQ(next.step_attempts, 0);
  EXPECT_TRUE(next.needs_analyst);
  EXPECT_EQ(next.parent_version, c.parent_version + 1);
  ASSERT_EQ(plan.messages.size(), 1u);
  ExpectMessage(
      plan.messages[0], MessageRole::kNote, "countersign",
      "The model could not be reached (HTTP 503); read the chat and settle it with the buttons.");
  ASSERT_EQ(plan.events.size(), 2u);
  EXPECT_EQ(plan.events[0].type, "conversation.step_failed");
  EXPECT_EQ(plan.events[1].type, "conversation.message");
}

TEST(PlanStepFailedTest, AnalystsAlreadyAskedAreNotAskedAgain) {
  Conversation c = Judging();
  c.step_attempts = 2;
  c.needs_analyst = true;
  ConversationPlan plan = PlanStepFailed(Pending(), c, "HTTP 503", 3, 0s, kNow);
  EXPECT_TRUE(plan.messages.empty());
  EXPECT_EQ(Next(plan).step, ConversationStep::kNone);
  EXPECT_EQ(Next(plan).parent_version, c.parent_version);
}

TEST(PlanStepFailedTest, NoStepNoChange) {
  EXPECT_TRUE(PlanStepFailed(Pending(), Chatting(), "x", 3, 0s, kNow).empty());
}

TEST(PlanRequestGoneTest, ARequestThatExpiredClosesItsChat) {
  const Conversation c = Judging();
  ConversationPlan plan = PlanRequestGone(Resolved(RequestStatus::kExpired), c, kNow);
  Conversation expected = c;
  expected.phase = ConversationPhase::kClosed;
  expected.step = ConversationStep::kNone;
  expected.parent_version = c.parent_version + 1;
  expected.updated_at = kNow;
  EXPECT_EQ(Next(plan), expected);
  EXPECT_FALSE(plan.resolve);
  ASSERT_EQ(plan.events.size(), 1u);
  ExpectEvent(plan.events[0], "conversation.closed", "countersign", {{"status", "expired"}});
}

TEST(PlanRequestGoneTest, APendingRequestOrAClosedChatIsLeftAlone) {
  EXPECT_TRUE(PlanRequestGone(Pending(), Chatting(), kNow).empty());
  Conversation closed = Chatting();
  closed.phase = ConversationPhase::kClosed;
  EXPECT_TRUE(PlanRequestGone(Resolved(RequestStatus::kCancelled), closed, kNow).empty());
}

TEST(PlanDeliveryFailedTest, OnlyTheFirstFailureInARowIsAnEvent) {
  const Conversation c = Chatting();
  ConversationPlan first = PlanDeliveryFailed(Pending(), c, "Slack down", 0s, kNow);
  const Conversation after_first = Next(first);
  EXPECT_EQ(after_first.delivery_failures, 1);
  EXPECT_EQ(after_first.step_due, kNow + 2s);
  ASSERT_EQ(first.events.size(), 1u);
  ExpectEvent(first.events[0], "conversation.delivery_failed", "countersign",
              {{"error", "Slack down"}});

  ConversationPlan second = PlanDeliveryFailed(Pending(), after_first, "Slack down", 0s, kNow);
  EXPECT_EQ(Next(second).delivery_failures, 2);
  EXPECT_EQ(Next(second).step_due, kNow + 4s);
  EXPECT_TRUE(second.events.empty());
  EXPECT_TRUE(second.messages.empty());
}

TEST(PlanDeliveryFailedTest, ADeliveryFailureIsNoFailedAttemptAtTheStep) {
  Conversation c = Judging();
  c.step_attempts = 2;
  ConversationPlan plan = PlanDeliveryFailed(Pending(), c, "Slack down", 0s, kNow);
  Conversation expected = c;
  expected.delivery_failures = 1;
  expected.step_due = kNow + StepBackoff(1);
  EXPECT_EQ(Next(plan), expected);  // the step, its attempts and the analysts untouched
  EXPECT_FALSE(plan.resolve);
}

TEST(PlanDeliveryFailedTest, RetryAfterIsHonoured) {
  ConversationPlan plan = PlanDeliveryFailed(Pending(), Chatting(), "ratelimited", 30s, kNow);
  EXPECT_EQ(Next(plan).step_due, kNow + 30s);
  EXPECT_EQ(Next(plan).delivery_failures, 1);
  EXPECT_EQ(Next(plan).step_attempts, 0);
}

TEST(PlanDeliveredTest, RecordsWhatWasShownAndWhereTheAlertIs) {
  Conversation c = Posted();
  c.feed_channel.clear();
  c.feed_ts.clear();
  c.parent_shown = 0;
  c.delivered_through = 0;
  c.delivery_failures = 2;
  ConversationPlan plan = PlanDelivered(c, 1, 0, 1, "C0FEED", "1795255200.000100", "");
  Conversation expected = c;
  expected.delivered_through = 1;
  expected.parent_shown = 1;
  expected.feed_channel = "C0FEED";
  expected.feed_ts = "1795255200.000100";
  expected.delivery_failures = 0;
  EXPECT_EQ(Next(plan), expected);
  EXPECT_TRUE(Next(plan).delivered());
  EXPECT_TRUE(plan.events.empty());
  EXPECT_TRUE(plan.messages.empty());
}

TEST(PlanDeliveredTest, RecordsWhatWasSentAndTheDirectMessage) {
  Conversation c = Chatting();
  c.dm_channel.clear();
  c.last_seq = 4;
  // Message 3 sent and mirrored, message 4 sent but not mirrored.
  ConversationPlan plan = PlanDelivered(c, 3, 4, c.parent_version, "", "", "D0NEW");
  const Conversation next = Next(plan);
  EXPECT_EQ(next.delivered_through, 3);
  EXPECT_EQ(next.sent_through, 4);
  EXPECT_EQ(next.dm_channel, "D0NEW");
  EXPECT_EQ(next.feed_ts, c.feed_ts);
  EXPECT_FALSE(next.delivered());
}

TEST(PlanDeliveredTest, ASuccessEndsTheRunOfFailuresButNotTheStepsAttempts) {
  Conversation c = Judging();
  c.step_attempts = 2;
  c.delivery_failures = 3;
  ConversationPlan plan = PlanDelivered(c, 3, 2, c.parent_version, "", "", "");
  const Conversation next = Next(plan);
  EXPECT_EQ(next.delivery_failures, 0);
  EXPECT_EQ(next.step_attempts, 2);
  EXPECT_EQ(next.step, ConversationStep::kJudge);
  EXPECT_EQ(next.delivered_through, 3);

  // Even when nothing more was shown: the chat answered again.
  Conversation stuck = Chatting();
  stuck.delivery_failures = 1;
  EXPECT_EQ(Next(PlanDelivered(stuck, 2, 2, 2, "", "", "")).delivery_failures, 0);
}

TEST(PlanDeliveredTest, NothingGoesBack) {
  Conversation c = Chatting();
  c.step = ConversationStep::kGreet;
  c.step_attempts = 2;
  c.delivered_through = 5;
  c.sent_through = 5;
  c.parent_shown = 2;
  ConversationPlan plan = PlanDelivered(c, 3, 1, 1, "", "", "");
  EXPECT_FALSE(plan.conversation);  // nothing changed
  EXPECT_TRUE(plan.empty());

  ConversationPlan more = PlanDelivered(c, 6, 4, 2, "", "", "");
  EXPECT_EQ(Next(more).delivered_through, 6);
  EXPECT_EQ(Next(more).sent_through, 5);
  EXPECT_EQ(Next(more).step_attempts, 2);
  EXPECT_EQ(Next(more).feed_ts, c.feed_ts);
  EXPECT_EQ(Next(more).dm_channel, c.dm_channel);
}

TEST(PropertiesTextTest, OneSentencePerPropertyInPlainWords) {
  Alert alert;
  alert.properties = {
      {"ip", "203.0.113.9"}, {"count", 3}, {"vpn", false}, {"proxy", nullptr}, {"<b>", "a&b *c*"}};
  EXPECT_EQ(PropertiesText(alert),
            "The value of ip for this alert is 203.0.113.9.\n"
            "The value of count for this alert is 3.\n"
            "The value of vpn for this alert is false.\n"
            "The value of proxy for this alert is null.\n"
            "The value of <b> for this alert is a&b *c*.");
}

TEST(PropertiesTextTest, AnAlertWithoutPropertiesSaysSo) {
  EXPECT_EQ(PropertiesText(Alert{}), "This alert has no properties.");
  Alert one;
  one.properties = {{"country", "NO"}};
  EXPECT_EQ(PropertiesText(one), "The value of country for this alert is NO.");
}

TEST(PlanPostedTest, ThePostedEventAndThePropertiesNoteAreWrittenWithTheRequest) {
  Conversation c = Posted();
  c.last_seq = 0;
  c.judged_through = 0;
  c.delivered_through = 0;
  c.alert.properties = {{"ip", "203.0.113.9"}};
  ConversationPlan plan = PlanPosted(Pending(), c, "alert-bot");
  EXPECT_EQ(Next(plan), c);  // stored as it is
  EXPECT_FALSE(plan.resolve);
  EXPECT_FALSE(plan.refusal);
  ASSERT_EQ(plan.messages.size(), 1u);
  ExpectMessage(plan.messages[0], MessageRole::kNote, "countersign",
                "The value of ip for this alert is 203.0.113.9.", "", kPostedAt);
  ASSERT_EQ(plan.events.size(), 2u);
  ExpectEvent(plan.events[0], "conversation.posted", "alert-bot",
              {{"subject", "slack:U123"}, {"alert", "Impossible travel"}, {"max_nudges", 3}},
              kPostedAt);
  ExpectEvent(plan.events[1], "conversation.message", "countersign",
              {{"role", "note"}, {"text", "The value of ip for this alert is 203.0.113.9."}},
              kPostedAt);
}

}  // namespace
}  // namespace countersign
