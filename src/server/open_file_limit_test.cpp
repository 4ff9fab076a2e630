#include "server/open_file_limit.hpp"

#include <sys/resource.h>

#include <gtest/gtest.h>

namespace countersign {
namespace {

TEST(OpenFileLimitTest, TheSoftLimitIsRaisedToTheHardOne) {
  rlimit before{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &before), 0);
  const uint64_t in_force = RaiseOpenFileLimit();
  rlimit after{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &after), 0);
  EXPECT_EQ(after.rlim_cur, after.rlim_max);
  EXPECT_EQ(in_force, after.rlim_cur == RLIM_INFINITY ? UINT64_MAX : after.rlim_cur);
  EXPECT_GE(after.rlim_cur, before.rlim_cur);
}

TEST(OpenFileLimitTest, TheDefaultCapLeavesDescriptorsForEverythingElse) {
  EXPECT_EQ(DefaultMaxConnections(1024), 896u);
  EXPECT_EQ(DefaultMaxConnections(1048576), 1000000u);
  EXPECT_EQ(DefaultMaxConnections(200), 72u);
  EXPECT_EQ(DefaultMaxConnections(100), 50u);
  EXPECT_EQ(DefaultMaxConnections(20), 16u);
}

}  // namespace
}  // namespace countersign
