// Gateway's conversations over a real SQLite store on a fake clock: alerts, changes planned by
// the conversation rules, the subject's messages, and requests that leave pending otherwise.
#include <atomic>
#include <future>
#include <string>
#include <vector>

#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include "engine/gateway.hpp"
#include "testing/gateway_harness.hpp"

namespace countersign {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using RequestPtr = Gateway::RequestPtr;
using Changed = Gateway::ConversationChanged;

constexpr auto kEventually = 30s;

const Actor kSiem{"siem", Role::kAgent, "default", {}};
const Actor kAlice{"alice", Role::kApprover, "default", {}};

ConversationActor Analyst(std::string principal = "alice") {
  return {"slack:UA1", std::move(principal), true, std::nullopt};
}

NewAlert Alert(std::string subject = "slack:U123") {
  NewAlert a;
  a.subject = std::move(subject);
  a.alert.id = "alert-7";
  a.alert.name = "Impossible travel";
  a.alert.description = "Sign-ins from Lisbon and Oslo.";
  a.alert.properties = {{"ip", "203.0.113.9"}};
  return a;
}

Gateway::ConversationChange StartChat(ConversationActor by = Analyst()) {
  return [by](const Request& r, const Conversation& c, TimePoint now) {
    return PlanStartChat(r, c, by, now);
  };
}

// The worker's greeting, written.
Gateway::ConversationChange Greeted(bool with_judge) {
  return [with_judge](const Request& r, const Conversation& c, TimePoint now) {
    return Result<ConversationPlan>(PlanGreeting(r, c, "hello", ModelCall{}, with_judge, now));
  };
}

class GatewayConversationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(harness_.Open().ok());
    gateway_ = &harness_.gateway();
    store_ = &harness_.store();
  }

  template <typename T, typename Start>
  Result<T> Call(Start start) {
    return testing::GatewayHarness::Call<T>(std::move(start));
  }

  Result<Gateway::Created> CreateAlert(NewAlert a) {
    return Call<Gateway::Created>(
        [&](auto done) { gateway_->CreateAlert(kSiem, std::move(a), std::move(done)); });
  }

  RequestPtr MustCreateAlert(NewAlert a = Alert()) {
    auto created = CreateAlert(std::move(a));
    EXPECT_TRUE(created.ok()) << created.error().message;
    return created.ok() ? created->request : nullptr;
  }

  Result<Changed> Change(const std::string& id, Gateway::ConversationChange change) {
    return Call<Changed>([&](auto done) {
      gateway_->ChangeConversation("default", id, std::move(change), std::move(done));
    });
  }

  Result<Changed> SubjectSaid(std::string text, std::string external_id,
                              std::string subject = "slack:U123", bool with_judge = false) {
    return Call<Changed>([&](auto done) {
      gateway_->SubjectSaid("default", std::move(subject), std::move(text), std::move(external_id),
                            with_judge, std::move(done));
    });
  }

  Conversation MustGetConversation(const std::string& id) {
    auto found = store_->GetConversation("default", id);
    EXPECT_TRUE(found.ok() && found.value()) << id;
    return found.ok() && found.value() ? *found.value() : Conversation{};
  }

  std::vector<Event> Events(const std::string& request_id) {
    EventFilter filter;
    filter.request_id = request_id;
    auto events = store_->ListEvents(filter);
    EXPECT_TRUE(events.ok());
    return events.ok() ? events.value() : std::vector<Event>{};
  }

  std::vector<std::string> EventTypes(const std::string& request_id) {
    std::vector<std::string> types;
    for (const auto& e : Events(request_id)) types.push_back(e.type);
    return types;
  }

  std::vector<ConversationMessage> Messages(const std::string& request_id) {
    auto messages = store_->ListMessages(request_id, 0, 1000);
    EXPECT_TRUE(messages.ok());
    return messages.ok() ? messages.value() : std::vector<ConversationMessage>{};
  }

  // Resolves when the request leaves pending, by whatever path.
  std::future<RequestPtr> WaitFor(const std::string& id) {
    auto promise = std::make_shared<std::promise<RequestPtr>>();
    auto future = promise->get_future();
    gateway_->waiters().Add(id, [promise](RequestPtr r) { promise->set_value(std::move(r)); });
    return future;
  }

  testing::GatewayHarness harness_;
  testing::FakeClock& clock_ = harness_.clock();
  Gateway* gateway_ = nullptr;
  SqliteStore* store_ = nullptr;
};

