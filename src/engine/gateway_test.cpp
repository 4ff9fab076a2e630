#include "engine/gateway.hpp"

#include <future>
#include <mutex>
#include <vector>

#include <gtest/gtest.h>

#include "store/sqlite/sqlite_store.hpp"
#include "testing/gateway_harness.hpp"
#include "testing/raw_database.hpp"

namespace countersign {
namespace {

using RequestPtr = Gateway::RequestPtr;
using namespace std::chrono_literals;

// Bounds how long a test waits for another thread to report; never a timing assertion.
constexpr auto kEventually = 30s;

const Actor kAgent{"ci-bot", Role::kAgent, "default", {}};
const Actor kOtherAgent{"other-bot", Role::kAgent, "default", {}};
const Actor kAlice{"alice", Role::kApprover, "default", {"sre"}};
const Actor kBob{"bob", Role::kApprover, "default", {}};
const Actor kCarol{"carol", Role::kApprover, "default", {"sre"}};
const Actor kForeignAdmin{"mallory", Role::kAdmin, "tenant-b", {}};

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open(GatewayOptions options = {}) {
    ASSERT_TRUE(harness_.Open(options).ok());
    store_ = &harness_.store();
    gateway_ = &harness_.gateway();
  }

  void Close() {
    harness_.Close();
    store_ = nullptr;
    gateway_ = nullptr;
  }

  template <typename T, typename Start>
  Result<T> Call(Start start) {
    return testing::GatewayHarness::Call<T>(std::move(start));
  }

  Result<Gateway::Created> Create(const Actor& actor, NewRequest input) {
    if (input.action.empty()) input.action = "deploy_production";
    if (input.title.empty()) input.title = "Deploy v2.0";
    return Call<Gateway::Created>(
        [&](auto done) { gateway_->Create(actor, std::move(input), std::move(done)); });
  }

  RequestPtr MustCreate(const Actor& actor, NewRequest input = {}) {
    auto created = Create(actor, std::move(input));
    EXPECT_TRUE(created.ok()) << created.error().message;
    return created.ok() ? created->request : nullptr;
  }

  Result<RequestPtr> Decide(const Actor& actor, const std::string& id, std::string choice,
                            std::string answer = "") {
    NewDecision d;
    d.choice = std::move(choice);
    d.answer = std::move(answer);
    return Call<RequestPtr>([&](auto done) { gateway_->Decide(actor, id, d, std::move(done)); });
  }

  // Resolves when the request leaves pending, by whatever path.
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

  testing::GatewayHarness harness_;
  testing::TempDir& dir_ = harness_.dir();
  testing::FakeClock& clock_ = harness_.clock();
  SqliteStore* store_ = nullptr;
  Gateway* gateway_ = nullptr;
};

TEST_F(GatewayTest, QuorumOfTwoNeedsTwoDistinctPrincipals) {
  NewRequest in;
  in.quorum = 2;
  auto request = MustCreate(kAgent, in);

  auto first = Decide(kAlice, request->id, "approve");
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first.value()->status, RequestStatus::kPending);

  auto again = Decide(kAlice, request->id, "approve");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);

  auto second = Decide(kBob, request->id, "approve");
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second.value()->status, RequestStatus::kApproved);
  EXPECT_EQ(second.value()->resolved_by, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(second.value()->decisions.size(), 2u);
}

TEST_F(GatewayTest, RequesterMayNotDecideItsOwnRequest) {
  const Actor admin{"root", Role::kAdmin, "default", {}};
  auto request = MustCreate(admin);
  auto self = Decide(admin, request->id, "approve");
  ASSERT_FALSE(self.ok());
  EXPECT_EQ(self.error().code, ErrorCode::kForbidden);
  auto stored = gateway_->Get(admin, request->id);
  ASSERT_TRUE(stored.ok());
  EXPECT_TRUE(stored.value()->decisions.empty());
}

TEST_F(GatewayTest, AgentMayNotDecide) {
  auto request = MustCreate(kAgent);
  const Actor other_agent_who_can_see{"ci-bot-2", Role::kAgent, "default", {}};
  auto r = Decide(kAgent, request->id, "approve");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kForbidden);
  // Another agent cannot even see it.
  auto hidden = Decide(other_agent_who_can_see, request->id, "approve");
  ASSERT_FALSE(hidden.ok());
  EXPECT_EQ(hidden.error().code, ErrorCode::kNotFound);
}

TEST_F(GatewayTest, DecisionAfterResolutionGets409WithTheCurrentState) {
  auto request = MustCreate(kAgent);
  ASSERT_TRUE(Decide(kAlice, request->id, "deny").ok());
  auto late = Decide(kBob, request->id, "approve");
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, ErrorCode::kConflict);
  ASSERT_NE(late.error().current, nullptr);
  EXPECT_EQ(late.error().current->status, RequestStatus::kDenied);
  EXPECT_EQ(late.error().current->resolved_by, std::vector<std::string>{"alice"});
}

TEST_F(GatewayTest, AnyDenyResolvesDeniedEvenWithQuorumPending) {
  NewRequest in;
  in.quorum = 2;
  auto request = MustCreate(kAgent, in);
  ASSERT_TRUE(Decide(kAlice, request->id, "approve").ok());
  auto denied = Decide(kBob, request->id, "deny");
  ASSERT_TRUE(denied.ok());
  EXPECT_EQ(denied.value()->status, RequestStatus::kDenied);
}

