// Receipts an executor consumes: the claims the gateway signs (jti, receipt_use, the
// approver's constraints) and Gateway::ConsumeReceipt.
#include <set>

#include <gtest/gtest.h>

#include "auth/base64url.hpp"
#include "auth/ed25519_receipt_signer.hpp"
#include "core/time_format.hpp"
#include "engine/gateway.hpp"
#include "testing/gateway_harness.hpp"

#include <boost/json/parse.hpp>

namespace countersign {
namespace {

using RequestPtr = Gateway::RequestPtr;
using namespace std::chrono_literals;

const Actor kAgent{"ci-bot", Role::kAgent, "default", {}};
const Actor kRunner{"runner", Role::kAgent, "default", {}};
const Actor kAlice{"alice", Role::kApprover, "default", {}};
const Actor kForeignAgent{"other-bot", Role::kAgent, "tenant-b", {}};

Policy SingleUse(std::string action) {
  Policy p;
  p.name = "single-use";
  p.match.action = std::move(action);
  p.source = "test";
  p.receipt_use = "single_use";
  return p;
}

boost::json::object Claims(const std::string& receipt) {
  const size_t a = receipt.find('.');
  const size_t b = receipt.find('.', a + 1);
  const auto payload = Base64UrlDecode(receipt.substr(a + 1, b - a - 1));
  if (!payload) return {};
  boost::system::error_code ec;
  auto value = boost::json::parse(*payload, ec);
  return ec || !value.is_object() ? boost::json::object() : value.get_object();
}

class GatewayReceiptsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto signer = Ed25519ReceiptSigner::LoadOrCreate(harness_.dir().path());
    ASSERT_TRUE(signer.ok()) << signer.error().message;
    signer_ = std::move(signer).value();
    ASSERT_TRUE(harness_.Open({}, signer_.get()).ok());
    gateway_ = &harness_.gateway();
    gateway_->SetPolicies(std::make_shared<const PolicySet>(
        std::vector<Policy>{SingleUse("wipe_cache")},
        std::map<std::string, std::vector<std::string>>{}, std::vector<std::string>{}));
  }

  template <typename T, typename Start>
  Result<T> Call(Start start) {
    return testing::GatewayHarness::Call<T>(std::move(start));
  }

  // An approved request for `action` by alice, with `receipt` constraints when given.
  Result<RequestPtr> Approved(std::string action = "deploy",
                              std::optional<ReceiptConstraints> receipt = std::nullopt,
                              const Actor& requester = kAgent) {
    NewRequest in;
    in.action = std::move(action);
    in.title = "Do it";
    auto created = Call<Gateway::Created>(
        [&](auto done) { gateway_->Create(requester, std::move(in), std::move(done)); });
    if (!created.ok()) return std::move(created).error();
    NewDecision d;
    d.choice = "approve";
    d.receipt = receipt;
    const Actor approver{"alice", Role::kApprover, requester.tenant, {}};
    const std::string id = created->request->id;
    return Call<RequestPtr>(
        [&](auto done) { gateway_->Decide(approver, id, std::move(d), std::move(done)); });
  }

  Result<ReceiptConsumption> Consume(const Actor& actor, const std::string& receipt) {
    return Call<ReceiptConsumption>(
        [&](auto done) { gateway_->ConsumeReceipt(actor, receipt, std::move(done)); });
  }

  std::vector<Event> Events(const std::string& request_id) {
    EventFilter filter;
    filter.request_id = request_id;
    auto events = harness_.store().ListEvents(filter);
    EXPECT_TRUE(events.ok());
    return events.ok() ? events.value() : std::vector<Event>{};
  }

  std::unique_ptr<Ed25519ReceiptSigner> signer_;  // outlives the harness's gateway
  testing::GatewayHarness harness_;
  testing::FakeClock& clock_ = harness_.clock();
  Gateway* gateway_ = nullptr;
};

TEST_F(GatewayReceiptsTest, AnApprovalAnswersWithTheReceiptAsStored) {
  ReceiptConstraints constraints;
  constraints.max_uses = 3;
  auto approved = Approved("deploy", constraints);
  ASSERT_TRUE(approved.ok()) << approved.error().message;
  ASSERT_FALSE(approved.value()->receipt.empty());
  auto stored = harness_.store().GetRequest(approved.value()->tenant, approved.value()->id);
  ASSERT_TRUE(stored.ok() && stored.value().has_value());
  EXPECT_EQ(stored.value()->receipt, approved.value()->receipt);
  EXPECT_TRUE(*stored.value() == *approved.value());
}