TEST_F(GatewayConversationsTest, CreateAlertStoresTheRequestItsConversationAndThePostedEvent) {
  RequestPtr r = MustCreateAlert();
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->kind, Kind::kConversation);
  EXPECT_EQ(r->status, RequestStatus::kPending);
  EXPECT_EQ(r->action, "alert.impossible_travel");
  EXPECT_EQ(r->title, "Impossible travel");
  EXPECT_EQ(r->details.at("subject"), "slack:U123");
  EXPECT_TRUE(r->choices.empty());

  auto stored = gateway_->GetInTenant("default", r->id);
  ASSERT_TRUE(stored.ok() && stored.value());
  EXPECT_EQ(stored.value()->kind, Kind::kConversation);

  const Conversation c = MustGetConversation(r->id);
  EXPECT_EQ(c.request_id, r->id);
  EXPECT_EQ(c.subject, "slack:U123");
  EXPECT_EQ(c.phase, ConversationPhase::kPosted);
  EXPECT_EQ(c.alert.name, "Impossible travel");
  EXPECT_EQ(c.question, kDefaultQuestion);
  EXPECT_EQ(c.max_nudges, kDefaultMaxNudges);
  EXPECT_EQ(c.parent_version, 1);
  EXPECT_TRUE(c.has_work());
  EXPECT_EQ(c.step_due, r->created_at);

  // The properties are the thread's first message: a note, not for the judge.
  const auto messages = Messages(r->id);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].seq, 1);
  EXPECT_EQ(messages[0].role, MessageRole::kNote);
  EXPECT_EQ(messages[0].author, "countersign");
  EXPECT_EQ(messages[0].text, "The value of ip for this alert is 203.0.113.9.");
  EXPECT_EQ(messages[0].text, PropertiesText(c.alert));
  EXPECT_EQ(messages[0].at, r->created_at);
  EXPECT_EQ(c.last_seq, 1);
  EXPECT_EQ(c.judged_through, 1);
  EXPECT_EQ(c.delivered_through, 0);
  EXPECT_EQ(c.sent_through, 0);
  EXPECT_FALSE(c.delivered());

  const auto events = Events(r->id);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type, "request.created");
  EXPECT_EQ(events[1].type, "conversation.posted");
  EXPECT_EQ(events[1].actor, "siem");
  EXPECT_EQ(events[1].data, (json::object{{"subject", "slack:U123"},
                                          {"alert", "Impossible travel"},
                                          {"max_nudges", kDefaultMaxNudges}}))
      << json::serialize(events[1].data);
  EXPECT_EQ(events[2].type, "conversation.message");
  EXPECT_EQ(events[2].actor, "countersign");
  EXPECT_EQ(events[2].data, (json::object{{"role", "note"}, {"text", messages[0].text}}));

  auto due = store_->ListDueConversations(clock_.Now(), 10);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].request_id, r->id);
}

TEST_F(GatewayConversationsTest, AnAlertStaysPendingEvenWhenAPolicyWouldApproveItsAction) {
  Policy auto_approve;
  auto_approve.name = "auto-alerts";
  auto_approve.match.action = "alert.*";
  auto_approve.decision = AutoDecision::kApprove;
  auto_approve.source = "test";
  gateway_->SetPolicies(std::make_shared<const PolicySet>(
      std::vector<Policy>{auto_approve}, std::map<std::string, std::vector<std::string>>{},
      std::vector<std::string>{}));

  // The policy does approve a plain request for such an action ...
  NewRequest plain;
  plain.action = "alert.manual";
  plain.title = "Manual";
  auto approved =
      Call<Gateway::Created>([&](auto done) { gateway_->Create(kSiem, plain, std::move(done)); });
  ASSERT_TRUE(approved.ok()) << approved.error().message;
  EXPECT_EQ(approved->request->status, RequestStatus::kApproved);

  // ... but an alert asks its subject.
  RequestPtr r = MustCreateAlert();
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->status, RequestStatus::kPending);
  EXPECT_EQ(gateway_->GetInTenant("default", r->id).value()->status, RequestStatus::kPending);
  EXPECT_EQ(MustGetConversation(r->id).phase, ConversationPhase::kPosted);
}

