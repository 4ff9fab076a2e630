#include "engine/request_counts.hpp"

#include <gtest/gtest.h>

#include "store/store.hpp"

namespace countersign {
namespace {

Event E(std::string type, boost::json::object data = {}) {
  Event e;
  e.type = std::move(type);
  e.data = std::move(data);
  return e;
}

TEST(RequestCountsTest, EventsMoveRequestsFromPendingToTheirFinalStatus) {
  RequestCounts counts;
  counts.Seed({{"pending", 2}, {"approved", 5}});
  counts.Apply({E("request.created"), E("request.created"), E("decision.recorded"),
                E("request.resolved", {{"status", "approved"}})});
  counts.Apply({E("request.expired", {{"status", "denied"}}), E("request.cancelled"),
                E("request.escalated"), E("request.reminded")});
  using Counts = std::map<std::string, int64_t>;
  EXPECT_EQ(counts.ByStatus(),
            (Counts{{"pending", 1}, {"approved", 6}, {"denied", 1}, {"cancelled", 1}}));
}

TEST(RequestCountsTest, AnEventWithoutAStatusChangesNothing) {
  RequestCounts counts;
  counts.Seed({{"pending", 1}});
  counts.Apply({E("request.resolved"), E("request.expired", {{"status", 7}})});
  EXPECT_EQ(counts.ByStatus(), (std::map<std::string, int64_t>{{"pending", 1}}));
}

TEST(RequestCountsTest, ARetentionPassTakesAwayTheRequestsItRemoved) {
  RequestCounts counts;
  counts.Seed({{"pending", 1}, {"approved", 5}, {"denied", 2}});
  counts.Apply(
      {E(kRetentionPrunedEvent, {{"count", 4}, {"statuses", {{"approved", 3}, {"denied", 1}}}})});
  EXPECT_EQ(counts.ByStatus(),
            (std::map<std::string, int64_t>{{"pending", 1}, {"approved", 2}, {"denied", 1}}));
}

}  // namespace
}  // namespace countersign