TEST_F(GatewayTest, UnknownChoiceIsInvalidAndRecordsNothing) {
  auto request = MustCreate(kAgent);
  auto r = Decide(kAlice, request->id, "maybe");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalid);
  EXPECT_NE(r.error().message.find("approve, deny"), std::string::npos);
  EXPECT_EQ(EventTypes(request->id), std::vector<std::string>{"request.created"});
}

TEST_F(GatewayTest, OnlyListedApproversOrGroupMembersMayDecide) {
  NewRequest in;
  in.approvers = {"group:sre"};
  auto request = MustCreate(kAgent, in);
  auto outsider = Decide(kBob, request->id, "approve");
  ASSERT_FALSE(outsider.ok());
  EXPECT_EQ(outsider.error().code, ErrorCode::kForbidden);
  auto member = Decide(kCarol, request->id, "approve");
  ASSERT_TRUE(member.ok()) << member.error().message;
  EXPECT_EQ(member.value()->status, RequestStatus::kApproved);
}

TEST_F(GatewayTest, LinksAreHandedOutToAdminsNamedApproversAndTheRequesterOnly) {
  const Actor admin{"root", Role::kAdmin, "default", {}};
  NewRequest in;
  in.approvers = {"group:sre"};
  auto request = MustCreate(kAgent, in);
  for (const Actor& allowed : {admin, kCarol, kAgent}) {
    auto got = gateway_->GetForLinks(allowed, request->id);
    ASSERT_TRUE(got.ok()) << allowed.name << ": " << got.error().message;
    EXPECT_EQ(got.value()->id, request->id);
  }
  // An approver the request does not name would be handing out someone else's vote.
  auto outsider = gateway_->GetForLinks(kBob, request->id);
  ASSERT_FALSE(outsider.ok());
  EXPECT_EQ(outsider.error().code, ErrorCode::kForbidden);
  // Another agent does not see the request at all, as for a read.
  EXPECT_EQ(gateway_->GetForLinks(kOtherAgent, request->id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(gateway_->GetForLinks(kForeignAdmin, request->id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(gateway_->GetForLinks(admin, "req_01JD3Z6Q8W9K4M2N7P5R0S1T2V").error().code,
            ErrorCode::kNotFound);

  ASSERT_TRUE(Decide(kCarol, request->id, "deny").ok());
  auto resolved = gateway_->GetForLinks(admin, request->id);
  ASSERT_FALSE(resolved.ok());
  EXPECT_EQ(resolved.error().code, ErrorCode::kConflict);
  ASSERT_NE(resolved.error().current, nullptr);
  EXPECT_EQ(resolved.error().current->status, RequestStatus::kDenied);
}

TEST_F(GatewayTest, DeadlineExpiryFiresWithoutAnyRead) {
  NewRequest in;
  in.timeout_seconds = 10;
  auto request = MustCreate(kAgent, in);
  auto woken = WaitFor(request->id);

  clock_.Advance(9s);
  EXPECT_EQ(gateway_->Get(kAlice, request->id).value()->status, RequestStatus::kPending);
  clock_.Advance(2s);

  ASSERT_EQ(woken.wait_for(kEventually), std::future_status::ready);
  RequestPtr expired = woken.get();
  ASSERT_NE(expired, nullptr);
  EXPECT_EQ(expired->status, RequestStatus::kExpired);
  EXPECT_EQ(EventTypes(request->id),
            (std::vector<std::string>{"request.created", "request.expired"}));
}

TEST_F(GatewayTest, OnTimeoutDenyResolvesDeniedAtTheDeadline) {
  NewRequest in;
  in.timeout_seconds = 5;
  in.on_timeout = "deny";
  auto request = MustCreate(kAgent, in);
  auto woken = WaitFor(request->id);
  clock_.Advance(6s);
  ASSERT_EQ(woken.wait_for(kEventually), std::future_status::ready);
  EXPECT_EQ(woken.get()->status, RequestStatus::kDenied);
}

TEST_F(GatewayTest, PendingDeadlinesSurviveARestart) {
  NewRequest in;
  in.timeout_seconds = 60;
  auto request = MustCreate(kAgent, in);
  Close();
  Open();
  auto woken = WaitFor(request->id);
  clock_.Advance(61s);
  ASSERT_EQ(woken.wait_for(kEventually), std::future_status::ready);
  EXPECT_EQ(woken.get()->status, RequestStatus::kExpired);
}

TEST_F(GatewayTest, IdempotentReplayReturnsTheFirstRequest) {
  NewRequest in;
  in.idempotency_key = "deploy-42";
  in.body_sha256 = "body-a";
  auto first = Create(kAgent, in);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->replayed);
  auto replay = Create(kAgent, in);
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->replayed);
  EXPECT_EQ(replay->request->id, first->request->id);

  in.body_sha256 = "body-b";
  auto conflict = Create(kAgent, in);
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().code, ErrorCode::kConflict);
  ASSERT_NE(conflict.error().current, nullptr);
  EXPECT_EQ(conflict.error().current->id, first->request->id);

  RequestFilter all;
  all.tenant = "default";
  EXPECT_EQ(store_->ListRequests(all).value().requests.size(), 1u);
}

TEST_F(GatewayTest, IdempotencyKeysBelongToTheirRequester) {
  NewRequest in;
  in.idempotency_key = "shared-key";
  in.body_sha256 = "body-a";
  auto mine = Create(kAgent, in);
  ASSERT_TRUE(mine.ok());
  in.body_sha256 = "body-b";
  auto theirs = Create(kOtherAgent, in);
  ASSERT_TRUE(theirs.ok()) << theirs.error().message;
  EXPECT_FALSE(theirs->replayed);
  EXPECT_NE(theirs->request->id, mine->request->id);
  EXPECT_EQ(theirs->request->requester, "other-bot");
}

TEST_F(GatewayTest, WaiterIsWokenBeforeTheDecidersAnswer) {
  auto request = MustCreate(kAgent);
  std::mutex mu;
  std::vector<std::string> order;
  std::promise<void> both;
  gateway_->waiters().Add(request->id, [&](RequestPtr r) {
    std::lock_guard lock(mu);
    order.push_back(std::string("waiter:") + StatusName(r->status));
  });
  NewDecision d;
  d.choice = "approve";
  gateway_->Decide(kAlice, request->id, d, [&](Result<RequestPtr> r) {
    {
      std::lock_guard lock(mu);
      order.push_back(r.ok() ? "decider:ok" : "decider:error");
    }
    both.set_value();
  });
  ASSERT_EQ(both.get_future().wait_for(kEventually), std::future_status::ready);
  std::lock_guard lock(mu);
  EXPECT_EQ(order, (std::vector<std::string>{"waiter:approved", "decider:ok"}));
}

TEST_F(GatewayTest, QuestionIsAnsweredWithFreeText) {
  NewRequest in;
  in.kind = "question";
  auto request = MustCreate(kAgent, in);
  auto empty = Decide(kAlice, request->id, "", "");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ErrorCode::kInvalid);
  auto answered = Decide(kAlice, request->id, "", "use the blue-green slot");
  ASSERT_TRUE(answered.ok()) << answered.error().message;
  EXPECT_EQ(answered.value()->status, RequestStatus::kAnswered);
  EXPECT_EQ(answered.value()->answer, "use the blue-green slot");
}