TEST_F(GatewayConversationsTest, AnAlertWithoutPropertiesSaysSoInItsFirstNote) {
  NewAlert a = Alert();
  a.alert.properties = {};
  RequestPtr r = MustCreateAlert(a);
  ASSERT_NE(r, nullptr);
  const auto messages = Messages(r->id);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].text, "This alert has no properties.");
}

TEST_F(GatewayConversationsTest, AnInvalidAlertIsRefusedAndNothingIsStored) {
  auto created = CreateAlert(Alert("alice"));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, ErrorCode::kInvalid);
  auto due = store_->ListDueConversations(clock_.Now() + 24h, 10);
  ASSERT_TRUE(due.ok());
  EXPECT_TRUE(due->empty());
}

TEST_F(GatewayConversationsTest, ChangeConversationCommitsThePlan) {
  RequestPtr r = MustCreateAlert();
  clock_.Advance(30s);
  auto changed = Change(r->id, StartChat());
  ASSERT_TRUE(changed.ok()) << changed.error().message;
  ASSERT_TRUE(changed->conversation);
  EXPECT_EQ(changed->conversation->phase, ConversationPhase::kChatting);
  EXPECT_EQ(changed->conversation->step, ConversationStep::kGreet);
  EXPECT_EQ(changed->conversation->step_due, clock_.Now());
  ASSERT_TRUE(changed->request);
  EXPECT_TRUE(changed->request->pending());

  const Conversation stored = MustGetConversation(r->id);
  EXPECT_EQ(stored, *changed->conversation);
  EXPECT_EQ(stored.started_by, "alice");
  EXPECT_EQ(EventTypes(r->id),
            (std::vector<std::string>{"request.created", "conversation.posted",
                                      "conversation.message", "conversation.started"}));
}

TEST_F(GatewayConversationsTest, ARefusalIsCommittedThenReturnedAsTheError) {
  RequestPtr r = MustCreateAlert();
  ASSERT_TRUE(Change(r->id, StartChat()).ok());
  auto again = Change(r->id, StartChat(Analyst("carol")));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  EXPECT_EQ(again.error().message, "the chat was already started by alice");
  const auto events = Events(r->id);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().type, "decision.rejected");
  EXPECT_EQ(events.back().actor, "carol");
  EXPECT_EQ(MustGetConversation(r->id).started_by, "alice");
}

TEST_F(GatewayConversationsTest, EndChatBeforeTheChatStartedIsRefusedOnTheRecord) {
  RequestPtr r = MustCreateAlert();
  const Conversation before = MustGetConversation(r->id);
  auto ended = Change(r->id, [](const Request& req, const Conversation& c, TimePoint now) {
    return PlanEndChat(req, c, Analyst(), now);
  });
  ASSERT_FALSE(ended.ok());
  EXPECT_EQ(ended.error().code, ErrorCode::kConflict);
  EXPECT_EQ(ended.error().message, "the chat has not started; dismiss the alert instead");
  const auto events = Events(r->id);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events.back().type, "decision.rejected");
  EXPECT_EQ(events.back().actor, "alice");
  EXPECT_EQ(events.back().data,
            (json::object{{"choice", "end the chat"},
                          {"reason", "the chat has not started; dismiss the alert instead"}}));
  EXPECT_EQ(MustGetConversation(r->id), before);
}

TEST_F(GatewayConversationsTest, APressOnAClosedConversationIsRefusedOnTheRecord) {
  RequestPtr r = MustCreateAlert();
  ASSERT_TRUE(Change(r->id, [](const Request& req, const Conversation& c, TimePoint now) {
                return PlanDismiss(req, c, Analyst(), now);
              }).ok());
  auto started = Change(r->id, StartChat(Analyst("carol")));
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().code, ErrorCode::kConflict);
  EXPECT_EQ(started.error().message, "the conversation is already closed (request dismissed)");
  const auto events = Events(r->id);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().type, "decision.rejected");
  EXPECT_EQ(events.back().actor, "carol");
  EXPECT_EQ(events.back().data.at("choice"), "start a chat");
  EXPECT_EQ(MustGetConversation(r->id).phase, ConversationPhase::kClosed);
  EXPECT_EQ(gateway_->GetInTenant("default", r->id).value()->status, RequestStatus::kDismissed);
}

