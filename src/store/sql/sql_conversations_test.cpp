// The conversation tables through the Store and its Transaction, on SqliteStore and PgStore
// alike (StoreFixture): what is written is read back whole, and the searches the engine and the
// worker make find what they should.
#include <future>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/store.hpp"
#include "testing/store_fixture.hpp"

namespace countersign {
namespace {

using namespace std::chrono_literals;
using testing::kPostgres;
using testing::kSqlite;

const TimePoint kT0 = FromUnixMillis(1795255200000);  // 2026-11-21T10:00:00Z

Conversation MakeConversation(std::string request_id, std::string subject = "slack:U123",
                              ConversationPhase phase = ConversationPhase::kChatting,
                              std::string tenant = "default") {
  Conversation c;
  c.request_id = std::move(request_id);
  c.tenant = std::move(tenant);
  c.subject = std::move(subject);
  c.channel = "slack-ops";
  c.alert.name = "Impossible travel";
  c.phase = phase;
  c.step_due = kT0;
  c.updated_at = kT0;
  return c;
}

// Every field set to something other than its default.
Conversation Everything() {
  Conversation c = MakeConversation("req_full", "slack:U123", ConversationPhase::kClosing, "acme");
  c.alert.id = "alert-7";
  c.alert.description = "Sign-ins from Lisbon and Oslo.";
  c.alert.properties = {{"ip", "203.0.113.9"}, {"count", 3}, {"ratio", 0.5}, {"vpn", false}};
  c.question = "Was it you?";
  c.step = ConversationStep::kClose;
  c.step_due = kT0 + 90s;
  c.step_attempts = 2;
  c.delivery_failures = 6;
  c.nudges = 1;
  c.max_nudges = 5;
  c.feed_channel = "C0FEED";
  c.feed_ts = "1795255200.000100";
  c.dm_channel = "D0DM";
  c.started_by = "alice";
  c.closing_status = static_cast<int>(RequestStatus::kAnswered);
  c.closed_by = "judge";
  c.judged_through = 4;
  c.needs_analyst = true;
  c.delivered_through = 3;
  c.sent_through = 4;
  c.last_seq = 5;
  c.parent_version = 4;
  c.parent_shown = 3;
  c.result = {true, false, 0.75, "they said it was not them", "The user was not aware."};
  c.updated_at = kT0 + 91s;
  return c;
}

ConversationMessage Message(std::string request_id, std::string text, std::string external_id = "",
                            MessageRole role = MessageRole::kSubject) {
  ConversationMessage m;
  m.request_id = std::move(request_id);
  m.role = role;
  m.author = role == MessageRole::kSubject ? "slack:U123" : "countersign";
  m.text = std::move(text);
  m.at = kT0 + 5s;
  m.external_id = std::move(external_id);
  return m;
}

class ConversationsTest : public testing::StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(OpenStore());
  }

  // Runs `fn` as one write and waits for it to commit.
  Status Write(Store::WriteFn fn) {
    std::promise<Status> promise;
    auto future = promise.get_future();
    store_->Write(std::move(fn), [&promise](Status s) { promise.set_value(std::move(s)); });
    return future.get();
  }

  void Insert(const Conversation& c) {
    Status inserted = Write([&](Transaction& txn) { return txn.InsertConversation(c); });
    ASSERT_TRUE(inserted.ok()) << inserted.error().message;
  }

  // Appends `m` in a write of its own; whether it was stored, and its seq.
  std::pair<bool, int64_t> Append(ConversationMessage m) {
    bool stored = false;
    Status appended = Write([&](Transaction& txn) -> Status {
      auto result = txn.AppendMessage(m);
      if (!result.ok()) return std::move(result).error();
      stored = result.value();
      return Ok();
    });
    EXPECT_TRUE(appended.ok()) << appended.error().message;
    return {stored, m.seq};
  }

