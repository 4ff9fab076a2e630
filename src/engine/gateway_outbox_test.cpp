// The outbox rows each state change writes, through the real Gateway, store and notifier.

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include "core/id_generator.hpp"
#include "engine/gateway.hpp"
#include "notify/outbox_notifier.hpp"
#include "notify/webhook_channel.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "testing/fake_clock.hpp"
#include "testing/gateway_harness.hpp"

namespace countersign {
namespace {

using RequestPtr = Gateway::RequestPtr;
using namespace std::chrono_literals;

const Actor kAgent{"ci-bot", Role::kAgent, "default", {}};
const Actor kAlice{"alice", Role::kApprover, "default", {}};
const Actor kBob{"bob", Role::kApprover, "default", {}};

// A channel that asks for what a chat channel with editable messages asks for.
class ChatLikeChannel final : public Channel {
 public:
  explicit ChatLikeChannel(std::string name) : name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  std::string_view type() const override { return "chat"; }
  std::vector<std::string> KindsFor(std::string_view event) const override {
    if (event == "request.created") return {"post"};
    if (event == "request.reminded") return {"remind"};
    return {"update"};
  }
  Result<OutboundCall> Render(const OutboxRow&, const Request&, std::string_view) const override {
    return Error::Invalid("not rendered in this test");
  }

 private:
  std::string name_;
};

// One whose buttons must be answered even when they decide (as Telegram's must).
class AnsweringChannel final : public Channel {
 public:
  const std::string& name() const override { return name_; }
  std::string_view type() const override { return "answering"; }
  std::vector<std::string> KindsFor(std::string_view event) const override {
    if (event == "request.created") return {"post"};
    if (event == "decision.rejected") return {};
    return {"update"};
  }
  Result<OutboundCall> Render(const OutboxRow&, const Request&, std::string_view) const override {
    return Error::Invalid("not rendered in this test");
  }
  bool AnswersEveryPress() const override { return true; }

 private:
  std::string name_ = "answering";
};

class GatewayOutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    channels_.AddChannel(std::make_unique<ChatLikeChannel>("chat-ops"), "default");
    channels_.AddChannel(std::make_unique<ChatLikeChannel>("chat-other-tenant"), "tenant-b");
    channels_.AddChannel(std::make_unique<AnsweringChannel>(), "default");
    channels_.AddWebhook(
        std::make_unique<WebhookChannel>(
            "audit", "http://127.0.0.1:1/", "0123456789abcdef",
            std::vector<std::string>{"request.created", "request.resolved"}, harness_.clock()),
        "");
    channels_.SetCallbacks(std::make_unique<WebhookChannel>(
        "callback", "", "0123456789abcdef", std::vector<std::string>{}, harness_.clock()));
    ASSERT_TRUE(harness_.Open().ok());
    store_ = &harness_.store();
    gateway_ = &harness_.gateway();
    notifier_ = std::make_unique<OutboxNotifier>(channels_, ids_);
    gateway_->SetNotifier(notifier_.get());
  }

  // The gateway's writes call the notifier: they end before it goes.
  void TearDown() override { harness_.Close(); }

  template <typename T, typename Start>
  Result<T> Call(Start start) {
    return testing::GatewayHarness::Call<T>(std::move(start));
  }

  RequestPtr Create(NewRequest input) {
    input.action = "deploy_production";
    input.title = "Deploy v2.0";
    auto created = Call<Gateway::Created>(
        [&](auto done) { gateway_->Create(kAgent, std::move(input), std::move(done)); });
    EXPECT_TRUE(created.ok()) << created.error().message;
    return created.ok() ? created->request : nullptr;
  }

  Result<RequestPtr> Decide(const Actor& actor, const std::string& id, NewDecision d) {
    return Call<RequestPtr>(
        [&](auto done) { gateway_->Decide(actor, id, std::move(d), std::move(done)); });
  }

  // (destination, kind, event) of the request's rows, oldest first.
  std::vector<std::tuple<std::string, std::string, std::string>> Rows(const std::string& id) {
    auto rows = store_->ListOutbox("", "", id, 100);
    EXPECT_TRUE(rows.ok());
    std::vector<std::tuple<std::string, std::string, std::string>> out;
    for (auto it = rows->rbegin(); it != rows->rend(); ++it) {
      out.emplace_back(it->destination, it->kind, it->event);
    }
    return out;
  }

  using Row = std::tuple<std::string, std::string, std::string>;