TEST_F(GatewayTest, VerificationEscalateKeepsItPendingAtTheNextLevel) {
  NewRequest in;
  in.kind = "verification";
  auto request = MustCreate(kAgent, in);
  ASSERT_EQ(request->choices.size(), 3u);
  EXPECT_EQ(request->choices[0].id, "acknowledge");
  auto escalated = Decide(kAlice, request->id, "escalate");
  ASSERT_TRUE(escalated.ok()) << escalated.error().message;
  EXPECT_EQ(escalated.value()->status, RequestStatus::kPending);
  EXPECT_EQ(escalated.value()->escalation_level, 1);
  auto acknowledged = Decide(kBob, request->id, "acknowledge");
  ASSERT_TRUE(acknowledged.ok());
  EXPECT_EQ(acknowledged.value()->status, RequestStatus::kApproved);
}

// A transition answers with the request it built from the one it read, without reading it back
// (Gateway::ApplyPlan): each must be exactly what a read from the store then gives.
TEST_F(GatewayTest, EveryTransitionAnswersWithTheRequestAsStored) {
  const auto expect_stored = [&](const RequestPtr& answered) {
    ASSERT_NE(answered, nullptr);
    auto stored = store_->GetRequest(answered->tenant, answered->id);
    ASSERT_TRUE(stored.ok() && stored.value().has_value());
    EXPECT_TRUE(*stored.value() == *answered)
        << "request " << answered->id << ", status " << StatusName(answered->status);
  };
  NewRequest quorum;
  quorum.quorum = 2;
  auto twice = MustCreate(kAgent, quorum);
  auto first = Decide(kAlice, twice->id, "approve", "");
  ASSERT_TRUE(first.ok());
  expect_stored(first.value());  // a decision recorded, still pending
  clock_.Advance(1ms);
  auto second = Decide(kBob, twice->id, "approve");
  ASSERT_TRUE(second.ok());
  expect_stored(second.value());  // approved by two

  auto denied = Decide(kAlice, MustCreate(kAgent)->id, "deny");
  ASSERT_TRUE(denied.ok());
  expect_stored(denied.value());

  NewRequest question;
  question.kind = "question";
  auto answered = Decide(kAlice, MustCreate(kAgent, question)->id, "", "the blue-green slot");
  ASSERT_TRUE(answered.ok());
  expect_stored(answered.value());

  NewRequest verification;
  verification.kind = "verification";
  auto escalated = Decide(kAlice, MustCreate(kAgent, verification)->id, "escalate");
  ASSERT_TRUE(escalated.ok());
  expect_stored(escalated.value());  // the next level, a new deadline and approvers

  auto cancelled = Call<RequestPtr>([&](auto done) {
    gateway_->Cancel(kAgent, MustCreate(kAgent)->id, "not needed", std::move(done));
  });
  ASSERT_TRUE(cancelled.ok());
  expect_stored(cancelled.value());

  NewRequest soon;
  soon.timeout_seconds = 5;
  auto expiring = MustCreate(kAgent, soon);
  auto woken = WaitFor(expiring->id);
  clock_.Advance(6s);
  ASSERT_EQ(woken.wait_for(kEventually), std::future_status::ready);
  expect_stored(woken.get());
}

TEST_F(GatewayTest, OtherTenantsAndOtherAgentsSeeNothing) {
  auto request = MustCreate(kAgent);
  auto foreign = gateway_->Get(kForeignAdmin, request->id);
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.error().code, ErrorCode::kNotFound);
  auto other = gateway_->Get(kOtherAgent, request->id);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, ErrorCode::kNotFound);
  auto decide = Decide(kForeignAdmin, request->id, "approve");
  ASSERT_FALSE(decide.ok());
  EXPECT_EQ(decide.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(gateway_->Get(kAgent, request->id).ok());
}

