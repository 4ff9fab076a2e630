#include "engine/event_feed.hpp"

#include <functional>
#include <future>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/gateway.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "testing/fake_clock.hpp"
#include "testing/gateway_harness.hpp"

namespace countersign {
namespace {

using namespace std::chrono_literals;
using State = EventSubscription::State;

// Bounds how long a test waits for the writer thread; never a timing assertion.
constexpr auto kEventually = 30s;

const Actor kAdmin{"root", Role::kAdmin, "default", {}};
const Actor kAlice{"alice", Role::kApprover, "default", {}};
const Actor kAgent{"ci-bot", Role::kAgent, "default", {}};
const Actor kOtherAgent{"other-bot", Role::kAgent, "default", {}};

class EventFeedTest : public ::testing::Test {
 protected:
  using RequestPtr = Gateway::RequestPtr;

  void SetUp() override { Open(EventBus::kDefaultMaxQueue); }

  // A fresh store and gateway (in the same directory), publishing to a fresh bus as the
  // server's does: through the gateway's change feed.
  void Open(size_t max_queue) {
    harness_.Close();
    bus_ = std::make_unique<EventBus>(max_queue);
    ASSERT_TRUE(harness_.Open().ok());
    store_ = &harness_.store();
    gateway_ = &harness_.gateway();
    gateway_->changes().Subscribe(
        "event bus", [this](const std::vector<Event>& events) { bus_->Publish(events); });
  }

  void TearDown() override {
    harness_.Close();
    store_ = nullptr;
    gateway_ = nullptr;
  }

  // Appends one event in its own write and returns its seq once committed (and published:
  // the store runs its commit listeners before completing the write).
  int64_t Append(const std::string& request_id, const std::string& type = "decision.recorded",
                 const std::string& tenant = "default") {
    std::promise<int64_t> seq;
    auto future = seq.get_future();
    auto appended = std::make_shared<int64_t>(0);
    store_->Write(
        [&, appended](Transaction& txn) -> Status {
          auto event = txn.AppendEvent({clock_.Now(), tenant, request_id, type, "alice", {}});
          if (!event.ok()) return std::move(event).error();
          *appended = *event;
          return Ok();
        },
        [&seq, appended](Status status) { seq.set_value(status.ok() ? *appended : -1); });
    EXPECT_EQ(future.wait_for(kEventually), std::future_status::ready);
    return future.get();
  }

  RequestPtr Create(const Actor& actor, const std::string& session = "") {
    NewRequest input;
    input.action = "deploy_production";
    input.title = "Deploy v2.0";
    input.session = session;
    std::promise<Result<Gateway::Created>> promise;
    auto future = promise.get_future();
    gateway_->Create(actor, std::move(input),
                     [&promise](Result<Gateway::Created> r) { promise.set_value(std::move(r)); });
    EXPECT_EQ(future.wait_for(kEventually), std::future_status::ready);
    auto created = future.get();
    EXPECT_TRUE(created.ok()) << created.error().message;
    return created.ok() ? created->request : nullptr;
  }

  void Approve(const std::string& id) {
    NewDecision decision;
    decision.choice = "approve";
    std::promise<Result<RequestPtr>> promise;
    auto future = promise.get_future();
    gateway_->Decide(kAlice, id, decision,
                     [&promise](Result<RequestPtr> r) { promise.set_value(std::move(r)); });
    EXPECT_EQ(future.wait_for(kEventually), std::future_status::ready);
    auto decided = future.get();
    EXPECT_TRUE(decided.ok()) << decided.error().message;
  }

  // Everything the feed has to give now: replay pages and queued live events.
  // "request_id type" of each event the feed sends until it has nothing more.
  std::vector<std::string> DrainLabels(EventFeed& feed) {
    std::vector<std::string> seen;
    for (;;) {
      auto next = feed.Next(3);
      EXPECT_TRUE(next.ok()) << next.error().message;
      if (!next.ok()) break;
      for (const auto& e : next->events) seen.push_back(e->request_id + " " + e->type);
      if (next->events.empty() && !next->more) break;
    }
    return seen;
  }

  std::vector<int64_t> Drain(EventFeed& feed, State* state = nullptr, size_t batch = 2) {
    std::vector<int64_t> seqs;
    for (;;) {
      auto next = feed.Next(batch);
      EXPECT_TRUE(next.ok()) << next.error().message;
      if (!next.ok()) break;
      for (const auto& e : next->events) seqs.push_back(e->seq);
      if (state) *state = next->state;
      if (next->state != State::kOpen) break;
      if (next->events.empty() && !next->more) break;
    }
    return seqs;
  }