  testing::GatewayHarness harness_;
  testing::FakeClock& clock_ = harness_.clock();
  IdGenerator ids_{clock_};
  SqliteStore* store_ = nullptr;
  ChannelSet channels_;
  Gateway* gateway_ = nullptr;
  std::unique_ptr<OutboxNotifier> notifier_;
};

TEST_F(GatewayOutboxTest, CreateWritesAPostForTheNamedChannelAndTheSubscribedWebhook) {
  NewRequest in;
  in.notify = {"chat-ops", "chat-other-tenant", "not-configured"};
  RequestPtr r = Create(in);
  ASSERT_TRUE(r);
  EXPECT_EQ(Rows(r->id), (std::vector<Row>{{"chat-ops", "post", "request.created"},
                                           {"webhook:audit", "event", "request.created"}}));
  EXPECT_TRUE(notifier_->TakeEnqueued());
  EXPECT_FALSE(notifier_->TakeEnqueued());
}

TEST_F(GatewayOutboxTest, ARequestNamingNoChannelWritesOnlyTheSubscriptionRow) {
  RequestPtr r = Create({});
  ASSERT_TRUE(r);
  EXPECT_EQ(Rows(r->id), (std::vector<Row>{{"webhook:audit", "event", "request.created"}}));
}

TEST_F(GatewayOutboxTest, AResolvingDecisionUpdatesTheMessageOnceAndCallsBack) {
  NewRequest in;
  in.notify = {"chat-ops"};
  in.callback_url = "http://127.0.0.1:9/cb";
  RequestPtr r = Create(in);
  ASSERT_TRUE(r);
  NewDecision d;
  d.choice = "approve";
  ASSERT_TRUE(Decide(kAlice, r->id, d).ok());
  EXPECT_EQ(Rows(r->id), (std::vector<Row>{{"chat-ops", "post", "request.created"},
                                           {"webhook:audit", "event", "request.created"},
                                           {"chat-ops", "update", "decision.recorded"},
                                           {"callback", "event", "request.resolved"},
                                           {"webhook:audit", "event", "request.resolved"}}));
  auto rows = store_->ListOutbox("", "", r->id, 100);
  ASSERT_TRUE(rows.ok());
  for (const auto& row : rows.value()) {
    if (row.destination != "callback") continue;
    EXPECT_EQ(row.target, "http://127.0.0.1:9/cb");
    auto body = boost::json::parse(row.payload).as_object();
    EXPECT_EQ(body.at("delivery").as_string(), row.delivery_id);
    EXPECT_EQ(body.at("event").as_string(), "request.resolved");
    EXPECT_EQ(body.at("request").at("status").as_string(), "approved");
  }
}

TEST_F(GatewayOutboxTest, ARefusedChatDecisionIsRecordedAndAnsweredToThePerson) {
  NewRequest in;
  in.notify = {"chat-ops"};
  in.approvers = {"bob"};
  RequestPtr r = Create(in);
  ASSERT_TRUE(r);
  NewDecision d;
  d.choice = "approve";
  d.via = DecisionVia{"chat-ops", "slack:U1", "http://127.0.0.1:9/respond"};
  auto refused = Decide(kAlice, r->id, d);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kForbidden);
  auto rows = store_->ListOutbox("", "", r->id, 100);
  ASSERT_TRUE(rows.ok());
  ASSERT_FALSE(rows->empty());
  const OutboxRow& respond = rows->front();  // newest first
  EXPECT_EQ(respond.kind, "respond");
  EXPECT_EQ(respond.destination, "chat-ops");
  EXPECT_EQ(respond.target, "http://127.0.0.1:9/respond");
  EXPECT_EQ(boost::json::parse(respond.payload).at("text").as_string(),
            "not an approver of this request");
}

TEST_F(GatewayOutboxTest, APressWithoutTheFormIsAnsweredWithWhoseFormToOffer) {
  NewRequest in;
  in.notify = {"chat-ops"};
  in.response_schema =
      boost::json::parse(R"({"type":"object","properties":{"ticket":{"type":"string"}},)"
                         R"("required":["ticket"]})")
          .as_object();
  RequestPtr r = Create(in);
  ASSERT_TRUE(r);
  NewDecision d;
  d.choice = "approve";
  d.via = DecisionVia{"chat-ops", "slack:U1", "http://127.0.0.1:9/respond"};
  auto refused = Decide(kAlice, r->id, d);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().field, "response.ticket");
  auto rows = store_->ListOutbox("", "", r->id, 1);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->front().kind, "respond");
  auto payload = boost::json::parse(rows->front().payload).as_object();
  EXPECT_EQ(payload.at("form"),
            (boost::json::object{
                {"choice", "approve"}, {"principal", "alice"}, {"identity", "slack:U1"}}));
  EXPECT_EQ(rows->front().payload.find("/l/"), std::string::npos) << "no link is stored";
}