TEST_F(GatewayTest, CancelIsForTheRequesterOrAnAdmin) {
  auto request = MustCreate(kAgent);
  auto by_approver = Call<RequestPtr>(
      [&](auto done) { gateway_->Cancel(kAlice, request->id, "no", std::move(done)); });
  ASSERT_FALSE(by_approver.ok());
  EXPECT_EQ(by_approver.error().code, ErrorCode::kForbidden);
  auto by_requester = Call<RequestPtr>(
      [&](auto done) { gateway_->Cancel(kAgent, request->id, "not needed", std::move(done)); });
  ASSERT_TRUE(by_requester.ok());
  EXPECT_EQ(by_requester.value()->status, RequestStatus::kCancelled);
}

TEST_F(GatewayTest, InvalidInputIsRejectedWithAReason) {
  NewRequest bad_action;
  bad_action.action = "rm -rf /";
  auto r1 = Create(kAgent, bad_action);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().code, ErrorCode::kInvalid);

  NewRequest long_title;
  long_title.title = std::string(513, 'x');
  auto r2 = Create(kAgent, long_title);
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.error().message.find("title"), std::string::npos);

  NewRequest bad_timeout;
  bad_timeout.timeout_seconds = 0;
  EXPECT_EQ(Create(kAgent, bad_timeout).error().code, ErrorCode::kInvalid);

  NewRequest bad_quorum;
  bad_quorum.approvers = {"alice"};
  bad_quorum.quorum = 2;
  EXPECT_EQ(Create(kAgent, bad_quorum).error().code, ErrorCode::kInvalid);

  EXPECT_EQ(Create(kAlice, NewRequest{}).error().code, ErrorCode::kForbidden);
}

TEST_F(GatewayTest, EveryTransitionLeavesAVerifiableAuditTrail) {
  NewRequest in;
  in.quorum = 2;
  auto request = MustCreate(kAgent, in);
  ASSERT_TRUE(Decide(kAlice, request->id, "approve").ok());
  ASSERT_TRUE(Decide(kBob, request->id, "approve").ok());
  EXPECT_EQ(EventTypes(request->id),
            (std::vector<std::string>{"request.created", "decision.recorded", "decision.recorded",
                                      "request.resolved"}));
  auto report = store_->VerifyAudit();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->reason;
  EXPECT_EQ(report->events_checked, 4);
}

TEST_F(GatewayTest, ReadCacheAnswersFromMemoryAndNeverWithAStaleState) {
  gateway_->EnableReadCache(16);
  auto request = MustCreate(kAgent);
  auto first = gateway_->Get(kAlice, request->id);
  ASSERT_TRUE(first.ok());
  auto second = gateway_->Get(kAlice, request->id);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first.value(), second.value()) << "the second read should come from the cache";
  EXPECT_TRUE(second.value()->pending());

  ASSERT_TRUE(Decide(kAlice, request->id, "approve").ok());
  // The commit dropped the cached copy before Decide answered.
  auto after = gateway_->Get(kAgent, request->id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after.value()->status, RequestStatus::kApproved);
  EXPECT_EQ(after.value()->decisions.size(), 1u);
}

TEST_F(GatewayTest, TheChangeFeedAnnouncesEveryCommitBeforeTheCallerHearsOfIt) {
  gateway_->EnableReadCache(16);
  std::vector<std::string> heard;  // written on the writer thread, read after Create returns
  gateway_->changes().Subscribe("test", [&heard](const std::vector<Event>& events) {
    for (const Event& e : events) heard.push_back(e.type + " " + e.request_id);
  });
  EXPECT_EQ(gateway_->changes().Names(),
            (std::vector<std::string>{"request counts", "read cache", "test"}));
  auto request = MustCreate(kAgent);
  ASSERT_TRUE(request);
  ASSERT_FALSE(heard.empty());
  EXPECT_EQ(heard.front(), "request.created " + request->id);
  ASSERT_TRUE(Decide(kAlice, request->id, "approve").ok());
  EXPECT_EQ(heard.back(), "request.resolved " + request->id);
}