TEST_F(GatewayReceiptsTest, EveryReceiptHasAUniqueJtiAndTheRequestsReceiptUse) {
  std::set<std::string> jtis;
  for (int i = 0; i < 3; ++i) {
    auto r = Approved();
    ASSERT_TRUE(r.ok()) << r.error().message;
    const auto claims = Claims(r.value()->receipt);
    ASSERT_TRUE(claims.contains("jti"));
    const std::string jti(claims.at("jti").get_string());
    EXPECT_TRUE(jti.starts_with("rct_")) << jti;
    EXPECT_EQ(jti.size(), 4u + 32u);
    jtis.insert(jti);
    EXPECT_EQ(claims.at("receipt_use").get_string(), "reusable");
    EXPECT_FALSE(claims.contains("max_uses"));
    EXPECT_FALSE(claims.contains("not_after"));
  }
  EXPECT_EQ(jtis.size(), 3u);

  auto single = Approved("wipe_cache");
  ASSERT_TRUE(single.ok()) << single.error().message;
  const auto claims = Claims(single.value()->receipt);
  EXPECT_EQ(claims.at("receipt_use").get_string(), "single_use");
  EXPECT_EQ(claims.at("max_uses").as_int64(), 1);  // single use without max_uses: one
}

TEST_F(GatewayReceiptsTest, TheApproversConstraintsAreSignedIntoTheReceipt) {
  const TimePoint not_after = std::chrono::floor<std::chrono::seconds>(clock_.Now()) + 600s;
  auto r = Approved("wipe_cache", ReceiptConstraints{not_after, 3});
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto claims = Claims(r.value()->receipt);
  EXPECT_EQ(claims.at("max_uses").as_int64(), 3);
  EXPECT_EQ(claims.at("not_after").as_int64(),
            std::chrono::duration_cast<std::chrono::seconds>(not_after.time_since_epoch()).count());
  EXPECT_LE(claims.at("not_after").as_int64(), claims.at("exp").as_int64());
}

TEST_F(GatewayReceiptsTest, ConstraintsOutOfRangeOrOnADenialAreRefused) {
  NewRequest in;
  in.action = "deploy";
  in.title = "Do it";
  auto created = Call<Gateway::Created>(
      [&](auto done) { gateway_->Create(kAgent, std::move(in), std::move(done)); });
  ASSERT_TRUE(created.ok());
  const std::string id = created->request->id;
  auto decide = [&](std::string choice, ReceiptConstraints c) {
    NewDecision d;
    d.choice = std::move(choice);
    d.receipt = c;
    return Call<RequestPtr>(
        [&](auto done) { gateway_->Decide(kAlice, id, std::move(d), std::move(done)); });
  };
  auto past = decide("approve", {clock_.Now() - 1s, 0});
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(past.error().field, "receipt.not_after");
  auto beyond_exp = decide("approve", {clock_.Now() + 2h, 0});
  ASSERT_FALSE(beyond_exp.ok());
  EXPECT_EQ(beyond_exp.error().field, "receipt.not_after");
  auto denial = decide("deny", {std::nullopt, 2});
  ASSERT_FALSE(denial.ok());
  EXPECT_EQ(denial.error().code, ErrorCode::kInvalid);
  EXPECT_NE(denial.error().message.find("only come with an approval"), std::string::npos);
}

TEST_F(GatewayReceiptsTest, ASingleUseReceiptCountsOnceThenNamesTheFirstConsumer) {
  auto r = Approved("wipe_cache");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const std::string receipt = r.value()->receipt;

  auto first = Consume(kRunner, receipt);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE(first->counted);
  EXPECT_EQ(first->use.uses, 1);
  EXPECT_EQ(first->use.max_uses, 1);
  EXPECT_EQ(first->use.first_by, "runner");
  EXPECT_EQ(first->use.request_id, r.value()->id);
  const TimePoint first_at = clock_.Now();

  clock_.Advance(5s);
  auto second = Consume(kAgent, receipt);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_FALSE(second->counted);
  EXPECT_EQ(second->use.first_by, "runner");
  EXPECT_EQ(second->use.first_at, first_at);
  EXPECT_EQ(second->use.uses, 1);

  // One audit event, for the use that counted.
  int consumed = 0;
  for (const Event& e : Events(r.value()->id)) {
    if (e.type != "receipt.consumed") continue;
    ++consumed;
    EXPECT_EQ(e.actor, "runner");
    EXPECT_EQ(e.data.at("jti"), Claims(receipt).at("jti"));
    EXPECT_EQ(e.data.at("uses").as_int64(), 1);
    EXPECT_EQ(e.data.at("max_uses").as_int64(), 1);
    EXPECT_EQ(e.data.at("by").as_string(), "runner");
  }
  EXPECT_EQ(consumed, 1);
}

