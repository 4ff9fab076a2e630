// The executor's report (Gateway::ReportExecution) and the count of overdue reports.
#include <gtest/gtest.h>

#include "core/request_json.hpp"
#include "engine/gateway.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "testing/gateway_harness.hpp"

namespace countersign {
namespace {

using RequestPtr = Gateway::RequestPtr;
using namespace std::chrono_literals;

const Actor kAgent{"ci-bot", Role::kAgent, "default", {}};
const Actor kOtherAgent{"other-bot", Role::kAgent, "default", {}};
const Actor kAlice{"alice", Role::kApprover, "default", {}};
const Actor kAdmin{"root", Role::kAdmin, "default", {}};
const Actor kForeignAdmin{"mallory", Role::kAdmin, "tenant-b", {}};

class GatewayOutcomeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(harness_.Open({}).ok());
    store_ = &harness_.store();
    gateway_ = &harness_.gateway();
    // Everything asked expects a report within a minute of its approval.
    Policy p;
    p.name = "reported";
    p.match.action = "*";
    p.source = "test";
    p.report_within = 60s;
    gateway_->SetPolicies(std::make_shared<const PolicySet>(
        std::vector<Policy>{p}, std::map<std::string, std::vector<std::string>>{},
        std::vector<std::string>{}));
  }

  template <typename T, typename Start>
  Result<T> Call(Start start) {
    return testing::GatewayHarness::Call<T>(std::move(start));
  }

  RequestPtr MustCreate() {
    NewRequest in;
    in.action = "deploy_production";
    in.title = "Deploy v2.0";
    auto created = Call<Gateway::Created>(
        [&](auto done) { gateway_->Create(kAgent, std::move(in), std::move(done)); });
    EXPECT_TRUE(created.ok()) << created.error().message;
    return created.ok() ? created->request : nullptr;
  }

  Result<RequestPtr> Decide(const std::string& id, std::string choice) {
    NewDecision d;
    d.choice = std::move(choice);
    return Call<RequestPtr>(
        [&](auto done) { gateway_->Decide(kAlice, id, std::move(d), std::move(done)); });
  }

  RequestPtr MustApprove() {
    auto r = MustCreate();
    auto approved = Decide(r->id, "approve");
    EXPECT_TRUE(approved.ok()) << approved.error().message;
    return approved.ok() ? approved.value() : nullptr;
  }

  Result<RequestPtr> Report(const Actor& actor, const std::string& id, std::string status,
                            std::optional<int64_t> exit_code = std::nullopt,
                            std::string detail = "") {
    NewOutcome in{std::move(status), exit_code, std::move(detail), ""};
    return Call<RequestPtr>(
        [&](auto done) { gateway_->ReportExecution(actor, id, std::move(in), std::move(done)); });
  }

  std::vector<Event> EventsOfType(const std::string& id, const std::string& type) {
    EventFilter filter;
    filter.request_id = id;
    filter.type_prefix = type;
    auto events = store_->ListEvents(filter);
    EXPECT_TRUE(events.ok());
    return events.ok() ? events.value() : std::vector<Event>{};
  }

  testing::GatewayHarness harness_;
  testing::FakeClock& clock_ = harness_.clock();
  SqliteStore* store_ = nullptr;
  Gateway* gateway_ = nullptr;
};

TEST_F(GatewayOutcomeTest, TheRequesterReportsAndTheEventCarriesTheReport) {
  auto r = MustApprove();
  clock_.Advance(5s);
  auto reported = Report(kAgent, r->id, "failed", 3, "exit status 3");
  ASSERT_TRUE(reported.ok()) << reported.error().message;
  ASSERT_TRUE(reported.value()->execution);
  const ExecutionReport& e = *reported.value()->execution;
  EXPECT_EQ(e.status, "failed");
  EXPECT_EQ(e.exit_code, 3);
  EXPECT_EQ(e.detail, "exit status 3");
  EXPECT_EQ(e.reported_by, "ci-bot");
  EXPECT_EQ(e.at, clock_.Now());
  EXPECT_EQ(reported.value()->status, RequestStatus::kApproved) << "a report never resolves";

  auto events = EventsOfType(r->id, "execution.reported");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].actor, "ci-bot");
  EXPECT_EQ(
      events[0].data,
      (boost::json::object{{"status", "failed"}, {"detail", "exit status 3"}, {"exit_code", 3}}));
  // The answer is the request as stored, read back from the store (not the gateway's cache).
  auto stored = store_->GetRequest(r->tenant, r->id);
  ASSERT_TRUE(stored.ok() && stored.value().has_value());
  EXPECT_TRUE(*stored.value() == *reported.value());
  EXPECT_EQ(stored.value()->execution, reported.value()->execution);
}