TEST_F(GatewayTest, ReadCacheKeepsEveryVisibilityRule) {
  gateway_->EnableReadCache(16);
  auto request = MustCreate(kAgent);
  ASSERT_TRUE(gateway_->Get(kAgent, request->id).ok());  // now cached
  EXPECT_EQ(gateway_->Get(kOtherAgent, request->id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(gateway_->Get(kForeignAdmin, request->id).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(gateway_->Get(kAlice, request->id).ok());
}

std::shared_ptr<const Request> CacheableRequest(std::string tenant, std::string id) {
  Request r;
  r.tenant = std::move(tenant);
  r.id = std::move(id);
  return std::make_shared<const Request>(std::move(r));
}

TEST(RequestCacheTest, ARefusedReadNeverOverwritesACommit) {
  RequestCache cache(4);
  auto stale = CacheableRequest("default", "req_1");
  const uint64_t before = cache.Generation();
  // A commit naming any request lands between the read's Generation() and its Put().
  Event committed;
  committed.tenant = "default";
  committed.request_id = "req_2";
  cache.Forget({committed});
  cache.Put(before, stale);
  EXPECT_EQ(cache.Find("default", "req_1"), nullptr);
  cache.Put(cache.Generation(), stale);
  EXPECT_EQ(cache.Find("default", "req_1"), stale);
  EXPECT_EQ(cache.Find("tenant-b", "req_1"), nullptr);
  committed.request_id = "req_1";
  cache.Forget({committed});
  EXPECT_EQ(cache.Find("default", "req_1"), nullptr);
}

TEST(RequestCacheTest, HoldsNoMoreThanItsCapacity) {
  RequestCache cache(3);
  for (int i = 0; i < 10; ++i) {
    cache.Put(cache.Generation(), CacheableRequest("t", "req_" + std::to_string(i)));
  }
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_NE(cache.Find("t", "req_9"), nullptr);
}

TEST_F(GatewayTest, VerifyAuditIsTheOperatorsAndIncrementalAfterTheFirst) {
  const Actor root{"root", Role::kAdmin, kOperatorTenant, {}};
  const auto verify = [&](const Actor& actor, bool full) {
    return Call<AuditVerification>(
        [&](auto done) { gateway_->VerifyAudit(actor, full, std::move(done)); });
  };
  EXPECT_EQ(verify(kAlice, false).error().code, ErrorCode::kForbidden);
  EXPECT_EQ(verify(kForeignAdmin, false).error().code, ErrorCode::kForbidden);

  MustCreate(kAgent);
  MustCreate(kAgent);
  auto first = verify(root, false);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE(first->full) << "nothing verified yet in this process";
  EXPECT_TRUE(first->report.ok);
  EXPECT_EQ(first->report.events_checked, 2);
  EXPECT_EQ(first->report.checkpoint.seq, 2);

  for (int i = 0; i < 10; ++i) MustCreate(kAgent);
  auto second = verify(root, false);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_FALSE(second->full);
  EXPECT_EQ(second->from_seq, 2);
  EXPECT_EQ(second->report.events_checked, 10);
  EXPECT_EQ(second->report.checkpoint.seq, 12);

  auto full = verify(root, true);
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_TRUE(full->full);
  EXPECT_EQ(full->report.events_checked, 12);
}

TEST_F(GatewayTest, AVerificationInChunksAddsUpToOnePass) {
  GatewayOptions small;
  small.verify_chunk = 3;
  Open(small);
  for (int i = 0; i < 10; ++i) MustCreate(kAgent);
  const Actor root{"root", Role::kAdmin, kOperatorTenant, {}};
  auto report = Call<AuditVerification>(
      [&](auto done) { gateway_->VerifyAudit(root, true, std::move(done)); });
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_TRUE(report->report.ok) << report->report.reason;
  EXPECT_TRUE(report->report.reached_end);
  EXPECT_EQ(report->report.events_checked, 10);
  EXPECT_EQ(report->report.checkpoint.seq, 10);
}

// The inbox's progress bar: after each chunk, how far of the chain as it stood at the start.
TEST_F(GatewayTest, AVerificationReportsItsProgressAfterEachChunk) {
  GatewayOptions small;
  small.verify_chunk = 4;
  Open(small);
  for (int i = 0; i < 10; ++i) MustCreate(kAgent);
  const Actor root{"root", Role::kAdmin, kOperatorTenant, {}};
  std::vector<std::pair<int64_t, int64_t>> steps;  // read executor; read after done
  auto report = Call<AuditVerification>([&](auto done) {
    gateway_->VerifyAudit(root, true, std::move(done), [&](int64_t checked, int64_t total) {
      steps.emplace_back(checked, total);
    });
  });
  ASSERT_TRUE(report.ok()) << report.error().message;
  const std::vector<std::pair<int64_t, int64_t>> expected{{4, 10}, {8, 10}, {10, 10}};
  EXPECT_EQ(steps, expected);

  // Incremental: only the events since the last verification count.
  for (int i = 0; i < 3; ++i) MustCreate(kAgent);
  steps.clear();
  report = Call<AuditVerification>([&](auto done) {
    gateway_->VerifyAudit(root, false, std::move(done), [&](int64_t checked, int64_t total) {
      steps.emplace_back(checked, total);
    });
  });
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_FALSE(report->full);
  const std::vector<std::pair<int64_t, int64_t>> incremental{{3, 3}};
  EXPECT_EQ(steps, incremental);
}

// A verification that checks a few chunks at once (GatewayOptions::verify_parallel) reports
// exactly what one pass in seq order reports, wherever the chain is broken. A chain of 100
// events in chunks of 7: waves of 2 or 3 chunks, the first one (0,7], (7,14], (14,21].
class ParallelVerifyTest : public GatewayTest {
 protected:
  static constexpr int kEvents = 100;
  static constexpr int64_t kChunk = 7;
  const Actor kRoot{"root", Role::kAdmin, kOperatorTenant, {}};

  void SetUp() override {
    GatewayTest::SetUp();
    for (int i = 0; i < kEvents; ++i) MustCreate(kAgent);
  }

  // Reopens the gateway (same store) to check `parallel` chunks at once.
  void Reopen(size_t parallel) {
    GatewayOptions options;
    options.verify_chunk = kChunk;
    options.verify_parallel = parallel;
    options.read_threads = 2 * parallel;  // verify_parallel takes at most half of them
    Open(options);
  }

  AuditVerification Verify(bool full) {
    auto verified = Call<AuditVerification>(
        [&](auto done) { gateway_->VerifyAudit(kRoot, full, std::move(done)); });
    EXPECT_TRUE(verified.ok()) << verified.error().message;
    return verified.ok() ? std::move(verified).value() : AuditVerification{};
  }

  // A full verification, first `parallel` chunks at once, then one at a time: both reports,
  // after checking they agree in every field.
  AuditReport VerifyBothWays(size_t parallel) {
    Reopen(parallel);
    AuditReport at_once = Verify(true).report;
    EXPECT_GT(gateway_->VerifyWavesForTest(), 0) << "no wave of chunks was checked at once";
    Reopen(1);
    AuditReport one_by_one = Verify(true).report;
    EXPECT_EQ(gateway_->VerifyWavesForTest(), 0);
    EXPECT_EQ(at_once.ok, one_by_one.ok);
    EXPECT_EQ(at_once.events_checked, one_by_one.events_checked);
    EXPECT_EQ(at_once.first_bad_seq, one_by_one.first_bad_seq);
    EXPECT_EQ(at_once.reason, one_by_one.reason);
    EXPECT_EQ(at_once.checkpoint.seq, one_by_one.checkpoint.seq);
    EXPECT_EQ(at_once.checkpoint.hash, one_by_one.checkpoint.hash);
    EXPECT_EQ(at_once.reached_end, one_by_one.reached_end);
    return at_once;
  }

  // Sets `set` on event `seq` behind the store's back, as an attacker with the file would.
  void Tamper(int64_t seq, const std::string& set) {
    auto db = testing::RawDatabase::Sqlite(dir_.File("countersign.db"));
    auto edited = db.Exec("UPDATE events SET " + set + " WHERE seq = " + std::to_string(seq));
    ASSERT_TRUE(edited.ok()) << edited.error().message;
  }
  void TamperData(int64_t seq) { Tamper(seq, "data = '{\"tampered\":true}'"); }

  std::string StoredHash(int64_t seq) {
    EventFilter at;
    at.since = seq - 1;
    at.limit = 1;
    auto found = store_->ListEvents(at);
    EXPECT_TRUE(found.ok() && !found->empty() && found->front().seq == seq);
    return found.ok() && !found->empty() ? found->front().hash : "";
  }
};

// The real store, except that the read of event `seq` alone (a wave's boundary read) answers
// with another hash: as if the event had been rewritten between that read and the chunk that
// ends there. Commit listeners are not passed on: the gateway over it may go first.
class BoundaryRaceStore : public Store {
 public:
  BoundaryRaceStore(Store& real, int64_t seq) : real_(real), seq_(seq) {}

  Result<std::vector<Event>> ListEvents(const EventFilter& filter) override {
    auto events = real_.ListEvents(filter);
    if (events.ok() && filter.since == seq_ - 1 && filter.limit == 1 && !events->empty()) {
      events->front().hash = std::string(64, 'b');
    }
    return events;
  }
  void AddCommitListener(CommitListener) override {}

  void Write(WriteFn fn, WriteDone done) override { real_.Write(std::move(fn), std::move(done)); }
  Result<std::optional<Request>> GetRequest(std::string_view tenant, std::string_view id) override {
    return real_.GetRequest(tenant, id);
  }
  Result<RequestPage> ListRequests(const RequestFilter& filter) override {
    return real_.ListRequests(filter);
  }
  Result<AuditReport> VerifyAudit(const AuditCheckpoint& from, int64_t max_events) override {
    return real_.VerifyAudit(from, max_events);
  }
  Result<AuditCheckpoint> GetAuditCheckpoint() override { return real_.GetAuditCheckpoint(); }
  Result<AuditHead> GetAuditHead() override { return real_.GetAuditHead(); }
  Result<std::vector<PendingDeadline>> ListPendingDeadlines(const DeadlineCursor& after,
                                                            int limit) override {
    return real_.ListPendingDeadlines(after, limit);
  }
  Result<std::vector<PendingDeadline>> ListPendingReminders() override {
    return real_.ListPendingReminders();
  }
  Result<int64_t> CountPending(std::string_view tenant) override {
    return real_.CountPending(tenant);
  }
  Result<std::optional<Principal>> FindPrincipalByTokenHash(std::string_view sha256) override {
    return real_.FindPrincipalByTokenHash(sha256);
  }
  Result<std::vector<Principal>> ListPrincipals(std::string_view tenant) override {
    return real_.ListPrincipals(tenant);
  }
  Result<std::map<std::string, int64_t>> CountRequestsByStatus() override {
    return real_.CountRequestsByStatus();
  }
  Result<std::map<std::string, int64_t>> CountUnreported(TimePoint now) override {
    return real_.CountUnreported(now);
  }
  Result<std::optional<Grant>> FindActiveGrant(std::string_view tenant, std::string_view action,
                                               std::string_view session, std::string_view requester,
                                               TimePoint now) override {
    return real_.FindActiveGrant(tenant, action, session, requester, now);
  }
  Result<std::optional<TimePoint>> LatestGrantExpiry() override {
    return real_.LatestGrantExpiry();
  }
  Result<std::vector<Grant>> ListGrants(std::string_view tenant) override {
    return real_.ListGrants(tenant);
  }
  Result<std::vector<OutboxRow>> ListDueOutbox(TimePoint now, int limit) override {
    return real_.ListDueOutbox(now, limit);
  }
  Result<std::optional<TimePoint>> NextOutboxDue() override { return real_.NextOutboxDue(); }
  Result<std::vector<OutboxRow>> ListOutbox(std::string_view tenant, std::string_view state,
                                            std::string_view request_id, int limit) override {
    return real_.ListOutbox(tenant, state, request_id, limit);
  }
  Result<std::map<std::string, int64_t>> CountOutboxByState() override {
    return real_.CountOutboxByState();
  }
  Result<std::string> FindChannelMessage(std::string_view request_id,
                                         std::string_view destination) override {
    return real_.FindChannelMessage(request_id, destination);
  }
  Result<std::optional<Conversation>> GetConversation(std::string_view tenant,
                                                      std::string_view request_id) override {
    return real_.GetConversation(tenant, request_id);
  }
  Result<std::vector<ConversationMessage>> ListMessages(std::string_view request_id, int64_t since,
                                                        int limit) override {
    return real_.ListMessages(request_id, since, limit);
  }
  Result<std::vector<Conversation>> ListDueConversations(TimePoint now, int limit) override {
    return real_.ListDueConversations(now, limit);
  }
  Result<std::optional<TimePoint>> NextConversationDue() override {
    return real_.NextConversationDue();
  }
  Status Ping() override { return real_.Ping(); }
  Status WriterHealth() const override { return real_.WriterHealth(); }
  StoreStats Stats() const override { return real_.Stats(); }
  void Stop() override {}  // the real store is the harness's to stop

 private:
  Store& real_;
  const int64_t seq_;
};

TEST_F(ParallelVerifyTest, AnIntactChainVerifiesToItsEndAsInOnePass) {
  // 15 chunks: 5 waves of 3; or 7 waves of 2 and the last chunk alone.
  for (auto [parallel, waves] : {std::pair<size_t, int64_t>{2, 7}, {3, 5}}) {
    Reopen(parallel);
    ASSERT_TRUE(Verify(true).report.ok);
    EXPECT_EQ(gateway_->VerifyWavesForTest(), waves) << parallel << " chunks at once";
    AuditReport report = VerifyBothWays(parallel);
    EXPECT_TRUE(report.ok) << report.reason;
    EXPECT_TRUE(report.reached_end);
    EXPECT_EQ(report.events_checked, kEvents);
    EXPECT_EQ(report.checkpoint.seq, kEvents);
    EXPECT_EQ(report.checkpoint.hash, StoredHash(kEvents));
  }
}

TEST_F(ParallelVerifyTest, AnEditInTheSecondChunkOfAWaveIsFoundAtItsSeq) {
  TamperData(10);  // in (7,14], the first wave's second chunk
  AuditReport report = VerifyBothWays(2);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 10);
  EXPECT_NE(report.reason.find("hash mismatch"), std::string::npos) << report.reason;
  EXPECT_EQ(report.events_checked, 10);
  EXPECT_EQ(report.checkpoint.seq, 9);
  EXPECT_EQ(report.checkpoint.hash, StoredHash(9));
}

TEST_F(ParallelVerifyTest, OfEditsInTheFirstAndThirdChunksTheFirstIsReported) {
  TamperData(17);  // in (14,21]: found by its own chunk, which ends no later
  TamperData(3);
  AuditReport report = VerifyBothWays(3);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 3);
  EXPECT_EQ(report.events_checked, 3);
  EXPECT_EQ(report.checkpoint.seq, 2);
  EXPECT_EQ(report.checkpoint.hash, StoredHash(2));
}

// Event 14 ends the second chunk and is where the third starts from: both see the edit, and
// the second, earlier in seq order, names it.
TEST_F(ParallelVerifyTest, AnEditedBoundaryEventIsFoundAtItsSeq) {
  TamperData(14);
  AuditReport report = VerifyBothWays(3);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 14);
  EXPECT_EQ(report.events_checked, 14);
  EXPECT_EQ(report.checkpoint.seq, 13);
  EXPECT_EQ(report.checkpoint.hash, StoredHash(13));
}