  std::vector<ConversationMessage> All(const std::string& request_id) {
    auto listed = store_->ListMessages(request_id, 0, 1000);
    EXPECT_TRUE(listed.ok()) << listed.error().message;
    return listed.ok() ? listed.value() : std::vector<ConversationMessage>{};
  }

  std::vector<std::string> DueIds(TimePoint now, int limit = 100) {
    auto due = store_->ListDueConversations(now, limit);
    EXPECT_TRUE(due.ok()) << due.error().message;
    std::vector<std::string> ids;
    if (due.ok()) {
      for (const auto& c : due.value()) ids.push_back(c.request_id);
    }
    return ids;
  }
};

INSTANTIATE_TEST_SUITE_P(Sqlite, ConversationsTest, ::testing::Values(kSqlite));
INSTANTIATE_TEST_SUITE_P(Postgres, ConversationsTest, ::testing::Values(kPostgres));

TEST_P(ConversationsTest, AConversationIsReadBackWithEveryField) {
  const Conversation c = Everything();
  Insert(c);
  auto read = store_->GetConversation("acme", "req_full");
  ASSERT_TRUE(read.ok()) << read.error().message;
  ASSERT_TRUE(read.value());
  EXPECT_EQ(*read.value(), c);

  std::optional<Conversation> in_txn;
  ASSERT_TRUE(Write([&](Transaction& txn) -> Status {
                auto found = txn.FindConversation("acme", "req_full");
                if (!found.ok()) return std::move(found).error();
                in_txn = found.value();
                return Ok();
              }).ok());
  ASSERT_TRUE(in_txn);
  EXPECT_EQ(*in_txn, c);
}

TEST_P(ConversationsTest, AnUnknownResultAndNoClosingStatusStayUnknown) {
  Conversation c = MakeConversation("req_1");
  c.result.is_aware.reset();
  c.closing_status.reset();
  Insert(c);
  auto read = store_->GetConversation("default", "req_1");
  ASSERT_TRUE(read.ok() && read.value());
  EXPECT_FALSE(read.value()->result.is_aware);
  EXPECT_FALSE(read.value()->closing_status);
  EXPECT_EQ(*read.value(), c);
}