TEST_F(GatewayConversationsTest, AnErrorFromTheChangeWritesNothing) {
  RequestPtr r = MustCreateAlert();
  const size_t events_before = Events(r->id).size();
  auto failed = Change(r->id, [](const Request&, const Conversation&, TimePoint) {
    return Result<ConversationPlan>(Error::Invalid("no such button"));
  });
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(Events(r->id).size(), events_before);
}

TEST_F(GatewayConversationsTest, ChangingARequestWithoutAConversationIsNotFound) {
  NewRequest plain;
  plain.action = "deploy_production";
  plain.title = "Deploy";
  auto created =
      Call<Gateway::Created>([&](auto done) { gateway_->Create(kSiem, plain, std::move(done)); });
  ASSERT_TRUE(created.ok());
  auto changed = Change(created->request->id, StartChat());
  ASSERT_FALSE(changed.ok());
  EXPECT_EQ(changed.error().code, ErrorCode::kNotFound);
  auto unknown = Change("req_nope", StartChat());
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
}

TEST_F(GatewayConversationsTest, DismissResolvesTheRequestAndClosesTheConversationTogether) {
  RequestPtr r = MustCreateAlert();
  auto woken = WaitFor(r->id);
  auto dismissed = Change(r->id, [](const Request& req, const Conversation& c, TimePoint now) {
    return PlanDismiss(req, c, Analyst(), now);
  });
  ASSERT_TRUE(dismissed.ok()) << dismissed.error().message;
  ASSERT_TRUE(dismissed->request);
  EXPECT_EQ(dismissed->request->status, RequestStatus::kDismissed);
  EXPECT_EQ(dismissed->request->resolved_by, std::vector<std::string>{"alice"});
  EXPECT_EQ(MustGetConversation(r->id).phase, ConversationPhase::kClosed);
  ASSERT_EQ(woken.wait_for(kEventually), std::future_status::ready);
  EXPECT_EQ(woken.get()->status, RequestStatus::kDismissed);
}

TEST_F(GatewayConversationsTest, SubjectSaidGoesToTheNewestChattingConversation) {
  RequestPtr older = MustCreateAlert();
  clock_.Advance(1s);
  RequestPtr newer = MustCreateAlert();
  clock_.Advance(1s);
  RequestPtr posted_only = MustCreateAlert();  // not chatting: never the target
  ASSERT_TRUE(Change(older->id, StartChat()).ok());
  ASSERT_TRUE(Change(newer->id, StartChat()).ok());

  clock_.Advance(5s);
  auto said = SubjectSaid("yes, that was me", "1795255207.000100");
  ASSERT_TRUE(said.ok()) << said.error().message;
  ASSERT_TRUE(said->request);
  EXPECT_EQ(said->request->id, newer->id);
  ASSERT_EQ(said->appended.size(), 1u);
  EXPECT_EQ(said->appended[0].seq, 2);  // after the properties note
  EXPECT_EQ(said->appended[0].role, MessageRole::kSubject);
  EXPECT_EQ(said->appended[0].author, "slack:U123");
  ASSERT_TRUE(said->conversation);
  EXPECT_EQ(said->conversation->last_seq, 2);

  const auto messages = Messages(newer->id);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[1].text, "yes, that was me");
  EXPECT_EQ(messages[1].external_id, "1795255207.000100");
  EXPECT_EQ(messages[1].at, clock_.Now());
  EXPECT_EQ(Messages(older->id).size(), 1u);        // its note only
  EXPECT_EQ(Messages(posted_only->id).size(), 1u);  // likewise
  EXPECT_EQ(MustGetConversation(newer->id).last_seq, 2);
  EXPECT_EQ(EventTypes(newer->id).back(), "conversation.message");
}

TEST_F(GatewayConversationsTest, ARepeatedExternalIdChangesNothing) {
  RequestPtr r = MustCreateAlert();
  ASSERT_TRUE(Change(r->id, StartChat()).ok());
  ASSERT_TRUE(SubjectSaid("yes", "1795255207.000100").ok());
  const Conversation before = MustGetConversation(r->id);
  const size_t events_before = Events(r->id).size();

  clock_.Advance(10s);
  auto again = SubjectSaid("yes", "1795255207.000100");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->appended.empty());
  EXPECT_EQ(Messages(r->id).size(), 2u);
  EXPECT_EQ(Events(r->id).size(), events_before);
  EXPECT_EQ(MustGetConversation(r->id), before);
}

