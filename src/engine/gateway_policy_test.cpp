// Gateway behaviour that comes from policies, grants, rate limits and receipts.
#include <algorithm>
#include <future>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/request_json.hpp"
#include "engine/gateway.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "testing/gateway_harness.hpp"

namespace countersign {
namespace {

using RequestPtr = Gateway::RequestPtr;
using namespace std::chrono_literals;

constexpr auto kEventually = 30s;

const Actor kAgent{"ci-bot", Role::kAgent, "default", {}};
const Actor kAlice{"alice", Role::kApprover, "default", {}};
const Actor kBob{"bob", Role::kApprover, "default", {}};
const Actor kCarol{"carol", Role::kApprover, "default", {}};
const Actor kLead{"lena", Role::kApprover, "default", {}};

// Signs nothing; remembers what it was asked to sign.
class RecordingSigner final : public ReceiptSigner {
 public:
  std::string Sign(const ReceiptClaims& claims) const override {
    std::lock_guard lock(mu_);
    signed_.push_back(claims);
    return "receipt-for-" + claims.request_id;
  }
  std::string SignJws(const boost::json::object&) const override { return "signed"; }
  boost::json::object Jwks() const override { return {}; }
  std::vector<ReceiptClaims> Signed() const {
    std::lock_guard lock(mu_);
    return signed_;
  }

 private:
  mutable std::mutex mu_;
  mutable std::vector<ReceiptClaims> signed_;
};

Policy MakePolicy(std::string name, std::string action) {
  Policy p;
  p.name = std::move(name);
  p.match.action = std::move(action);
  p.source = "test";
  return p;
}

// deploy_* needs one of group sre within 60 s, then escalates to group leads for 120 s.
Policy EscalatingProdPolicy() {
  Policy prod = MakePolicy("prod-deploys", "deploy_*");
  prod.approvers = {"group:sre"};
  prod.timeout = 60s;
  prod.on_timeout = OnTimeout::kEscalate;
  prod.escalate_to = {EscalationTier{{"group:leads"}, 120s, {"slack-leads"}}};
  return prod;
}

class GatewayPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override { Open({}); }

  void Open(GatewayOptions options) {
    ASSERT_TRUE(harness_.Open(options, &signer_).ok());
    store_ = &harness_.store();
    gateway_ = &harness_.gateway();
  }

  void UsePolicies(std::vector<Policy> policies) {
    gateway_->SetPolicies(
        std::make_shared<const PolicySet>(std::move(policies),
                                          std::map<std::string, std::vector<std::string>>{
                                              {"sre", {"alice", "carol"}}, {"leads", {"lena"}}},
                                          std::vector<std::string>{"wipe_*"}));
  }

  template <typename T, typename Start>
  Result<T> Call(Start start) {
    return testing::GatewayHarness::Call<T>(std::move(start));
  }

  Result<RequestPtr> Create(NewRequest in, const Actor& actor = kAgent) {
    if (in.action.empty()) in.action = "deploy_production";
    if (in.title.empty()) in.title = "Deploy v2.0";
    auto created = Call<Gateway::Created>(
        [&](auto done) { gateway_->Create(actor, std::move(in), std::move(done)); });
    if (!created.ok()) return std::move(created).error();
    return created->request;
  }

  Result<RequestPtr> Decide(const Actor& actor, const std::string& id, NewDecision d) {
    return Call<RequestPtr>(
        [&](auto done) { gateway_->Decide(actor, id, std::move(d), std::move(done)); });
  }
  Result<RequestPtr> Decide(const Actor& actor, const std::string& id, std::string choice) {
    NewDecision d;
    d.choice = std::move(choice);
    return Decide(actor, id, std::move(d));
  }

  std::future<RequestPtr> WaitFor(const std::string& id) {
    auto promise = std::make_shared<std::promise<RequestPtr>>();
    auto future = promise->get_future();
    gateway_->waiters().Add(id, [promise](RequestPtr r) { promise->set_value(std::move(r)); });
    return future;
  }