TEST_P(ConversationsTest, AConversationOfAnotherTenantIsNotFound) {
  Insert(Everything());
  auto read = store_->GetConversation("default", "req_full");
  ASSERT_TRUE(read.ok());
  EXPECT_FALSE(read.value());
  auto missing = store_->GetConversation("acme", "req_nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing.value());
}

TEST_P(ConversationsTest, UpdateReplacesTheWholeConversation) {
  Conversation c = MakeConversation("req_1", "slack:U123", ConversationPhase::kPosted);
  Insert(c);
  c.phase = ConversationPhase::kChatting;
  c.step = ConversationStep::kGreet;
  c.started_by = "alice";
  c.parent_version = 2;
  c.result.summary = "not yet";
  ASSERT_TRUE(Write([&](Transaction& txn) { return txn.UpdateConversation(c); }).ok());
  auto read = store_->GetConversation("default", "req_1");
  ASSERT_TRUE(read.ok() && read.value());
  EXPECT_EQ(*read.value(), c);
}

TEST_P(ConversationsTest, UpdatingAnAbsentConversationIsNotFound) {
  Status updated =
      Write([&](Transaction& txn) { return txn.UpdateConversation(MakeConversation("req_9")); });
  ASSERT_FALSE(updated.ok());
  EXPECT_EQ(updated.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(updated.error().message, "no conversation req_9");
}

TEST_P(ConversationsTest, FindConversationsWithMatchesTenantSubjectAndPhaseOldestFirst) {
  Insert(MakeConversation("req_02", "slack:U1"));
  Insert(MakeConversation("req_01", "slack:U1"));
  Insert(MakeConversation("req_03", "slack:U1", ConversationPhase::kPosted));
  Insert(MakeConversation("req_04", "slack:U2"));
  Insert(MakeConversation("req_05", "slack:U1", ConversationPhase::kChatting, "acme"));
  std::vector<std::string> ids;
  ASSERT_TRUE(Write([&](Transaction& txn) -> Status {
                auto found =
                    txn.FindConversationsWith("default", "slack:U1", ConversationPhase::kChatting);
                if (!found.ok()) return std::move(found).error();
                for (const auto& c : found.value()) ids.push_back(c.request_id);
                return Ok();
              }).ok());
  EXPECT_EQ(ids, (std::vector<std::string>{"req_01", "req_02"}));
}

TEST_P(ConversationsTest, FindConversationByThreadFindsTheAlertMessagesConversation) {
  Conversation c = MakeConversation("req_1");
  c.feed_channel = "C0FEED";
  c.feed_ts = "1795255200.000100";
  Insert(c);
  Insert(MakeConversation("req_2"));  // not posted yet: no thread
  std::optional<Conversation> found, other_tenant, unknown;
  ASSERT_TRUE(Write([&](Transaction& txn) -> Status {
                auto a = txn.FindConversationByThread("default", "1795255200.000100");
                auto b = txn.FindConversationByThread("acme", "1795255200.000100");
                auto d = txn.FindConversationByThread("default", "1795255200.000999");
                if (!a.ok() || !b.ok() || !d.ok()) return Error::Internal("a search failed");
                found = a.value();
                other_tenant = b.value();
                unknown = d.value();
                return Ok();
              }).ok());
  ASSERT_TRUE(found);
  EXPECT_EQ(found->request_id, "req_1");
  EXPECT_FALSE(other_tenant);
  EXPECT_FALSE(unknown);
}

TEST_P(ConversationsTest, MessagesAreNumberedPerConversation) {
  EXPECT_EQ(Append(Message("req_1", "one", "e1")), std::make_pair(true, int64_t{1}));
  EXPECT_EQ(Append(Message("req_1", "two", "e2")), std::make_pair(true, int64_t{2}));
  EXPECT_EQ(Append(Message("req_2", "other", "e1")), std::make_pair(true, int64_t{1}));
  EXPECT_EQ(Append(Message("req_1", "three", "", MessageRole::kBot)),
            std::make_pair(true, int64_t{3}));
  const auto messages = All("req_1");
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0].text, "one");
  EXPECT_EQ(messages[2].text, "three");
  EXPECT_EQ(messages[2].role, MessageRole::kBot);
}

TEST_P(ConversationsTest, AMessageIsReadBackWhole) {
  ConversationMessage m = Message("req_1", "I was in <Oslo> & \"Lisbon\"\nreally", "1795.0001");
  ASSERT_TRUE(Append(m).first);
  m.seq = 1;
  const auto messages = All("req_1");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], m);
}

TEST_P(ConversationsTest, ARepeatedExternalIdIsNotStoredAgain) {
  ASSERT_TRUE(Append(Message("req_1", "yes", "1795.0001")).first);
  const auto again = Append(Message("req_1", "yes (redelivered)", "1795.0001"));
  EXPECT_FALSE(again.first);
  const auto messages = All("req_1");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].text, "yes");
  // The next message still gets the next seq.
  EXPECT_EQ(Append(Message("req_1", "more", "1795.0002")).second, 2);
}

TEST_P(ConversationsTest, EmptyExternalIdsNeverCollide) {
  EXPECT_TRUE(Append(Message("req_1", "hello", "", MessageRole::kBot)).first);
  EXPECT_TRUE(Append(Message("req_1", "hello", "", MessageRole::kBot)).first);
  const auto messages = All("req_1");
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].external_id, "");
  EXPECT_EQ(messages[1].external_id, "");
}

