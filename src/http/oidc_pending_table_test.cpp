#include "http/oidc_pending_table.hpp"

#include <set>

#include <gtest/gtest.h>

#include "testing/fake_clock.hpp"

namespace countersign {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;
using testing::FakeClock;

TEST(OidcPendingTableTest, ASignInIsTakenOnceByItsState) {
  FakeClock clock;
  OidcPendingTable table(clock);
  const OidcPending a = table.Begin();
  const std::set<std::string> values{a.state, a.browser, a.nonce, a.code_verifier};
  EXPECT_EQ(values.size(), 4u) << "four independent random values";
  for (const auto& v : values) EXPECT_EQ(v.size(), 43u) << "256 bits, base64url";
  EXPECT_NE(table.Begin().state, a.state);

  auto taken = table.Take(a.state);
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->browser, a.browser);
  EXPECT_EQ(taken->code_verifier, a.code_verifier);
  EXPECT_FALSE(table.Take(a.state)) << "used once";
  EXPECT_FALSE(table.Take("made-up"));
  EXPECT_FALSE(table.Take(""));
}

TEST(OidcPendingTableTest, ASignInExpiresAfterItsTtl) {
  FakeClock clock;
  OidcPendingTable table(clock, {.max_pending = 10, .ttl = minutes(10)});
  const OidcPending early = table.Begin();
  const OidcPending late = table.Begin();
  clock.Advance(minutes(10) - seconds(1));
  EXPECT_TRUE(table.Take(early.state));
  clock.Advance(seconds(1));
  EXPECT_FALSE(table.Take(late.state));
  EXPECT_EQ(table.size(), 0u) << "an expired one is dropped when found";
}

TEST(OidcPendingTableTest, AFullTableDropsTheExpiredThenTheOldest) {
  FakeClock clock;
  OidcPendingTable table(clock, {.max_pending = 3, .ttl = minutes(10)});
  const OidcPending expired = table.Begin();
  clock.Advance(minutes(10));
  const OidcPending oldest = table.Begin();
  clock.Advance(seconds(1));
  const OidcPending middle = table.Begin();
  clock.Advance(seconds(1));
  table.Begin();  // full: the expired one goes
  EXPECT_EQ(table.size(), 3u);
  EXPECT_FALSE(table.Take(expired.state));
  clock.Advance(seconds(1));
  const OidcPending newest = table.Begin();  // full, none expired: the oldest goes
  EXPECT_EQ(table.size(), 3u);
  EXPECT_FALSE(table.Take(oldest.state));
  EXPECT_TRUE(table.Take(middle.state));
  EXPECT_TRUE(table.Take(newest.state));
}

}  // namespace
}  // namespace countersign