  std::vector<std::string> EventTypes(const std::string& request_id) {
    EventFilter filter;
    filter.request_id = request_id;
    auto events = store_->ListEvents(filter);
    EXPECT_TRUE(events.ok());
    std::vector<std::string> types;
    for (const auto& e : events.value()) types.push_back(e.type);
    return types;
  }

  // Advances the fake clock and waits until the scheduler has acted on `id`'s deadline.
  RequestPtr AdvancePastDeadline(const std::string& id, std::chrono::seconds by) {
    const size_t events_before = EventTypes(id).size();
    clock_.Advance(by);
    // The scheduler writes asynchronously; a store write queued after it commits after it.
    for (int i = 0; i < 1000 && EventTypes(id).size() == events_before; ++i) {
      EXPECT_TRUE(harness_.Flush().ok());
    }
    return gateway_->Get(kAlice, id).value();
  }

  RecordingSigner signer_;  // before the harness: the gateway signs with it until closed
  testing::GatewayHarness harness_;
  testing::TempDir& dir_ = harness_.dir();
  testing::FakeClock& clock_ = harness_.clock();
  SqliteStore* store_ = nullptr;
  Gateway* gateway_ = nullptr;
};

TEST_F(GatewayPolicyTest, PolicySetsQuorumAndApproversAndRejectionsAreAudited) {
  Policy prod = MakePolicy("prod-deploys", "deploy_*");
  prod.quorum = 2;
  prod.approvers = {"group:sre"};
  UsePolicies({prod});
  auto r = Create({});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value()->policy, "prod-deploys");
  EXPECT_EQ(r.value()->quorum, 2);
  EXPECT_EQ(r.value()->approvers, std::vector<std::string>{"group:sre"});
  EXPECT_NE(r.value()->policy_reason.find("prod-deploys"), std::string::npos);

  auto outsider = Decide(kBob, r.value()->id, "approve");
  ASSERT_FALSE(outsider.ok());
  EXPECT_EQ(outsider.error().code, ErrorCode::kForbidden);
  EXPECT_EQ(EventTypes(r.value()->id),
            (std::vector<std::string>{"request.created", "decision.rejected"}));

  ASSERT_EQ(Decide(kAlice, r.value()->id, "approve").value()->status, RequestStatus::kPending);
  auto approved = Decide(kCarol, r.value()->id, "approve");
  ASSERT_TRUE(approved.ok());
  EXPECT_EQ(approved.value()->status, RequestStatus::kApproved);
  EXPECT_EQ(approved.value()->receipt, "receipt-for-" + r.value()->id);
  ASSERT_EQ(signer_.Signed().size(), 1u);
  EXPECT_EQ(signer_.Signed()[0].approvers, (std::vector<std::string>{"alice", "carol"}));
  EXPECT_EQ(signer_.Signed()[0].arguments_sha256, r.value()->arguments_sha256);
}