  std::unique_ptr<EventBus> bus_;  // outlives the gateway that publishes to it
  testing::GatewayHarness harness_;
  testing::FakeClock& clock_ = harness_.clock();
  SqliteStore* store_ = nullptr;
  Gateway* gateway_ = nullptr;
};

TEST_F(EventFeedTest, ResumingReplaysTheMissedEventsThenLiveOnesWithoutDuplicates) {
  std::vector<int64_t> seqs;
  for (int i = 0; i < 5; ++i) seqs.push_back(Append("req_1"));
  // The client saw up to the second event, then lost its connection.
  EventFeed feed(*bus_, *store_, kAdmin, "", seqs[1]);
  feed.Start(nullptr);
  // Committed after subscribing, so both in the store and in the live queue.
  seqs.push_back(Append("req_1"));
  seqs.push_back(Append("req_2"));
  EXPECT_EQ(Drain(feed), std::vector<int64_t>(seqs.begin() + 2, seqs.end()));
  EXPECT_EQ(feed.position(), seqs.back());

  seqs.push_back(Append("req_1"));
  EXPECT_EQ(Drain(feed), std::vector<int64_t>{seqs.back()});
  EXPECT_EQ(Drain(feed), std::vector<int64_t>{});
}

TEST_F(EventFeedTest, WithAnOffloadTheReplayIsReadThereAndTheWakeUpSaysWhenItIsReady) {
  std::vector<int64_t> seqs;
  for (int i = 0; i < 3; ++i) seqs.push_back(Append("req_1"));
  std::vector<std::function<void()>> offloaded;
  int wakes = 0;
  EventFeed feed(*bus_, *store_, kAdmin, "", 0, "", [&](std::function<void()> task) {
    offloaded.push_back(std::move(task));
    return true;
  });
  feed.Start([&] { ++wakes; });
  // Nothing read on this thread: the page is asked for, and the answer is empty for now.
  auto first = feed.Next(10);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->events.empty());
  EXPECT_FALSE(first->more);
  ASSERT_EQ(offloaded.size(), 1u);
  // Asked again before the page is read: still nothing, and no second read.
  EXPECT_TRUE(feed.Next(10)->events.empty());
  EXPECT_EQ(offloaded.size(), 1u);

  offloaded[0]();
  EXPECT_EQ(wakes, 1);
  auto page = feed.Next(10);
  ASSERT_TRUE(page.ok());
  std::vector<int64_t> got;
  for (const auto& e : page->events) got.push_back(e->seq);
  EXPECT_EQ(got, seqs);
  EXPECT_EQ(feed.position(), seqs.back());

  // The replay is over and an admin's feed needs no look-ups: live events come in place.
  const int64_t live = Append("req_2");
  auto next = feed.Next(10);
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->events.size(), 1u);
  EXPECT_EQ(next->events[0]->seq, live);
  EXPECT_EQ(offloaded.size(), 1u);
}

TEST_F(EventFeedTest, AnOffloadThatRefusesEndsTheStreamWithUnavailable) {
  Append("req_1");
  EventFeed feed(*bus_, *store_, kAdmin, "", 0, "", [](std::function<void()>) { return false; });
  feed.Start(nullptr);
  auto next = feed.Next(10);
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().code, ErrorCode::kUnavailable);
}

TEST_F(EventFeedTest, WithoutSinceOnlyEventsAfterStartArrive) {
  Append("req_1");
  EventFeed feed(*bus_, *store_, kAdmin, "", std::nullopt);
  int wakes = 0;
  feed.Start([&wakes] { ++wakes; });
  EXPECT_EQ(Drain(feed), std::vector<int64_t>{});
  const int64_t live = Append("req_1");
  EXPECT_EQ(wakes, 1);
  EXPECT_EQ(Drain(feed), std::vector<int64_t>{live});
}

TEST_F(EventFeedTest, SinceZeroReplaysEveryRequestEventButNoTokenOrOtherTenantEvents) {
  const int64_t a = Append("req_1", "request.created");
  Append("", "token.created");
  Append("req_9", "request.created", "tenant-b");
  const int64_t b = Append("req_1", "request.resolved");
  EventFeed feed(*bus_, *store_, kAdmin, "", 0);
  feed.Start(nullptr);
  EXPECT_EQ(Drain(feed), (std::vector<int64_t>{a, b}));
}

TEST_F(EventFeedTest, ARequestFeedReplaysAndStreamsOnlyThatRequest) {
  const int64_t mine = Append("req_1");
  Append("req_2");
  EventFeed feed(*bus_, *store_, kAdmin, "req_1", 0);
  feed.Start(nullptr);
  Append("req_2");
  const int64_t live = Append("req_1");
  EXPECT_EQ(Drain(feed), (std::vector<int64_t>{mine, live}));
}

TEST_F(EventFeedTest, AnAgentSeesOnlyTheRequestsItCreated) {
  auto before = Create(kAgent);
  auto foreign_before = Create(kOtherAgent);
  EventFeed feed(*bus_, *store_, kAgent, "", 0);
  feed.Start(nullptr);
  Approve(before->id);          // a request created before the feed: looked up in the store
  Approve(foreign_before->id);  // not the agent's
  auto during = Create(kAgent);
  Create(kOtherAgent);
  Approve(during->id);

  EXPECT_EQ(DrainLabels(feed),
            (std::vector<std::string>{
                before->id + " request.created", before->id + " decision.recorded",
                before->id + " request.resolved", during->id + " request.created",
                during->id + " decision.recorded", during->id + " request.resolved"}));
}