TEST_F(GatewayConversationsTest, WithAJudgeTheSubjectsReplyIsJudgedOnceTheGreetingIsSent) {
  RequestPtr r = MustCreateAlert();
  ASSERT_TRUE(Change(r->id, StartChat()).ok());
  ASSERT_TRUE(Change(r->id, Greeted(/*with_judge=*/true)).ok());
  EXPECT_EQ(MustGetConversation(r->id).step, ConversationStep::kNone);  // nothing to judge
  EXPECT_EQ(MustGetConversation(r->id).last_seq, 2);
  auto said = SubjectSaid("yes", "e1", "slack:U123", /*with_judge=*/true);
  ASSERT_TRUE(said.ok()) << said.error().message;
  EXPECT_EQ(MustGetConversation(r->id).step, ConversationStep::kJudge);
  EXPECT_EQ(MustGetConversation(r->id).last_seq, 3);
}

TEST_F(GatewayConversationsTest, AReplyWhileTheGreetingIsWrittenIsJudgedOnceItIsSent) {
  RequestPtr r = MustCreateAlert();
  ASSERT_TRUE(Change(r->id, StartChat()).ok());
  ASSERT_TRUE(SubjectSaid("what is this?", "e1", "slack:U123", /*with_judge=*/true).ok());
  EXPECT_EQ(MustGetConversation(r->id).step, ConversationStep::kGreet);  // the greeting first

  clock_.Advance(3s);
  auto greeted = Change(r->id, Greeted(/*with_judge=*/true));
  ASSERT_TRUE(greeted.ok()) << greeted.error().message;
  const Conversation c = MustGetConversation(r->id);
  EXPECT_EQ(c.step, ConversationStep::kJudge);
  EXPECT_EQ(c.step_due, clock_.Now());
  EXPECT_EQ(c.last_seq, 3);
  EXPECT_EQ(c.judged_through, 1);
  const auto messages = Messages(r->id);
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[1].role, MessageRole::kSubject);
  EXPECT_EQ(messages[2].role, MessageRole::kBot);
}

TEST_F(GatewayConversationsTest, WithoutAJudgeAReplyDuringTheGreetingWaitsForTheAnalysts) {
  RequestPtr r = MustCreateAlert();
  ASSERT_TRUE(Change(r->id, StartChat()).ok());
  ASSERT_TRUE(SubjectSaid("what is this?", "e1").ok());
  ASSERT_TRUE(Change(r->id, Greeted(/*with_judge=*/false)).ok());
  EXPECT_EQ(MustGetConversation(r->id).step, ConversationStep::kNone);
}

TEST_F(GatewayConversationsTest, ASubjectWithoutAChatChangesNothing) {
  RequestPtr r = MustCreateAlert();  // posted, not chatting
  auto said = SubjectSaid("hello?", "e1");
  ASSERT_TRUE(said.ok()) << said.error().message;
  EXPECT_FALSE(said->request);
  EXPECT_TRUE(said->appended.empty());
  ASSERT_TRUE(Change(r->id, StartChat()).ok());
  auto stranger = SubjectSaid("hello?", "e2", "slack:U999");
  ASSERT_TRUE(stranger.ok());
  EXPECT_FALSE(stranger->request);
  EXPECT_EQ(Messages(r->id).size(), 1u);  // the properties note only
}