TEST_F(GatewayReceiptsTest, MaxUsesThreeCountsThreeUses) {
  auto r = Approved("deploy", ReceiptConstraints{std::nullopt, 3});
  ASSERT_TRUE(r.ok()) << r.error().message;
  for (int i = 1; i <= 3; ++i) {
    auto use = Consume(kRunner, r.value()->receipt);
    ASSERT_TRUE(use.ok()) << use.error().message;
    EXPECT_TRUE(use->counted) << "use " << i;
    EXPECT_EQ(use->use.uses, i);
  }
  auto fourth = Consume(kRunner, r.value()->receipt);
  ASSERT_TRUE(fourth.ok());
  EXPECT_FALSE(fourth->counted);
  EXPECT_EQ(fourth->use.uses, 3);
}

TEST_F(GatewayReceiptsTest, AReusableReceiptWithoutMaxUsesCountsEveryUse) {
  auto r = Approved();
  ASSERT_TRUE(r.ok()) << r.error().message;
  for (int i = 1; i <= 3; ++i) {
    auto use = Consume(kRunner, r.value()->receipt);
    ASSERT_TRUE(use.ok()) << use.error().message;
    EXPECT_TRUE(use->counted);
    EXPECT_EQ(use->use.uses, i);
  }
}

TEST_F(GatewayReceiptsTest, ExpiredAndPastNotAfterReceiptsAreRefused) {
  auto plain = Approved("wipe_cache");
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  const TimePoint not_after = std::chrono::floor<std::chrono::seconds>(clock_.Now()) + 60s;
  auto limited = Approved("wipe_cache", ReceiptConstraints{not_after, 0});
  ASSERT_TRUE(limited.ok()) << limited.error().message;

  clock_.Advance(61s);  // past not_after, well before exp (one hour)
  auto late = Consume(kRunner, limited.value()->receipt);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, ErrorCode::kInvalid);
  EXPECT_NE(late.error().message.find("expired"), std::string::npos) << late.error().message;
  EXPECT_NE(late.error().message.find("not_after"), std::string::npos) << late.error().message;

  clock_.Advance(1h);  // past exp
  auto expired = Consume(kRunner, plain.value()->receipt);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().code, ErrorCode::kInvalid);
  EXPECT_NE(expired.error().message.find("expired"), std::string::npos);
}

TEST_F(GatewayReceiptsTest, ForgedForeignAndJtiLessReceiptsAreRefusedAndApproversMayNotConsume) {
  auto r = Approved("wipe_cache");
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::string forged = r.value()->receipt;
  forged[forged.size() - 5] = forged[forged.size() - 5] == 'A' ? 'B' : 'A';
  auto bad = Consume(kRunner, forged);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalid);
  EXPECT_NE(bad.error().message.find("bad_signature"), std::string::npos);

  auto foreign = Consume(kForeignAgent, r.value()->receipt);
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.error().code, ErrorCode::kInvalid);
  EXPECT_NE(foreign.error().message.find("not of your tenant"), std::string::npos);

  auto approver = Consume(kAlice, r.value()->receipt);
  ASSERT_FALSE(approver.ok());
  EXPECT_EQ(approver.error().code, ErrorCode::kForbidden);

  // A receipt signed before receipts had a jti: valid, but nothing to count it by.
  ReceiptClaims old{r.value()->id,
                    "default",
                    "wipe_cache",
                    r.value()->arguments_sha256,
                    "approved",
                    {"alice"},
                    clock_.Now(),
                    clock_.Now() + 1h,
                    ""};
  auto legacy = Consume(kRunner, signer_->Sign(old));
  ASSERT_FALSE(legacy.ok());
  EXPECT_EQ(legacy.error().code, ErrorCode::kInvalid);
  EXPECT_NE(legacy.error().message.find("receipt has no jti"), std::string::npos);

  // None of them was counted: the genuine receipt's one use is still there.
  auto use = Consume(kRunner, r.value()->receipt);
  ASSERT_TRUE(use.ok()) << use.error().message;
  EXPECT_TRUE(use->counted);
}

}  // namespace
}  // namespace countersign