TEST_F(EventFeedTest, AnApproverSeesTheWholeTenant) {
  Create(kAgent);
  Create(kOtherAgent);
  EventFeed feed(*bus_, *store_, kAlice, "", 0);
  feed.Start(nullptr);
  EXPECT_EQ(Drain(feed).size(), 2u);
}

TEST_F(EventFeedTest, ASessionFeedSendsOnlyTheRequestsOfThatSession) {
  auto before = Create(kAgent, "molecule:a");
  Create(kAgent, "molecule:b");
  EventFeed feed(*bus_, *store_, kAlice, "", 0, "molecule:a");
  feed.Start(nullptr);
  Approve(before->id);  // created before the feed: looked up in the store
  auto during = Create(kOtherAgent, "molecule:a");
  auto elsewhere = Create(kOtherAgent, "molecule:b");
  Approve(elsewhere->id);

  EXPECT_EQ(DrainLabels(feed),
            (std::vector<std::string>{
                before->id + " request.created", before->id + " decision.recorded",
                before->id + " request.resolved", during->id + " request.created"}));
}

TEST_F(EventFeedTest, AnAgentsSessionFeedStillShowsOnlyItsOwnRequests) {
  auto mine = Create(kAgent, "molecule:a");
  Create(kOtherAgent, "molecule:a");
  EventFeed feed(*bus_, *store_, kAgent, "", 0, "molecule:a");
  feed.Start(nullptr);
  auto created = store_->ListEvents({"default", mine->id, 0, 10});
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(Drain(feed), std::vector<int64_t>{created->front().seq});
}

TEST_F(EventFeedTest, PositionAtStartsTheReplayAtTheFirstEventStampedThen) {
  EXPECT_EQ(EventFeed::PositionAt(*store_, "default", clock_.Now()).value(), 0);
  std::vector<int64_t> early;
  for (int i = 0; i < 9; ++i) {
    early.push_back(Append("req_1"));
    Append("req_9", "request.created", "tenant-b");
  }
  clock_.Advance(std::chrono::seconds(10));
  const TimePoint cut = clock_.Now();
  Append("req_9", "request.created", "tenant-b");
  const int64_t late = Append("req_1");
  clock_.Advance(std::chrono::seconds(10));
  Append("req_1");

  auto position = EventFeed::PositionAt(*store_, "default", cut);
  ASSERT_TRUE(position.ok()) << position.error().message;
  EXPECT_EQ(position.value(), early.back());
  // Replaying from there starts exactly with the first event stamped at the cut.
  EventFeed feed(*bus_, *store_, kAdmin, "", position.value());
  feed.Start(nullptr);
  EXPECT_EQ(Drain(feed, nullptr, 10).front(), late);

  // Before every event: replay everything; after every event: replay nothing.
  EXPECT_EQ(EventFeed::PositionAt(*store_, "default", cut - std::chrono::hours(1)).value(), 0);
  const int64_t last = Append("req_1");
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(EventFeed::PositionAt(*store_, "default", clock_.Now()).value(), last);
  EXPECT_EQ(EventFeed::PositionAt(*store_, "tenant-c", clock_.Now()).value(), 0);
}

TEST_F(EventFeedTest, AConsumerThatNeverTakesOverflowsAndKnowsWhereToResume) {
  TearDown();
  Open(3);
  const int64_t seen = Append("req_1");
  EventFeed feed(*bus_, *store_, kAdmin, "", seen);
  int wakes = 0;
  feed.Start([&wakes] { ++wakes; });
  for (int i = 0; i < 10; ++i) Append("req_1");
  EXPECT_EQ(feed.live_state(), State::kOverflowed);
  EXPECT_EQ(bus_->size(), 1u);
  State state = State::kOpen;
  // The replay still runs (the store has everything), but the live queue lost events: the
  // feed must not pretend otherwise, so it ends before replaying.
  EXPECT_EQ(Drain(feed, &state), std::vector<int64_t>{});
  EXPECT_EQ(state, State::kOverflowed);
  EXPECT_EQ(feed.position(), seen);
}

TEST_F(EventFeedTest, OverflowWhileLiveReportsThePositionReached) {
  TearDown();
  Open(2);
  EventFeed feed(*bus_, *store_, kAdmin, "", std::nullopt);
  feed.Start(nullptr);
  const int64_t first = Append("req_1");
  EXPECT_EQ(Drain(feed, nullptr, 10), std::vector<int64_t>{first});
  for (int i = 0; i < 3; ++i) Append("req_1");
  State state = State::kOpen;
  EXPECT_EQ(Drain(feed, &state), std::vector<int64_t>{});
  EXPECT_EQ(state, State::kOverflowed);
  EXPECT_EQ(feed.position(), first);
}

TEST_F(EventFeedTest, DestroyingTheFeedUnsubscribes) {
  {
    EventFeed feed(*bus_, *store_, kAdmin, "", std::nullopt);
    feed.Start(nullptr);
    EXPECT_EQ(bus_->size(), 1u);
  }
  EXPECT_EQ(bus_->size(), 0u);
}

}  // namespace
}  // namespace countersign
