#include "http/mcp_session_table.hpp"

#include <gtest/gtest.h>

#include "http/mcp_http_checks.hpp"
#include "testing/fake_clock.hpp"

namespace countersign {
namespace {

using std::chrono::minutes;

constexpr char kAlice[] = "default\nalice";
constexpr char kBob[] = "default\nbob";

class McpSessionTableTest : public ::testing::Test {
 protected:
  McpSessionTable MakeTable(size_t max_sessions = 10) {
    return McpSessionTable(clock_, McpServerIdentity{"countersign", "test"},
                           McpSessionLimits{max_sessions, minutes(60)});
  }
  testing::FakeClock clock_;
};

TEST_F(McpSessionTableTest, CreateGivesARandomVisibleAsciiIdAndItsOwnerFindsIt) {
  auto table = MakeTable();
  auto first = table.Create(kAlice);
  auto second = table.Create(kAlice);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_TRUE(IsMcpSessionId((*first)->id()));
  EXPECT_GE((*first)->id().size(), 40u);
  EXPECT_NE((*first)->id(), (*second)->id());
  EXPECT_NE((*first)->nonce(), (*second)->nonce());
  EXPECT_EQ(table.Find((*first)->id(), kAlice), *first);
  EXPECT_EQ(table.size(), 2u);
}

TEST_F(McpSessionTableTest, AnotherPrincipalCannotFindOrEndTheSession) {
  auto table = MakeTable();
  auto session = table.Create(kAlice);
  ASSERT_TRUE(session.ok());
  EXPECT_EQ(table.Find((*session)->id(), kBob), nullptr);
  EXPECT_FALSE(table.Remove((*session)->id(), kBob));
  EXPECT_NE(table.Find((*session)->id(), kAlice), nullptr);
}

TEST_F(McpSessionTableTest, AnEndedSessionIsNotFoundAgain) {
  auto table = MakeTable();
  auto session = table.Create(kAlice);
  ASSERT_TRUE(session.ok());
  EXPECT_TRUE(table.Remove((*session)->id(), kAlice));
  EXPECT_EQ(table.Find((*session)->id(), kAlice), nullptr);
  EXPECT_FALSE(table.Remove((*session)->id(), kAlice));
  EXPECT_EQ(table.Find("mcp_never_issued", kAlice), nullptr);
}

TEST_F(McpSessionTableTest, AnIdleSessionExpiresOnTheClockAndUseKeepsItAlive) {
  auto table = MakeTable();
  auto idle = table.Create(kAlice);
  auto used = table.Create(kAlice);
  ASSERT_TRUE(idle.ok() && used.ok());
  clock_.Advance(minutes(40));
  EXPECT_NE(table.Find((*used)->id(), kAlice), nullptr);
  clock_.Advance(minutes(21));
  EXPECT_EQ(table.Find((*idle)->id(), kAlice), nullptr);
  EXPECT_NE(table.Find((*used)->id(), kAlice), nullptr);
}

TEST_F(McpSessionTableTest, ASessionWithACallInFlightDoesNotExpire) {
  auto table = MakeTable();
  auto session = table.Create(kAlice);
  ASSERT_TRUE(session.ok());
  ASSERT_TRUE((*session)->AddCall("1", {std::make_shared<ToolCallControl>(), [] {}}));
  clock_.Advance(minutes(120));
  EXPECT_NE(table.Find((*session)->id(), kAlice), nullptr);
  (*session)->RemoveCall("1");
  clock_.Advance(minutes(61));
  EXPECT_EQ(table.Find((*session)->id(), kAlice), nullptr);
}

TEST_F(McpSessionTableTest, AFullTableRefusesUntilASessionExpires) {
  auto table = MakeTable(2);
  ASSERT_TRUE(table.Create(kAlice).ok());
  clock_.Advance(minutes(30));
  ASSERT_TRUE(table.Create(kBob).ok());
  auto refused = table.Create(kAlice);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  clock_.Advance(minutes(31));  // the first is idle for an hour now
  EXPECT_TRUE(table.Create(kAlice).ok());
  EXPECT_EQ(table.size(), 2u);
}

TEST_F(McpSessionTableTest, ACallIdIsInFlightOnceAtATime) {
  auto table = MakeTable();
  auto session = table.Create(kAlice);
  ASSERT_TRUE(session.ok());
  auto control = std::make_shared<ToolCallControl>();
  EXPECT_TRUE((*session)->AddCall("7", {control, [] {}}));
  EXPECT_FALSE((*session)->AddCall("7", {control, [] {}}));
  auto found = (*session)->FindCall("7");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->control, control);
  (*session)->RemoveCall("7");
  EXPECT_FALSE((*session)->FindCall("7"));
}

TEST_F(McpSessionTableTest, EventIdsAreUniqueWithinASession) {
  auto table = MakeTable();
  auto session = table.Create(kAlice);
  ASSERT_TRUE(session.ok());
  EXPECT_EQ((*session)->NextEventId(), "1");
  EXPECT_EQ((*session)->NextEventId(), "2");
}

}  // namespace
}  // namespace countersign
