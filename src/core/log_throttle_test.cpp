#include "core/log_throttle.hpp"

#include <gtest/gtest.h>

namespace countersign {
namespace {

using std::chrono::seconds;

TEST(LogThrottleTest, OneLinePerIntervalCountingWhatWasLeftOut) {
  LogThrottle throttle(seconds(10));
  const LogThrottle::SteadyTime t0{seconds(1000)};
  EXPECT_EQ(throttle.Allow(t0), 0u) << "the first occurrence is logged";
  for (int i = 1; i <= 5; ++i) EXPECT_EQ(throttle.Allow(t0 + seconds(i)), std::nullopt);
  EXPECT_EQ(throttle.Allow(t0 + seconds(9)), std::nullopt);
  EXPECT_EQ(throttle.Allow(t0 + seconds(10)), 6u) << "six left out since the last line";
  EXPECT_EQ(throttle.Allow(t0 + seconds(30)), 0u);
}

}  // namespace
}  // namespace countersign