TEST_F(GatewayPolicyTest, ARequestMayNarrowThePolicyButNeverLoosenIt) {
  Policy prod = MakePolicy("prod-deploys", "deploy_*");
  prod.quorum = 2;
  prod.timeout = 900s;
  prod.max_timeout = 3600s;
  prod.approvers = {"group:sre", "lena"};
  UsePolicies({prod});

  // The quorum is held to the policy's; the timeout, a default, only to its max_timeout, and
  // the answer says so.
  NewRequest looser;
  looser.action = "deploy_production";
  looser.title = "Deploy v2.0";
  looser.quorum = 1;
  looser.timeout_seconds = 86400;
  auto created = Call<Gateway::Created>(
      [&](auto done) { gateway_->Create(kAgent, std::move(looser), std::move(done)); });
  ASSERT_TRUE(created.ok()) << created.error().message;
  const RequestPtr& r = created->request;
  EXPECT_EQ(r->quorum, 2);
  EXPECT_EQ(r->deadline_at - r->created_at, 3600s);
  EXPECT_EQ(created->warnings,
            (std::vector<std::string>{"timeout_seconds 86400 was cut to 3600: policy prod-deploys "
                                      "allows at most that (max_timeout)"}));

  NewRequest longer;
  longer.timeout_seconds = 1800;
  auto l = Create(longer);
  ASSERT_TRUE(l.ok()) << l.error().message;
  EXPECT_EQ(l.value()->deadline_at - l.value()->created_at, 1800s);

  NewRequest stricter;
  stricter.quorum = 3;
  stricter.timeout_seconds = 60;
  stricter.approvers = {"alice", "carol", "lena"};
  auto s = Create(stricter);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s.value()->quorum, 3);
  EXPECT_EQ(s.value()->deadline_at - s.value()->created_at, 60s);
  EXPECT_EQ(s.value()->approvers.size(), 3u);

  NewRequest outsider;
  outsider.approvers = {"bob"};
  auto bad = Create(outsider);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalid);
}

TEST_F(GatewayPolicyTest, AutoApprovalIssuesAReceiptButNeverForHighRisk) {
  Policy reads = MakePolicy("reads", "read_*");
  reads.decision = AutoDecision::kApprove;
  UsePolicies({reads});
  NewRequest in;
  in.action = "read_logs";
  auto r = Create(in);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value()->status, RequestStatus::kApproved);
  EXPECT_EQ(r.value()->resolved_by, std::vector<std::string>{"policy:reads"});
  EXPECT_FALSE(r.value()->receipt.empty());

  in.action = "read_secrets";
  in.risk = "high";
  auto high = Create(in);
  ASSERT_TRUE(high.ok());
  EXPECT_EQ(high.value()->status, RequestStatus::kPending);
  EXPECT_EQ(high.value()->risk, "high");
}

// Create answers with the request it built rather than reading the row back, so the two must
// not differ in any field, whatever the request carries.
TEST_F(GatewayPolicyTest, TheCreatedRequestIsExactlyTheStoredOne) {
  Policy prod = EscalatingProdPolicy();
  prod.remind_every = 30s;
  UsePolicies({prod});

  NewRequest rich;
  rich.details =
      boost::json::parse(R"({"why":"hotfix \u00e9\n\"quoted\"","links":[1,2.5,null]})").as_object();
  rich.arguments =
      boost::json::parse(R"({"ref":"v2","replicas":3,"ratio":0.1,"big":18446744073709551615,)"
                         R"("neg":-7,"nested":{"b":[true,false],"a":{}}})")
          .as_object();
  rich.approvers = {"alice", "carol"};
  rich.notify = {"ops-webhook"};
  rich.callback_url = "https://ci.example.com/hooks/countersign";
  rich.session = "sess-42";
  rich.idempotency_key = "deploy-v2-once";
  rich.body_sha256 = std::string(64, 'a');
  NewRequest question;
  question.kind = "question";
  question.action = "deploy_question";
  question.title = "Which region first?";

  for (NewRequest& input : std::vector<NewRequest>{rich, question, NewRequest{}}) {
    auto created = Create(std::move(input));
    ASSERT_TRUE(created.ok()) << created.error().message;
    auto stored = store_->GetRequest("default", created.value()->id);
    ASSERT_TRUE(stored.ok() && stored.value()) << created.value()->id;
    EXPECT_TRUE(*created.value() == *stored.value())
        << "created: " << boost::json::serialize(RequestToJson(*created.value()))
        << "\nstored:  " << boost::json::serialize(RequestToJson(*stored.value()));
  }
}