TEST_F(ParallelVerifyTest, ABoundaryEventWithAnotherStoredHashIsFoundAtItsSeq) {
  const std::string forged(64, 'a');
  Tamper(7, "hash = '" + forged + "'");  // the third chunk of this wave starts from it
  AuditReport report = VerifyBothWays(3);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 7);
  EXPECT_EQ(report.checkpoint.seq, 6);
}

// A boundary event that cannot even be read as an event fails the wave's plan: the chunks are
// then checked one at a time, which names it as one pass does.
TEST_F(ParallelVerifyTest, AnUnreadableBoundaryEventFallsBackToOneChunkAtATime) {
  Tamper(7, "data = 'not json {'");
  Reopen(3);
  AuditReport report = Verify(true).report;
  EXPECT_EQ(gateway_->VerifyWavesForTest(), 0);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 7);
  EXPECT_EQ(report.events_checked, 7);
  EXPECT_EQ(report.checkpoint.seq, 6);
  EXPECT_EQ(report.checkpoint.hash, StoredHash(6));
}

// Event 14 rewritten (in a way that hashes) between the wave's read of its stored hash and the
// second chunk's read of it: each chunk alone is fine, but the two do not meet.
TEST_F(ParallelVerifyTest, ABoundaryEventThatChangesDuringTheVerificationBreaksTheChainThere) {
  BoundaryRaceStore racing(*store_, 14);
  GatewayOptions options;
  options.verify_chunk = kChunk;
  options.verify_parallel = 3;
  options.read_threads = 6;
  auto gateway = std::make_unique<Gateway>(racing, clock_, options);
  ASSERT_TRUE(gateway->Start().ok());
  auto verified = Call<AuditVerification>(
      [&](auto done) { gateway->VerifyAudit(kRoot, true, std::move(done)); });
  gateway->Stop();
  gateway->StopReads();
  ASSERT_TRUE(verified.ok()) << verified.error().message;
  const AuditReport& report = verified->report;
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 14);
  EXPECT_NE(report.reason.find("changed during the verification"), std::string::npos)
      << report.reason;
  // Good as far as the start of the chunk that ends at it: event 7.
  EXPECT_EQ(report.checkpoint.seq, 7);
  EXPECT_EQ(report.checkpoint.hash, StoredHash(7));
  EXPECT_EQ(report.events_checked, 14);
}

