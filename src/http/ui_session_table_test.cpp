#include "http/ui_session_table.hpp"

#include <gtest/gtest.h>

#include "testing/fake_clock.hpp"

namespace countersign {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using testing::FakeClock;

TEST(UiSessionTableTest, ASessionIsFoundByItsRandomIdUntilItEnds) {
  FakeClock clock;
  UiSessionTable table(clock);
  const std::string id = table.Create("cs_token", "alice");
  EXPECT_EQ(id.rfind("ui_", 0), 0u);
  EXPECT_EQ(id.size(), 3u + 43u) << "256 random bits";
  EXPECT_NE(table.Create("cs_token", "alice"), id);

  auto found = table.Find(id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->token, "cs_token");
  EXPECT_EQ(found->principal, "alice");
  EXPECT_FALSE(table.Find("ui_guess"));
  EXPECT_FALSE(table.Find(""));

  table.Remove(id);
  EXPECT_FALSE(table.Find(id));
  table.Remove(id);  // twice is harmless
}

TEST(UiSessionTableTest, ASessionWithoutATokenCarriesItsActor) {
  FakeClock clock;
  UiSessionTable table(clock, {.max_sessions = 10, .idle_expiry = hours(1)});
  Actor actor;
  actor.name = "alice@example.com";
  actor.role = Role::kApprover;
  actor.groups = {"deployers"};
  const std::string id = table.CreateFor(actor);
  EXPECT_EQ(id.size(), 3u + 43u);
  auto found = table.Find(id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->token, "");
  EXPECT_EQ(found->principal, "alice@example.com");
  ASSERT_TRUE(found->actor);
  EXPECT_EQ(found->actor->groups, std::vector<std::string>{"deployers"});
  EXPECT_FALSE(table.Find(table.Create("cs_token", "bob"))->actor);
  clock.Advance(hours(1));
  EXPECT_FALSE(table.Find(id)) << "it expires like any other";
}

TEST(UiSessionTableTest, ASessionExpiresWhenIdleAndAtItsAbsoluteLimitHoweverBusy) {
  FakeClock clock;
  UiSessionTable table(clock,
                       {.max_sessions = 10, .idle_expiry = hours(1), .absolute_expiry = hours(3)});
  const std::string idle = table.Create("t1", "alice");
  const std::string busy = table.Create("t2", "bob");
  clock.Advance(minutes(59));
  EXPECT_TRUE(table.Find(busy));
  clock.Advance(minutes(1));
  EXPECT_FALSE(table.Find(idle)) << "an hour without use";
  for (int i = 0; i < 3; ++i) {  // used every half hour, up to 2:30 after it began
    clock.Advance(minutes(30));
    EXPECT_TRUE(table.Find(busy)) << i;
  }
  clock.Advance(minutes(29));
  EXPECT_TRUE(table.Find(busy));
  clock.Advance(minutes(1));
  EXPECT_FALSE(table.Find(busy)) << "three hours after it began, in use or not";
}

TEST(UiSessionTableTest, AFullTableDropsTheExpiredThenTheLeastRecentlyUsed) {
  FakeClock clock;
  UiSessionTable table(clock,
                       {.max_sessions = 3, .idle_expiry = hours(1), .absolute_expiry = hours(24)});
  const std::string a = table.Create("ta", "a");
  clock.Advance(minutes(1));
  const std::string b = table.Create("tb", "b");
  clock.Advance(minutes(1));
  const std::string c = table.Create("tc", "c");
  clock.Advance(minutes(1));
  ASSERT_TRUE(table.Find(a));  // a is now the most recently used
  const std::string d = table.Create("td", "d");
  EXPECT_EQ(table.size(), 3u);
  EXPECT_FALSE(table.Find(b)) << "the least recently used made room";
  EXPECT_TRUE(table.Find(a));
  EXPECT_TRUE(table.Find(c));
  EXPECT_TRUE(table.Find(d));

  clock.Advance(hours(2));  // all expired
  const std::string e = table.Create("te", "e");
  EXPECT_EQ(table.size(), 1u) << "the expired went first";
  EXPECT_TRUE(table.Find(e));
}

}  // namespace
}  // namespace countersign