TEST_F(GatewayPolicyTest, DeadlineEscalatesToTheNextTierThenExpires) {
  Policy prod = EscalatingProdPolicy();
  UsePolicies({prod});
  auto r = Create({});
  ASSERT_TRUE(r.ok());
  const std::string id = r.value()->id;
  ASSERT_FALSE(Decide(kLead, id, "approve").ok()) << "not eligible before escalation";

  RequestPtr escalated = AdvancePastDeadline(id, 61s);
  EXPECT_EQ(escalated->status, RequestStatus::kPending);
  EXPECT_EQ(escalated->escalation_level, 1);
  EXPECT_EQ(escalated->deadline_at, clock_.Now() + 120s);
  EXPECT_EQ(escalated->approvers, (std::vector<std::string>{"group:sre", "group:leads"}));

  RequestPtr expired = AdvancePastDeadline(id, 121s);
  EXPECT_EQ(expired->status, RequestStatus::kExpired);
  EXPECT_EQ(EventTypes(id), (std::vector<std::string>{"request.created", "decision.rejected",
                                                      "request.escalated", "request.expired"}));
}

TEST_F(GatewayPolicyTest, AnEscalateChoiceMakesTheNextTierEligible) {
  Policy verify = MakePolicy("verify", "verify_*");
  verify.approvers = {"alice"};
  verify.escalate_to = {EscalationTier{{"group:leads"}, 0s, {}}};
  UsePolicies({verify});
  NewRequest in;
  in.action = "verify_login";
  in.kind = "verification";
  auto r = Create(in);
  ASSERT_TRUE(r.ok());
  auto escalated = Decide(kAlice, r.value()->id, "escalate");
  ASSERT_TRUE(escalated.ok()) << escalated.error().message;
  EXPECT_EQ(escalated.value()->escalation_level, 1);
  auto acknowledged = Decide(kLead, r.value()->id, "acknowledge");
  ASSERT_TRUE(acknowledged.ok()) << acknowledged.error().message;
  EXPECT_EQ(acknowledged.value()->status, RequestStatus::kApproved);
}

TEST_F(GatewayPolicyTest, PendingRequestsAreRemindedUntilTheyResolve) {
  Policy p = MakePolicy("nudge", "*");
  p.remind_every = 60s;
  p.notify = {"slack-ops"};
  UsePolicies({p});
  NewRequest in;
  in.action = "restart_worker";
  auto resolved = Create(in);
  auto control = Create(in);  // stays pending: proves the scheduler ran
  ASSERT_TRUE(resolved.ok() && control.ok());
  const std::string id = resolved.value()->id;
  AdvancePastDeadline(id, 61s);  // waits for the scheduler's next event: a reminder
  AdvancePastDeadline(id, 60s);
  EXPECT_EQ(EventTypes(id),
            (std::vector<std::string>{"request.created", "request.reminded", "request.reminded"}));
  ASSERT_TRUE(Decide(kAlice, id, "approve").ok());
  // Both were due at the same moment; once the control's third reminder is in, the resolved
  // one's turn has come too, and a write queued now commits after it.
  AdvancePastDeadline(control.value()->id, 60s);
  std::promise<void> flushed;
  store_->Write([](Transaction&) { return Ok(); }, [&](Status) { flushed.set_value(); });
  flushed.get_future().wait();
  const auto types = EventTypes(id);
  EXPECT_EQ(std::count(types.begin(), types.end(), "request.reminded"), 2)
      << "no reminders once resolved";
  const auto control_types = EventTypes(control.value()->id);
  EXPECT_EQ(std::count(control_types.begin(), control_types.end(), "request.reminded"), 3);
}

