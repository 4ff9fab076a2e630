#include "engine/change_feed.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace countersign {
namespace {

std::vector<Event> Batch(std::initializer_list<int64_t> seqs) {
  std::vector<Event> events;
  for (int64_t seq : seqs) {
    Event e;
    e.seq = seq;
    e.tenant = "default";
    e.request_id = "req_" + std::to_string(seq);
    e.type = "request.created";
    events.push_back(std::move(e));
  }
  return events;
}

TEST(ChangeFeedTest, EveryConsumerHearsEachBatchInTheOrderTheySubscribed) {
  ChangeFeed feed;
  std::vector<std::string> heard;
  feed.Subscribe("cache", [&](const std::vector<Event>& events) {
    heard.push_back("cache:" + std::to_string(events.front().seq) + "-" +
                    std::to_string(events.back().seq));
  });
  feed.Subscribe("bus", [&](const std::vector<Event>& events) {
    heard.push_back("bus:" + std::to_string(events.size()));
  });
  feed.Publish(Batch({4, 5, 6}));
  feed.Publish(Batch({7}));
  EXPECT_EQ(heard, (std::vector<std::string>{"cache:4-6", "bus:3", "cache:7-7", "bus:1"}));
  EXPECT_EQ(feed.Names(), (std::vector<std::string>{"cache", "bus"}));
}

TEST(ChangeFeedTest, AnEmptyBatchIsNotDelivered) {
  ChangeFeed feed;
  int calls = 0;
  feed.Subscribe("counter", [&](const std::vector<Event>&) { ++calls; });
  feed.Publish({});
  EXPECT_EQ(calls, 0);
  feed.Publish(Batch({1}));
  EXPECT_EQ(calls, 1);
}

TEST(ChangeFeedTest, AConsumerAddedWhileABatchIsDeliveredHearsTheNextOne) {
  ChangeFeed feed;
  std::vector<int64_t> late;
  bool added = false;
  feed.Subscribe("adds another", [&](const std::vector<Event>&) {
    if (added) return;
    added = true;
    feed.Subscribe("late", [&](const std::vector<Event>& events) {
      for (const Event& e : events) late.push_back(e.seq);
    });
  });
  feed.Publish(Batch({1, 2}));
  EXPECT_TRUE(late.empty());
  feed.Publish(Batch({3}));
  EXPECT_EQ(late, (std::vector<int64_t>{3}));
}

}  // namespace
}  // namespace countersign