TEST_F(GatewayOutboxTest, AConflictFromAChatButtonIsAlsoToldToThePerson) {
  NewRequest in;
  in.notify = {"chat-ops"};
  RequestPtr r = Create(in);
  ASSERT_TRUE(r);
  NewDecision approve;
  approve.choice = "approve";
  ASSERT_TRUE(Decide(kAlice, r->id, approve).ok());
  approve.via = DecisionVia{"chat-ops", "slack:U2", "http://127.0.0.1:9/respond"};
  auto late = Decide(kBob, r->id, approve);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, ErrorCode::kConflict);
  auto rows = store_->ListOutbox("", "", r->id, 1);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->front().kind, "respond");
  EXPECT_EQ(boost::json::parse(rows->front().payload).at("text").as_string(),
            "request is already approved");
}

TEST_F(GatewayOutboxTest, RejectCallbackRecordsAnEventAndRespondsWithoutChangingTheRequest) {
  NewRequest in;
  in.notify = {"chat-ops"};
  RequestPtr r = Create(in);
  ASSERT_TRUE(r);
  auto rejected = Call<RequestPtr>([&](auto done) {
    gateway_->RejectCallback("default", r->id,
                             DecisionVia{"chat-ops", "slack:U9", "http://127.0.0.1:9/respond"},
                             "not authorised", std::move(done));
  });
  ASSERT_TRUE(rejected.ok());
  EXPECT_TRUE(rejected.value()->pending());
  auto events = store_->ListEvents({"default", r->id, 0, 100});
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->back().type, "decision.rejected");
  EXPECT_EQ(events->back().actor, "slack:U9");
  auto rows = store_->ListOutbox("", "", r->id, 1);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->front().kind, "respond");

  auto unknown = Call<RequestPtr>([&](auto done) {
    gateway_->RejectCallback("default", "req_01JD3Z6Q8W9K4M2N7P5R0S1T2V",
                             DecisionVia{"chat-ops", "slack:U9", ""}, "x", std::move(done));
  });
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
}

TEST_F(GatewayOutboxTest, APressThatDecidesIsAnsweredBeforeTheEditWhereEveryPressIsAnswered) {
  NewRequest in;
  in.notify = {"answering", "chat-ops"};
  RequestPtr r = Create(in);
  ASSERT_TRUE(r);
  NewDecision d;
  d.choice = "approve";
  d.via = DecisionVia{"answering", "telegram:1", "telegram:callback_query:77"};
  ASSERT_TRUE(Decide(kAlice, r->id, d).ok());
  auto rows = store_->ListOutbox("", "", r->id, 100);
  ASSERT_TRUE(rows.ok());
  std::vector<OutboxRow> answering;
  for (auto it = rows->rbegin(); it != rows->rend(); ++it) {
    if (it->destination == "answering") answering.push_back(*it);
  }
  ASSERT_EQ(answering.size(), 3u);
  EXPECT_EQ(answering[0].kind, "post");
  EXPECT_EQ(answering[1].kind, "respond");
  EXPECT_EQ(answering[1].event, "decision.recorded");
  EXPECT_EQ(answering[1].target, "telegram:callback_query:77");
  EXPECT_EQ(boost::json::parse(answering[1].payload),
            boost::json::parse(R"({"choice":"approve"})"));
  EXPECT_EQ(answering[2].kind, "update");

  // A channel that answers only refusals (Slack) gets no answer to a press that decided.
  NewRequest other;
  other.notify = {"chat-ops"};
  RequestPtr second = Create(other);
  ASSERT_TRUE(second);
  d.via = DecisionVia{"chat-ops", "slack:U1", "http://127.0.0.1:9/respond"};
  ASSERT_TRUE(Decide(kAlice, second->id, d).ok());
  for (const auto& [destination, kind, event] : Rows(second->id)) EXPECT_NE(kind, "respond");
}

}  // namespace
}  // namespace countersign