// Replicas sharing a store each fire every reminder (Gateway::FollowOtherReplicas); the one that
// comes second in the writer's order finds this interval's reminder recorded and adds none.
TEST_F(GatewayPolicyTest, AReminderAnotherReplicaAlreadySentIsNotSentAgain) {
  Policy p = MakePolicy("nudge", "*");
  p.remind_every = 60s;
  p.notify = {"slack-ops"};
  UsePolicies({p});
  NewRequest in;
  in.action = "restart_worker";
  auto created = Create(in);
  ASSERT_TRUE(created.ok()) << created.error().message;
  const std::string id = created.value()->id;
  Gateway other(*store_, harness_.clock(), GatewayOptions{}, &signer_);  // a second replica
  gateway_->Remind("default", id);
  other.Remind("default", id);
  ASSERT_TRUE(harness_.Flush().ok());
  auto types = EventTypes(id);
  EXPECT_EQ(std::count(types.begin(), types.end(), "request.reminded"), 1) << "sent twice";
  // A whole interval later the next one is due again, whichever replica fires.
  harness_.clock().Advance(60s);
  other.Remind("default", id);
  ASSERT_TRUE(harness_.Flush().ok());
  types = EventTypes(id);
  EXPECT_EQ(std::count(types.begin(), types.end(), "request.reminded"), 2);
}

TEST_F(GatewayPolicyTest, DenyThresholdCountsDistinctDenials) {
  Policy p = MakePolicy("two-to-deny", "*");
  p.deny_threshold = 2;
  UsePolicies({p});
  auto r = Create({});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Decide(kAlice, r.value()->id, "deny").value()->status, RequestStatus::kPending);
  auto denied = Decide(kBob, r.value()->id, "deny");
  EXPECT_EQ(denied.value()->status, RequestStatus::kDenied);
  EXPECT_EQ(denied.value()->resolved_by, (std::vector<std::string>{"alice", "bob"}));
}

TEST_F(GatewayPolicyTest, AGrantApprovesMatchingRequestsUntilItExpires) {
  NewGrant g;
  g.action = "deploy_staging";
  g.scope = "tenant";
  g.ttl_seconds = 3600;
  auto grant = Call<Grant>([&](auto done) { gateway_->CreateGrant(kAlice, g, std::move(done)); });
  ASSERT_TRUE(grant.ok()) << grant.error().message;

  NewRequest in;
  in.action = "deploy_staging";
  auto r = Create(in);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value()->status, RequestStatus::kApproved);
  EXPECT_EQ(r.value()->resolved_by, std::vector<std::string>{"grant:" + grant->id});

  clock_.Advance(3601s);
  auto later = Create(in);
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later.value()->status, RequestStatus::kPending);
}

TEST_F(GatewayPolicyTest, ASessionGrantApprovesOnlyThatSession) {
  NewGrant g;
  g.action = "deploy_staging";
  g.scope = "session";
  g.session = "sess-a";
  g.ttl_seconds = 3600;
  auto grant = Call<Grant>([&](auto done) { gateway_->CreateGrant(kAlice, g, std::move(done)); });
  ASSERT_TRUE(grant.ok()) << grant.error().message;
  EXPECT_EQ(grant->session, "sess-a");

  NewRequest in;
  in.action = "deploy_staging";
  in.session = "sess-a";
  auto granted = Create(in);
  ASSERT_TRUE(granted.ok());
  EXPECT_EQ(granted.value()->status, RequestStatus::kApproved);
  in.session = "sess-b";
  auto other = Create(in);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other.value()->status, RequestStatus::kPending);
}

TEST_F(GatewayPolicyTest, AGrantStoredBeforeARestartStillApproves) {
  NewGrant g;
  g.action = "deploy_staging";
  g.scope = "tenant";
  g.ttl_seconds = 3600;
  ASSERT_TRUE(
      Call<Grant>([&](auto done) { gateway_->CreateGrant(kAlice, g, std::move(done)); }).ok());
  Open({});
  NewRequest in;
  in.action = "deploy_staging";
  auto r = Create(in);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value()->status, RequestStatus::kApproved);
}