TEST_F(GatewayConversationsTest, TheSubjectWritingInTheThreadIsRefusedOnTheRecord) {
  RequestPtr r = MustCreateAlert();
  ASSERT_TRUE(Change(r->id, StartChat()).ok());
  ASSERT_TRUE(Change(r->id, [](const Request&, const Conversation& c, TimePoint) {
                return Result<ConversationPlan>(
                    PlanDelivered(c, 1, 0, c.parent_version, "C0FEED", "1795255200.000100", ""));
              }).ok());
  const size_t messages_before = Messages(r->id).size();

  // The user the alert is about is an approver too; in the thread, they are the subject.
  auto said = Call<Changed>([&](auto done) {
    gateway_->AnalystSaid("default", "1795255200.000100", "slack:U123", kAlice,
                          "it was not me, close it", "1795255300.000100", std::move(done));
  });
  ASSERT_FALSE(said.ok());
  EXPECT_EQ(said.error().code, ErrorCode::kForbidden);
  EXPECT_EQ(said.error().message, "not authorised: alice is not an analyst of this alert");
  EXPECT_EQ(Messages(r->id).size(), messages_before);
  const auto events = Events(r->id);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().type, "decision.rejected");
  EXPECT_EQ(events.back().actor, "alice");
  EXPECT_EQ(events.back().data.at("choice"), "write to the user");

  // The same principal through another chat identity is an analyst, and is relayed.
  auto analyst = Call<Changed>([&](auto done) {
    gateway_->AnalystSaid("default", "1795255200.000100", "slack:UA1", kAlice, "which city?",
                          "1795255300.000200", std::move(done));
  });
  ASSERT_TRUE(analyst.ok()) << analyst.error().message;
  ASSERT_EQ(analyst->appended.size(), 1u);
  EXPECT_EQ(analyst->appended[0].role, MessageRole::kAnalyst);
  EXPECT_EQ(analyst->appended[0].author, "alice");
}

TEST_F(GatewayConversationsTest, ExpiryClosesTheConversationInTheSameTransaction) {
  NewAlert a = Alert();
  a.timeout_seconds = 60;
  RequestPtr r = MustCreateAlert(a);
  ASSERT_TRUE(Change(r->id, StartChat()).ok());
  auto woken = WaitFor(r->id);
  clock_.Advance(61s);
  ASSERT_EQ(woken.wait_for(kEventually), std::future_status::ready);
  RequestPtr expired = woken.get();
  ASSERT_NE(expired, nullptr);
  EXPECT_EQ(expired->status, RequestStatus::kExpired);

  // Waiters hear of a change only after it commits: the conversation is closed by then.
  const Conversation c = MustGetConversation(r->id);
  EXPECT_EQ(c.phase, ConversationPhase::kClosed);
  EXPECT_EQ(c.step, ConversationStep::kNone);
  const auto events = Events(r->id);
  ASSERT_GE(events.size(), 2u);
  const Event& expired_event = events[events.size() - 2];
  const Event& closed_event = events.back();
  EXPECT_EQ(expired_event.type, "request.expired");
  EXPECT_EQ(closed_event.type, "conversation.closed");
  EXPECT_EQ(closed_event.seq, expired_event.seq + 1);
  EXPECT_EQ(closed_event.data, (json::object{{"status", "expired"}}));
}

TEST_F(GatewayConversationsTest, CancelClosesTheConversationInTheSameTransaction) {
  RequestPtr r = MustCreateAlert();
  std::atomic<int> pokes = 0;
  gateway_->SetConversationListener([&pokes] { ++pokes; });
  auto cancelled = Call<RequestPtr>(
      [&](auto done) { gateway_->Cancel(kSiem, r->id, "false positive", std::move(done)); });
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().message;
  EXPECT_EQ(cancelled.value()->status, RequestStatus::kCancelled);
  const Conversation c = MustGetConversation(r->id);
  EXPECT_EQ(c.phase, ConversationPhase::kClosed);
  EXPECT_GT(c.parent_version, 1);
  EXPECT_EQ(EventTypes(r->id).back(), "conversation.closed");
  EXPECT_EQ(Events(r->id).back().data, (json::object{{"status", "cancelled"}}));
  EXPECT_EQ(pokes.load(), 1);  // the worker rewrites the alert message
}

TEST_F(GatewayConversationsTest, TheConversationListenerHearsOfEveryChange) {
  std::atomic<int> pokes = 0;
  gateway_->SetConversationListener([&pokes] { ++pokes; });
  RequestPtr r = MustCreateAlert();
  EXPECT_EQ(pokes.load(), 1);
  ASSERT_TRUE(Change(r->id, StartChat()).ok());
  EXPECT_EQ(pokes.load(), 2);
  ASSERT_TRUE(SubjectSaid("yes", "e1").ok());
  EXPECT_EQ(pokes.load(), 3);
  ASSERT_TRUE(SubjectSaid("yes", "e1").ok());  // nothing new
  EXPECT_EQ(pokes.load(), 3);
  EXPECT_FALSE(Change(r->id, StartChat(Analyst("carol"))).ok());  // a refusal, on the record
  EXPECT_EQ(pokes.load(), 4);
}

}  // namespace
}  // namespace countersign
