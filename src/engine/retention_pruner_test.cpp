// The retention pruner on a real store and gateway, on a fake clock: a pass removes only what
// was resolved longer ago than resolved_after, records each batch as an audit event, leaves the
// chain verifiable, and passes come on the clock after Start().
#include "engine/retention_pruner.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/id_generator.hpp"
#include "store/write_sync.hpp"
#include "testing/gateway_harness.hpp"

namespace countersign {
namespace {

using namespace std::chrono_literals;
using testing::GatewayHarness;

const Actor kOperator{"root", Role::kAdmin, "default", {}};

class RetentionPrunerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(harness_.Open().ok());
    harness_.gateway().changes().Subscribe("test", [this](const std::vector<Event>& events) {
      for (const auto& e : events) {
        if (e.type != kRetentionPrunedEvent) continue;
        std::lock_guard lock(mu_);
        if (pruned_) pruned_->set_value(e);
        pruned_.reset();
      }
    });
  }
  void TearDown() override {
    if (pruner_) pruner_->Stop();
    harness_.Close();
    pruner_.reset();
  }

  void MakePruner(RetentionOptions options) {
    pruner_ =
        std::make_unique<RetentionPruner>(harness_.store(), harness_.gateway().alarms(), options);
    pruner_->SetOnPruned([this] { ++on_pruned_calls_; });
  }

  // The next retention.pruned event committed from now on.
  std::future<Event> NextPruned() {
    std::lock_guard lock(mu_);
    pruned_.emplace();
    return pruned_->get_future();
  }

  // A request created now with an event, resolved now unless `pending`.
  std::string Add(bool pending = false) {
    Request r;
    r.id = ids_.Next("req_");
    r.tenant = "default";
    r.kind = Kind::kApproval;
    r.action = "deploy";
    r.title = "Deploy";
    r.requester = "ci-bot";
    r.choices = DefaultChoices(Kind::kApproval);
    r.quorum = 1;
    r.policy = "default";
    r.risk = "normal";
    r.created_at = harness_.clock().Now();
    r.deadline_at = r.created_at + 1h;
    if (!pending) {
      r.status = RequestStatus::kApproved;
      r.resolved_at = r.created_at;
    }
    Status s = WriteSync(harness_.store(), [&](Transaction& txn) -> Status {
      CS_RETURN_IF_ERROR(txn.InsertRequest(r));
      auto seq = txn.AppendEvent(
          {r.created_at, r.tenant, r.id, "request.created", "ci-bot", {{"title", r.title}}});
      if (!seq.ok()) return std::move(seq).error();
      return Ok();
    });
    EXPECT_TRUE(s.ok()) << s.error().message;
    return r.id;
  }

  bool Exists(const std::string& id) {
    auto got = harness_.store().GetRequest("default", id);
    EXPECT_TRUE(got.ok());
    return got.ok() && got->has_value();
  }

  std::vector<Event> PrunedEvents() {
    EventFilter filter;
    filter.type_prefix = kRetentionPrunedEvent;
    auto events = harness_.store().ListEvents(filter);
    EXPECT_TRUE(events.ok());
    return events.ok() ? std::move(events).value() : std::vector<Event>{};
  }

  AuditVerification Verify() {
    auto verified = GatewayHarness::Call<AuditVerification>(
        [&](auto done) { harness_.gateway().VerifyAudit(kOperator, true, std::move(done)); });
    EXPECT_TRUE(verified.ok());
    return verified.ok() ? std::move(verified).value() : AuditVerification{};
  }

  GatewayHarness harness_;
  IdGenerator ids_{harness_.clock()};
  std::unique_ptr<RetentionPruner> pruner_;
  std::atomic<int> on_pruned_calls_{0};
  std::mutex mu_;
  std::optional<std::promise<Event>> pruned_;
};