TEST_P(ConversationsTest, ListMessagesTakesThoseAfterSinceUpToLimit) {
  for (int i = 1; i <= 5; ++i) Append(Message("req_1", "m" + std::to_string(i)));
  auto page = store_->ListMessages("req_1", 2, 2);
  ASSERT_TRUE(page.ok()) << page.error().message;
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].seq, 3);
  EXPECT_EQ((*page)[0].text, "m3");
  EXPECT_EQ((*page)[1].seq, 4);
  auto rest = store_->ListMessages("req_1", 4, 100);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].seq, 5);
  auto none = store_->ListMessages("req_1", 5, 100);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_P(ConversationsTest, ListMessagesInReadsTheWholeTranscriptInsideAWrite) {
  for (int i = 1; i <= 3; ++i) Append(Message("req_1", "m" + std::to_string(i)));
  size_t count = 0;
  ASSERT_TRUE(Write([&](Transaction& txn) -> Status {
                ConversationMessage m = Message("req_1", "m4");
                auto stored = txn.AppendMessage(m);
                if (!stored.ok()) return std::move(stored).error();
                auto listed = txn.ListMessagesIn("req_1");
                if (!listed.ok()) return std::move(listed).error();
                count = listed->size();
                return Ok();
              }).ok());
  EXPECT_EQ(count, 4u);
}

TEST_P(ConversationsTest, WorkIsDueByStepOrByWhatIsLeftToShow) {
  Conversation greet = MakeConversation("req_greet");
  greet.step = ConversationStep::kGreet;
  greet.step_due = kT0 + 10s;
  Insert(greet);

  // No step, but a message not yet shown: due as "deliver".
  Conversation deliver = MakeConversation("req_deliver");
  deliver.last_seq = 2;
  deliver.delivered_through = 1;
  deliver.step_due = kT0 + 5s;
  Insert(deliver);

  // No step, the alert message not yet updated: due too.
  Conversation update = MakeConversation("req_update");
  update.parent_version = 2;
  update.parent_shown = 1;
  update.step_due = kT0 + 20s;
  Insert(update);

  // Everything shown and no step: nothing to do.
  Conversation idle = MakeConversation("req_idle");
  idle.last_seq = 3;
  idle.delivered_through = 3;
  idle.parent_version = 2;
  idle.parent_shown = 2;
  idle.step_due = kT0;
  Insert(idle);

  Conversation later = MakeConversation("req_later");
  later.step = ConversationStep::kJudge;
  later.step_due = kT0 + 100s;
  Insert(later);

  EXPECT_EQ(DueIds(kT0 + 60s),
            (std::vector<std::string>{"req_deliver", "req_greet", "req_update"}));
  EXPECT_EQ(DueIds(kT0 + 60s, 1), (std::vector<std::string>{"req_deliver"}));
  EXPECT_EQ(DueIds(kT0 + 5s), (std::vector<std::string>{"req_deliver"}));
  EXPECT_EQ(DueIds(kT0 + 100s),
            (std::vector<std::string>{"req_deliver", "req_greet", "req_update", "req_later"}));
  auto next = store_->NextConversationDue();
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(next.value(), kT0 + 5s);
}

TEST_P(ConversationsTest, AConversationLeavesTheWorkOnceEverythingIsShown) {
  Conversation c = MakeConversation("req_1");
  c.last_seq = 1;
  c.step_due = kT0;
  Insert(c);
  EXPECT_EQ(DueIds(kT0), std::vector<std::string>{"req_1"});
  c.delivered_through = 1;
  ASSERT_TRUE(Write([&](Transaction& txn) { return txn.UpdateConversation(c); }).ok());
  EXPECT_TRUE(DueIds(kT0 + 1h).empty());
  auto next = store_->NextConversationDue();
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next.value());
}

TEST_P(ConversationsTest, NothingIsDueInAnEmptyStore) {
  EXPECT_TRUE(DueIds(kT0 + 24h).empty());
  auto next = store_->NextConversationDue();
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next.value());
}

}  // namespace
}  // namespace countersign