TEST_F(GatewayPolicyTest, HighRiskActionsCanNeverBeGranted) {
  UsePolicies({});
  NewGrant g;
  g.action = "wipe_users";
  g.scope = "tenant";
  g.ttl_seconds = 60;
  auto grant = Call<Grant>([&](auto done) { gateway_->CreateGrant(kAlice, g, std::move(done)); });
  ASSERT_FALSE(grant.ok());
  EXPECT_EQ(grant.error().code, ErrorCode::kInvalid);
}

// The Hermes adapter rate-limits only what waits for a person, by the same answer Create acts on.
TEST_F(GatewayPolicyTest, WouldAskAPersonAgreesWithWhatCreateDoes) {
  Policy reads = MakePolicy("reads", "read_*");
  reads.decision = AutoDecision::kApprove;
  UsePolicies({reads});
  auto expect_agreement = [&](const NewRequest& in, bool asks) {
    auto answer = gateway_->WouldAskAPerson(kAgent, in);
    ASSERT_TRUE(answer.ok()) << answer.error().message;
    EXPECT_EQ(answer.value(), asks) << in.action;
    auto created = Create(in);
    ASSERT_TRUE(created.ok()) << created.error().message;
    EXPECT_EQ(created.value()->pending(), asks) << in.action;
  };
  NewRequest by_policy;
  by_policy.action = "read_logs";
  expect_agreement(by_policy, false);
  NewRequest high;
  high.action = "read_secrets";
  high.risk = "high";
  expect_agreement(high, true);

  NewRequest staging;
  staging.action = "deploy_staging";
  staging.session = "sess-a";
  expect_agreement(staging, true);
  NewGrant g;
  g.action = "deploy_staging";
  g.scope = "session";
  g.session = "sess-a";
  g.ttl_seconds = 60;
  ASSERT_TRUE(
      Call<Grant>([&](auto done) { gateway_->CreateGrant(kAlice, g, std::move(done)); }).ok());
  expect_agreement(staging, false);
  staging.session = "sess-b";
  expect_agreement(staging, true);
  staging.session = "sess-a";
  clock_.Advance(61s);
  expect_agreement(staging, true);
}

TEST_F(GatewayPolicyTest, AnApprovalMayGrantTheSessionAndBindsEditedArguments) {
  NewRequest in;
  in.action = "deploy_staging";
  in.session = "agent-run-7";
  in.arguments = {{"ref", "v2.0"}};
  auto r = Create(in);
  ASSERT_TRUE(r.ok());
  NewDecision d;
  d.choice = "approve";
  d.arguments = boost::json::object{{"ref", "v2.0.1"}};
  d.grant = NewGrant{"", "session", "", "", 600};
  auto approved = Decide(kAlice, r.value()->id, d);
  ASSERT_TRUE(approved.ok()) << approved.error().message;
  EXPECT_EQ(approved.value()->status, RequestStatus::kApproved);
  ASSERT_EQ(signer_.Signed().size(), 1u);
  EXPECT_NE(signer_.Signed()[0].arguments_sha256, r.value()->arguments_sha256);

  auto same_session = Create(in);
  EXPECT_EQ(same_session.value()->status, RequestStatus::kApproved);
  in.session = "another-run";
  auto other_session = Create(in);
  EXPECT_EQ(other_session.value()->status, RequestStatus::kPending);
}

TEST_F(GatewayPolicyTest, SubmittingTooFastIsRateLimitedWithARetryAfter) {
  GatewayOptions options;
  options.rate_per_principal = 2;
  options.principal_window = 60s;
  Open(options);
  ASSERT_TRUE(Create({}).ok());
  ASSERT_TRUE(Create({}).ok());
  auto third = Create({});
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().code, ErrorCode::kRateLimited);
  EXPECT_GE(third.error().retry_after_seconds, 1);
  const Actor other{"other-bot", Role::kAgent, "default", {}};
  EXPECT_TRUE(Create({}, other).ok()) << "other principals are counted apart";
}

}  // namespace
}  // namespace countersign