TEST_F(RetentionPrunerTest, APassRemovesOnlyWhatWasResolvedLongerAgoAndRecordsEachBatch) {
  MakePruner({.resolved_after = 1h, .interval = 10min, .batch = 1});
  const std::string first = Add();
  const std::string second = Add();
  const std::string pending = Add(/*pending=*/true);
  harness_.clock().Advance(30min);
  const std::string recent = Add();

  // Nothing was resolved an hour ago yet.
  auto none = GatewayHarness::Call<int64_t>([&](auto done) { pruner_->PruneNow(done); });
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_EQ(*none, 0);
  EXPECT_TRUE(PrunedEvents().empty());
  EXPECT_EQ(on_pruned_calls_.load(), 0);

  harness_.clock().Advance(31min);
  auto removed = GatewayHarness::Call<int64_t>([&](auto done) { pruner_->PruneNow(done); });
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_EQ(*removed, 2);
  EXPECT_FALSE(Exists(first));
  EXPECT_FALSE(Exists(second));
  EXPECT_TRUE(Exists(pending));
  EXPECT_TRUE(Exists(recent));
  EXPECT_EQ(on_pruned_calls_.load(), 1);

  // One event per batch of one, naming the request, the cutoff and the statuses.
  const std::vector<Event> events = PrunedEvents();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].actor, RetentionPruner::kActor);
  EXPECT_EQ(events[0].data.at("count").as_int64(), 1);
  EXPECT_EQ(events[0].data.at("first_id").as_string(), first);
  EXPECT_EQ(events[0].data.at("last_id").as_string(), first);
  EXPECT_EQ(events[1].data.at("first_id").as_string(), second);
  EXPECT_EQ(events[0].data.at("statuses").at("approved").as_int64(), 1);
  EXPECT_EQ(events[0].data.at("resolved_before").as_string(), "2026-11-21T10:01:00.000Z");

  // The removed requests' own events stay, and the whole chain still verifies.
  EventFilter of_first;
  of_first.request_id = first;
  auto kept = harness_.store().ListEvents(of_first);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->size(), 1u);
  const AuditVerification report = Verify();
  EXPECT_TRUE(report.report.ok) << report.report.reason;
  EXPECT_EQ(report.report.events_checked, 6);

  // A second pass finds nothing and records nothing.
  auto again = GatewayHarness::Call<int64_t>([&](auto done) { pruner_->PruneNow(done); });
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
  EXPECT_EQ(PrunedEvents().size(), 2u);
  EXPECT_EQ(on_pruned_calls_.load(), 1);
}

TEST_F(RetentionPrunerTest, PassesComeOnTheClockAfterStart) {
  MakePruner({.resolved_after = 1h, .interval = 10min});
  const std::string old = Add();
  pruner_->Start();
  // Start's own pass found nothing; once its write has committed it is over.
  ASSERT_TRUE(harness_.Flush().ok());
  EXPECT_TRUE(Exists(old));

  auto pruned = NextPruned();
  harness_.clock().Advance(61min);
  ASSERT_EQ(pruned.wait_for(GatewayHarness::kBound), std::future_status::ready);
  EXPECT_EQ(pruned.get().data.at("first_id").as_string(), old);
  EXPECT_FALSE(Exists(old));
}

TEST_F(RetentionPrunerTest, ZeroResolvedAfterKeepsEverythingAndAStoppedPrunerRefuses) {
  MakePruner({.resolved_after = 0s, .interval = 10min});
  const std::string id = Add();
  pruner_->Start();
  harness_.clock().Advance(24h);
  ASSERT_TRUE(harness_.Flush().ok());
  EXPECT_TRUE(Exists(id));
  EXPECT_TRUE(PrunedEvents().empty());

  pruner_->Stop();
  MakePruner({.resolved_after = 1h, .interval = 10min});
  pruner_->Stop();
  auto refused = GatewayHarness::Call<int64_t>([&](auto done) { pruner_->PruneNow(done); });
  EXPECT_FALSE(refused.ok());
}

}  // namespace
}  // namespace countersign
