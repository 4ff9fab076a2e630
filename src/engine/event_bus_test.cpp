#include "engine/event_bus.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace countersign {
namespace {

using State = EventSubscription::State;

Event MakeEvent(int64_t seq, std::string tenant, std::string request_id,
                std::string type = "request.created") {
  Event e;
  e.seq = seq;
  e.tenant = std::move(tenant);
  e.request_id = std::move(request_id);
  e.type = std::move(type);
  e.actor = "ci-bot";
  return e;
}

std::vector<int64_t> TakeSeqs(EventSubscription& subscription, size_t max = 100) {
  std::vector<EventSubscription::EventPtr> taken;
  subscription.Take(taken, max);
  std::vector<int64_t> seqs;
  for (const auto& e : taken) seqs.push_back(e->seq);
  return seqs;
}

TEST(EventBusTest, EachSubscriptionGetsOnlyItsTenantsRequestEvents) {
  EventBus bus;
  auto tenant_a = bus.Subscribe("a", "", nullptr);
  auto request_r1 = bus.Subscribe("a", "req_1", nullptr);
  auto tenant_b = bus.Subscribe("b", "", nullptr);
  bus.Publish({MakeEvent(1, "a", "req_1"), MakeEvent(2, "a", "req_2"), MakeEvent(3, "b", "req_3"),
               MakeEvent(4, "a", "", "token.created"),
               MakeEvent(5, "a", "req_1", "request.resolved")});
  EXPECT_EQ(TakeSeqs(*tenant_a), (std::vector<int64_t>{1, 2, 5}));
  EXPECT_EQ(TakeSeqs(*request_r1), (std::vector<int64_t>{1, 5}));
  EXPECT_EQ(TakeSeqs(*tenant_b), (std::vector<int64_t>{3}));
}

TEST(EventBusTest, SubscribersShareOneCopyOfAnEvent) {
  EventBus bus;
  auto first = bus.Subscribe("a", "", nullptr);
  auto second = bus.Subscribe("a", "req_1", nullptr);
  bus.Publish({MakeEvent(1, "a", "req_1")});
  std::vector<EventSubscription::EventPtr> one, two;
  first->Take(one, 10);
  second->Take(two, 10);
  ASSERT_EQ(one.size(), 1u);
  ASSERT_EQ(two.size(), 1u);
  EXPECT_EQ(one[0].get(), two[0].get());
}

TEST(EventBusTest, WakesTheConsumerOnlyWhenItsQueueStopsBeingEmpty) {
  EventBus bus;
  int wakes = 0;
  auto subscription = bus.Subscribe("a", "", [&wakes] { ++wakes; });
  bus.Publish({MakeEvent(1, "a", "req_1"), MakeEvent(2, "a", "req_1")});
  bus.Publish({MakeEvent(3, "a", "req_1")});
  EXPECT_EQ(wakes, 1);
  EXPECT_EQ(TakeSeqs(*subscription), (std::vector<int64_t>{1, 2, 3}));
  bus.Publish({MakeEvent(4, "a", "req_1")});
  EXPECT_EQ(wakes, 2);
}

TEST(EventBusTest, TakeHandsOutAtMostMaxInOrder) {
  EventBus bus;
  auto subscription = bus.Subscribe("a", "", nullptr);
  bus.Publish({MakeEvent(1, "a", "r"), MakeEvent(2, "a", "r"), MakeEvent(3, "a", "r")});
  EXPECT_EQ(TakeSeqs(*subscription, 2), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(TakeSeqs(*subscription, 2), (std::vector<int64_t>{3}));
  EXPECT_EQ(TakeSeqs(*subscription, 2), (std::vector<int64_t>{}));
}

TEST(EventBusTest, AFullQueueOverflowsDropsEverythingAndTakesNoMore) {
  EventBus bus(3);
  int wakes = 0;
  auto slow = bus.Subscribe("a", "", [&wakes] { ++wakes; });
  auto fast = bus.Subscribe("a", "", nullptr);
  for (int64_t seq = 1; seq <= 3; ++seq) bus.Publish({MakeEvent(seq, "a", "r")});
  EXPECT_EQ(slow->queued(), 3u);
  EXPECT_EQ(slow->state(), State::kOpen);
  EXPECT_EQ(TakeSeqs(*fast), (std::vector<int64_t>{1, 2, 3}));

  bus.Publish({MakeEvent(4, "a", "r")});
  EXPECT_EQ(slow->state(), State::kOverflowed);
  EXPECT_EQ(slow->queued(), 0u) << "the backlog is freed at once";
  EXPECT_EQ(wakes, 2) << "woken for the first event and for the overflow";

  bus.Publish({MakeEvent(5, "a", "r")});
  EXPECT_EQ(slow->queued(), 0u);
  std::vector<EventSubscription::EventPtr> taken;
  EXPECT_EQ(slow->Take(taken, 10), State::kOverflowed);
  EXPECT_TRUE(taken.empty());
  EXPECT_EQ(TakeSeqs(*fast), (std::vector<int64_t>{4, 5})) << "others are not affected";
}

TEST(EventBusTest, UnsubscribedStreamsHearNothingMore) {
  EventBus bus;
  auto subscription = bus.Subscribe("a", "", nullptr);
  EXPECT_EQ(bus.size(), 1u);
  bus.Unsubscribe(subscription);
  bus.Unsubscribe(subscription);
  EXPECT_EQ(bus.size(), 0u);
  bus.Publish({MakeEvent(1, "a", "r")});
  EXPECT_EQ(subscription->queued(), 0u);
}

TEST(EventBusTest, CloseAllClosesEveryStreamAndEveryLaterOne) {
  EventBus bus;
  int wakes = 0;
  auto open = bus.Subscribe("a", "", [&wakes] { ++wakes; });
  bus.CloseAll();
  EXPECT_EQ(open->state(), State::kClosed);
  EXPECT_EQ(wakes, 1);
  auto late = bus.Subscribe("a", "", nullptr);
  EXPECT_EQ(late->state(), State::kClosed);
  EXPECT_EQ(bus.size(), 0u);
}

}  // namespace
}  // namespace countersign