TEST_F(ParallelVerifyTest, AnIncrementalVerificationChecksOnlyTheNewEvents) {
  Reopen(3);
  ASSERT_TRUE(Verify(true).report.ok);
  const int64_t waves = gateway_->VerifyWavesForTest();

  // Fewer than a chunk: one chunk, no wave.
  for (int i = 0; i < 3; ++i) MustCreate(kAgent);
  AuditVerification few = Verify(false);
  EXPECT_FALSE(few.full);
  EXPECT_EQ(few.from_seq, kEvents);
  EXPECT_TRUE(few.report.ok) << few.report.reason;
  EXPECT_EQ(few.report.events_checked, 3);
  EXPECT_EQ(few.report.checkpoint.seq, kEvents + 3);
  EXPECT_EQ(gateway_->VerifyWavesForTest(), waves);

  // Three chunks' worth: one wave of them, still only the new events.
  for (int i = 0; i < 20; ++i) MustCreate(kAgent);
  AuditVerification more = Verify(false);
  EXPECT_EQ(more.from_seq, kEvents + 3);
  EXPECT_TRUE(more.report.ok) << more.report.reason;
  EXPECT_EQ(more.report.events_checked, 20);
  EXPECT_EQ(more.report.checkpoint.seq, kEvents + 23);
  EXPECT_EQ(more.report.checkpoint.hash, StoredHash(kEvents + 23));
  EXPECT_EQ(gateway_->VerifyWavesForTest(), waves + 1);
}

}  // namespace
}  // namespace countersign