TEST_F(GatewayOutcomeTest, OnlyTheRequesterReportsNotAnApproverNorAnAdmin) {
  auto r = MustApprove();
  auto by_approver = Report(kAlice, r->id, "succeeded");
  ASSERT_FALSE(by_approver.ok());
  EXPECT_EQ(by_approver.error().code, ErrorCode::kForbidden);
  auto by_admin = Report(kAdmin, r->id, "succeeded");
  ASSERT_FALSE(by_admin.ok());
  EXPECT_EQ(by_admin.error().code, ErrorCode::kForbidden);
  // Those who cannot see the request hear that there is none, as from Get.
  auto by_other_agent = Report(kOtherAgent, r->id, "succeeded");
  ASSERT_FALSE(by_other_agent.ok());
  EXPECT_EQ(by_other_agent.error().code, ErrorCode::kNotFound);
  auto by_foreign_admin = Report(kForeignAdmin, r->id, "succeeded");
  ASSERT_FALSE(by_foreign_admin.ok());
  EXPECT_EQ(by_foreign_admin.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(EventsOfType(r->id, "execution.").empty());
  EXPECT_FALSE(gateway_->Get(kAgent, r->id).value()->execution);
}

TEST_F(GatewayOutcomeTest, OnlyAnApprovedRequestHasAnExecutionToReport) {
  auto pending = MustCreate();
  auto early = Report(kAgent, pending->id, "succeeded");
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code, ErrorCode::kConflict);
  ASSERT_TRUE(early.error().current);
  EXPECT_EQ(early.error().current->status, RequestStatus::kPending);

  auto denied = MustCreate();
  ASSERT_TRUE(Decide(denied->id, "deny").ok());
  auto after_denial = Report(kAgent, denied->id, "failed", 1);
  ASSERT_FALSE(after_denial.ok());
  EXPECT_EQ(after_denial.error().code, ErrorCode::kConflict);
  EXPECT_TRUE(EventsOfType(pending->id, "execution.").empty());
  EXPECT_TRUE(EventsOfType(denied->id, "execution.").empty());
}

TEST_F(GatewayOutcomeTest, TheFirstReportStandsASecondIsAConflict) {
  auto r = MustApprove();
  ASSERT_TRUE(Report(kAgent, r->id, "succeeded", 0).ok());
  auto second = Report(kAgent, r->id, "failed", 1, "changed my mind");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::kConflict);
  ASSERT_TRUE(second.error().current && second.error().current->execution);
  EXPECT_EQ(second.error().current->execution->status, "succeeded");
  EXPECT_EQ(gateway_->Get(kAgent, r->id).value()->execution->status, "succeeded");
  EXPECT_EQ(EventsOfType(r->id, "execution.reported").size(), 1u);
}

TEST_F(GatewayOutcomeTest, ABadReportIsInvalidNamingItsField) {
  auto r = MustApprove();
  auto status = Report(kAgent, r->id, "maybe");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(status.error().field, "status");
  auto contradiction = Report(kAgent, r->id, "succeeded", 2);
  ASSERT_FALSE(contradiction.ok());
  EXPECT_EQ(contradiction.error().field, "exit_code");
  auto huge = Report(kAgent, r->id, "failed", 1, std::string(4097, 'x'));
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.error().field, "detail");
  EXPECT_TRUE(Report(kAgent, r->id, "failed", 1, std::string(4096, 'x')).ok());
}

TEST_F(GatewayOutcomeTest, UnreportedCountsApprovalsPastTheirReportTimeAndIsCachedBriefly) {
  auto reported = MustApprove();
  auto silent = MustApprove();
  auto counted = gateway_->CountUnreported();
  ASSERT_TRUE(counted.ok());
  EXPECT_TRUE(counted.value().empty()) << "nothing is due yet";

  clock_.Advance(61s);
  ASSERT_TRUE(Report(kAgent, reported->id, "succeeded").ok());
  counted = gateway_->CountUnreported();
  ASSERT_TRUE(counted.ok());
  EXPECT_EQ(counted.value(), (std::map<std::string, int64_t>{{"default", 1}}));

  // A late report shows only once the cached count is older than its time to live.
  ASSERT_TRUE(Report(kAgent, silent->id, "succeeded").ok());
  EXPECT_EQ(gateway_->CountUnreported().value().at("default"), 1);
  clock_.Advance(Gateway::kUnreportedCacheTtl);
  EXPECT_TRUE(gateway_->CountUnreported().value().empty());
}

}  // namespace
}  // namespace countersign
