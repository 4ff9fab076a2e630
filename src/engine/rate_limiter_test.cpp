#include "engine/rate_limiter.hpp"

#include <gtest/gtest.h>

#include "testing/fake_clock.hpp"

namespace countersign {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiterTest, AllowsTheLimitThenRefusesWithAWait) {
  testing::FakeClock clock;
  RateLimiter limiter(3, 60s);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.Acquire("alice", clock.Now()), 0);
  const int64_t wait = limiter.Acquire("alice", clock.Now());
  EXPECT_GE(wait, 1);
  EXPECT_LE(wait, 60);
  EXPECT_EQ(limiter.Acquire("bob", clock.Now()), 0) << "keys are counted apart";
}

TEST(RateLimiterTest, TheWindowSlidesRatherThanResettingAtItsEdge) {
  testing::FakeClock clock;
  clock.Set(FromUnixMillis(1795255200000));  // the start of a minute
  RateLimiter limiter(10, 60s);
  clock.Advance(50s);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(limiter.Acquire("k", clock.Now()), 0);
  // Just past the window's edge the ten events still weigh almost fully.
  clock.Advance(15s);
  EXPECT_GT(limiter.Acquire("k", clock.Now()), 0);
  // A whole window later they no longer count.
  clock.Advance(60s);
  EXPECT_EQ(limiter.Acquire("k", clock.Now()), 0);
}

TEST(RateLimiterTest, AReleasedEventNoLongerCounts) {
  testing::FakeClock clock;
  RateLimiter limiter(2, 60s);
  ASSERT_EQ(limiter.Acquire("alice", clock.Now()), 0);
  ASSERT_EQ(limiter.Acquire("alice", clock.Now()), 0);
  limiter.Release("alice", clock.Now());
  EXPECT_EQ(limiter.Acquire("alice", clock.Now()), 0) << "the refused attempt was given back";
  EXPECT_GT(limiter.Acquire("alice", clock.Now()), 0);
  limiter.Release("nobody", clock.Now());  // an unknown key is harmless
}

TEST(RateLimiterTest, ZeroMeansUnlimited) {
  testing::FakeClock clock;
  RateLimiter limiter(0, 60s);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(limiter.Acquire("k", clock.Now()), 0);
}

TEST(RateLimiterTest, MemoryIsBoundedByTheKeyCap) {
  testing::FakeClock clock;
  RateLimiter limiter(5, 60s, 100);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(limiter.Acquire("k" + std::to_string(i), clock.Now()), 0);
  EXPECT_GT(limiter.Acquire("one-too-many", clock.Now()), 0);
  clock.Advance(180s);  // the old keys are idle now and make room
  EXPECT_EQ(limiter.Acquire("one-too-many", clock.Now()), 0);
}

}  // namespace
}  // namespace countersign
