// The outbox rows a channel that mails each recipient (email) gets, through the real
// Gateway, store, notifier and EmailChannel: one row per recipient, groups expanded, and
// "email:ADDRESS" notify entries routed to the email channel.
#include <tuple>

#include <gtest/gtest.h>

#include "core/id_generator.hpp"
#include "engine/gateway.hpp"
#include "notify/email_channel.hpp"
#include "notify/outbox_notifier.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "testing/fake_clock.hpp"
#include "testing/gateway_harness.hpp"

namespace countersign {
namespace {

using RequestPtr = Gateway::RequestPtr;

const Actor kAgent{"ci-bot", Role::kAgent, "default", {}};
const Actor kAlice{"alice", Role::kApprover, "default", {}};

ChannelSettings EmailSettings(std::string name, std::string to) {
  return {std::move(name),
          "email",
          {{"smtp_url", "smtp://127.0.0.1:2525"},
           {"starttls", "off"},
           {"from", "approvals@example.com"},
           {"to", std::move(to)},
           {"addresses.alice", "alice@example.com"},
           {"addresses.bob", "bob@example.com"},
           {"addresses.dave", "dave@example.com"}},
          "countersign.toml:1",
          {}};
}

class GatewayEmailOutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto [name, to, tenant] :
         {std::tuple{"email-ops", "ops@example.com", "default"},
          std::tuple{"email-second", "second@example.com", "default"},
          std::tuple{"email-other-tenant", "other@example.com", "tenant-b"}}) {
      auto channel = EmailChannel::Create(EmailSettings(name, to), links_);
      ASSERT_TRUE(channel.ok()) << channel.error().message;
      channels_.AddChannel(std::move(channel).value(), tenant);
    }
    ASSERT_TRUE(harness_.Open().ok());
    store_ = &harness_.store();
    gateway_ = &harness_.gateway();
    gateway_->SetPolicies(std::make_shared<const PolicySet>(
        std::vector<Policy>{},
        std::map<std::string, std::vector<std::string>>{{"sre", {"bob", "carol", "group:leads"}},
                                                        {"leads", {"dave"}}},
        PolicySet::DefaultHighRiskActions()));
    notifier_ = std::make_unique<OutboxNotifier>(channels_, ids_, [this](std::string_view group) {
      return gateway_->Policies()->Members(group);
    });
    gateway_->SetNotifier(notifier_.get());
  }

  // The gateway's writes call the notifier: they end before it goes.
  void TearDown() override { harness_.Close(); }

  template <typename T, typename Start>
  Result<T> Call(Start start) {
    return testing::GatewayHarness::Call<T>(std::move(start));
  }

  RequestPtr Create(std::vector<std::string> notify, std::vector<std::string> approvers) {
    NewRequest input;
    input.action = "deploy_production";
    input.title = "Deploy v2.0";
    input.notify = std::move(notify);
    input.approvers = std::move(approvers);
    auto created = Call<Gateway::Created>(
        [&](auto done) { gateway_->Create(kAgent, std::move(input), std::move(done)); });
    EXPECT_TRUE(created.ok()) << created.error().message;
    return created.ok() ? created->request : nullptr;
  }

  using Row = std::tuple<std::string, std::string, std::string, std::string>;

  // (destination, kind, event, target) of the request's rows, oldest first.
  std::vector<Row> Rows(const std::string& id) {
    auto rows = store_->ListOutbox("", "", id, 100);
    EXPECT_TRUE(rows.ok());
    std::vector<Row> out;
    for (auto it = rows->rbegin(); it != rows->rend(); ++it) {
      out.emplace_back(it->destination, it->kind, it->event, it->target);
    }
    return out;
  }

  testing::GatewayHarness harness_;
  IdGenerator ids_{harness_.clock()};
  LinkSigner signer_{std::string(32, 'k')};
  LinkBuilder links_{"https://cs.example.com", signer_};
  SqliteStore* store_ = nullptr;
  ChannelSet channels_;
  Gateway* gateway_ = nullptr;
  std::unique_ptr<OutboxNotifier> notifier_;
};

TEST_F(GatewayEmailOutboxTest, EachApproverWithAnAddressAndEachToAddressGetsARowOfTheirOwn) {
  // carol has no address; group:sre expands to bob, carol and (through group:leads) dave.
  RequestPtr r = Create({"email-ops"}, {"alice", "group:sre", "carol"});
  ASSERT_TRUE(r);
  const std::string created = "request.created";
  EXPECT_EQ(Rows(r->id), (std::vector<Row>{{"email-ops", "post", created, "alice@example.com"},
                                           {"email-ops", "post", created, "bob@example.com"},
                                           {"email-ops", "post", created, "dave@example.com"},
                                           {"email-ops", "post", created, "ops@example.com"}}));
}

TEST_F(GatewayEmailOutboxTest, AResolutionSendsEveryRecipientOneFollowUp) {
  RequestPtr r = Create({"email-ops"}, {"alice", "bob"});
  ASSERT_TRUE(r);
  NewDecision approve;
  approve.choice = "approve";
  auto decided = Call<RequestPtr>(
      [&](auto done) { gateway_->Decide(kAlice, r->id, std::move(approve), std::move(done)); });
  ASSERT_TRUE(decided.ok()) << decided.error().message;
  auto rows = Rows(r->id);
  ASSERT_EQ(rows.size(), 6u);
  const std::string resolved = "request.resolved";
  EXPECT_EQ(std::vector<Row>(rows.begin() + 3, rows.end()),
            (std::vector<Row>{{"email-ops", "update", resolved, "alice@example.com"},
                              {"email-ops", "update", resolved, "bob@example.com"},
                              {"email-ops", "update", resolved, "ops@example.com"}}));
}

TEST_F(GatewayEmailOutboxTest, AnEmailNotifyEntryGoesToTheFirstEmailChannelOfTheTenant) {
  RequestPtr r = Create({"email:someone@example.org"}, {"alice"});
  ASSERT_TRUE(r);
  EXPECT_EQ(Rows(r->id),
            (std::vector<Row>{{"email-ops", "post", "request.created", "someone@example.org"}}));

  // Named both through the channel and by address: alice gets one message.
  RequestPtr twice = Create({"email-ops", "email:alice@example.com"}, {"alice"});
  ASSERT_TRUE(twice);
  EXPECT_EQ(Rows(twice->id),
            (std::vector<Row>{{"email-ops", "post", "request.created", "alice@example.com"},
                              {"email-ops", "post", "request.created", "ops@example.com"}}));

  // A type no channel has is ignored, like an unknown channel name.
  RequestPtr unknown = Create({"pager:12345"}, {"alice"});
  ASSERT_TRUE(unknown);
  EXPECT_TRUE(Rows(unknown->id).empty());
}

}  // namespace
}  // namespace countersign