namespace countersign {
namespace {

// /metrics reads these counts: they follow every commit in memory, and agree with a count of
// the store after a restart seeds them again.
TEST_F(GatewayTest, StatusCountsFollowEveryCommitWithoutReadingTheStore) {
  MustCreate(kAgent);
  RequestPtr approved = MustCreate(kAgent);
  RequestPtr cancelled = MustCreate(kAgent);
  NewRequest short_lived;
  short_lived.timeout_seconds = 5;
  RequestPtr expired = MustCreate(kAgent, short_lived);
  ASSERT_TRUE(Decide(kAlice, approved->id, "approve").ok());
  ASSERT_TRUE(Call<RequestPtr>([&](auto done) {
                gateway_->Cancel(kAgent, cancelled->id, "not needed", std::move(done));
              }).ok());
  auto expiry = WaitFor(expired->id);
  clock_.Advance(std::chrono::seconds(6));
  ASSERT_EQ(expiry.wait_for(testing::GatewayHarness::kBound), std::future_status::ready);
  ASSERT_TRUE(harness_.Flush().ok());

  using Counts = std::map<std::string, int64_t>;
  const Counts expected{{"pending", 1}, {"approved", 1}, {"cancelled", 1}, {"expired", 1}};
  EXPECT_EQ(gateway_->StoreState().requests_by_status, expected);
  EXPECT_EQ(store_->CountRequestsByStatus().value(), expected);

  Close();
  Open();
  EXPECT_EQ(gateway_->StoreState().requests_by_status, expected) << "seeded from the store";
}

}  // namespace
}  // namespace countersign

namespace countersign {
namespace {

TEST_F(GatewayTest, AnIdempotencyKeyIsForgottenAfterItsTtl) {
  Close();
  GatewayOptions options;
  options.idempotency_ttl = std::chrono::hours(24);
  Open(options);
  NewRequest in;
  in.idempotency_key = "nightly-deploy";
  in.body_sha256 = "body-a";
  auto first = Create(kAgent, in);
  ASSERT_TRUE(first.ok());
  clock_.Advance(std::chrono::hours(23));
  auto replay = Create(kAgent, in);
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->replayed) << "within a day the key still names the first request";

  clock_.Advance(std::chrono::hours(2));
  in.body_sha256 = "body-b";  // another body: past the TTL this is no conflict
  auto fresh = Create(kAgent, in);
  ASSERT_TRUE(fresh.ok()) << fresh.error().message;
  EXPECT_FALSE(fresh->replayed);
  EXPECT_NE(fresh->request->id, first->request->id);
  auto again = Create(kAgent, in);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->request->id, fresh->request->id) << "the key now names the new request";
}

TEST_F(GatewayTest, APrincipalMayHoldOnlySoManyPendingRequests) {
  Close();
  GatewayOptions options;
  options.max_pending_per_principal = 2;
  Open(options);
  RequestPtr first = MustCreate(kAgent);
  MustCreate(kAgent);
  auto third = Create(kAgent, {});
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().code, ErrorCode::kRateLimited);
  EXPECT_NE(third.error().message.find("max_pending_per_principal"), std::string::npos);
  EXPECT_TRUE(Create(kOtherAgent, {}).ok()) << "each principal has a cap of its own";

  ASSERT_TRUE(Decide(kAlice, first->id, "approve").ok());
  EXPECT_TRUE(Create(kAgent, {}).ok()) << "a decided request frees a place";
}

}  // namespace
}  // namespace countersign
