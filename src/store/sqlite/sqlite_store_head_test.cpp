// The audit head file beside the database: a store that lost acknowledged writes, or was
// swapped for another, is refused at Open instead of carrying on.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "store/audit_head_file.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/write_sync.hpp"
#include "testing/temp_dir.hpp"

namespace countersign {
namespace {

const TimePoint kT0 = FromUnixMillis(1795255200000);  // 2026-11-21T10:00:00Z

::testing::AssertionResult HasText(std::string_view text, std::string_view part) {
  if (text.find(part) != std::string_view::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

class SqliteStoreHeadTest : public ::testing::Test {
 protected:
  SqliteStoreOptions Options(bool accept_gap = false) const {
    SqliteStoreOptions options;
    options.path = db_;
    options.head_file = head_;
    options.accept_audit_gap = accept_gap;
    return options;
  }

  // Opens the store, appends `n` events whose data says `tag`, and closes it.
  void Append(int n, const std::string& tag) {
    auto store = SqliteStore::Open(Options());
    ASSERT_TRUE(store.ok()) << store.error().message;
    for (int i = 0; i < n; ++i) {
      Status s = WriteSync(**store, [&](Transaction& txn) -> Status {
        auto seq = txn.AppendEvent({kT0, "default", "", "test.event", "tester", {{"tag", tag}}});
        if (!seq.ok()) return std::move(seq).error();
        return Ok();
      });
      ASSERT_TRUE(s.ok()) << s.error().message;
    }
  }

  std::optional<AuditHeadFile::Head> Recorded() const {
    auto file = AuditHeadFile::Open(head_);
    EXPECT_TRUE(file.ok());
    return file.ok() ? (*file)->recorded() : std::nullopt;
  }

  // The database file alone (a closed store leaves no -wal), as a backup tool would copy it.
  void Save(const std::string& to) const {
    ASSERT_FALSE(std::filesystem::exists(db_ + "-wal"));
    std::filesystem::copy_file(db_, to, std::filesystem::copy_options::overwrite_existing);
  }
  void PutBack(const std::string& from) const {
    std::filesystem::copy_file(from, db_, std::filesystem::copy_options::overwrite_existing);
  }

  testing::TempDir dir_;
  const std::string db_ = dir_.File("cs.db");
  const std::string head_ = dir_.File("cs.db.audit-head");
};

TEST_F(SqliteStoreHeadTest, EveryCommitWithEventsIsRecorded) {
  Append(3, "a");
  auto recorded = Recorded();
  ASSERT_TRUE(recorded.has_value());
  EXPECT_EQ(recorded->seq, 3);
  auto store = SqliteStore::Open(Options());
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto head = (*store)->GetAuditHead();
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(recorded->hash, head->hash);
  // A write without events leaves the record as it is.
  ASSERT_TRUE(WriteSync(**store, [](Transaction&) { return Ok(); }).ok());
  EXPECT_EQ(Recorded()->seq, 3);
}

TEST_F(SqliteStoreHeadTest, AStoreThatLostAcknowledgedWritesIsRefusedNamingTheGap) {
  Append(3, "a");
  Save(dir_.File("backup.db"));
  Append(4, "b");
  PutBack(dir_.File("backup.db"));

  auto refused = SqliteStore::Open(Options());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInternal);
  EXPECT_TRUE(HasText(refused.error().message, "ends at event 3"));
  EXPECT_TRUE(HasText(refused.error().message, "event 7 was committed"));
  EXPECT_TRUE(HasText(refused.error().message, "4 acknowledged events are missing"));
  EXPECT_TRUE(HasText(refused.error().message, "--accept-audit-gap on"));
  EXPECT_EQ(Recorded()->seq, 7);  // refusing changes nothing

  // Accepting the gap goes on from what is left, and records it, so the next start is clean.
  {
    auto accepted = SqliteStore::Open(Options(/*accept_gap=*/true));
    ASSERT_TRUE(accepted.ok()) << accepted.error().message;
  }
  EXPECT_EQ(Recorded()->seq, 3);
  Append(1, "c");
  EXPECT_EQ(Recorded()->seq, 4);
}

TEST_F(SqliteStoreHeadTest, AnotherDatabaseInItsPlaceIsRefused) {
  Append(3, "a");
  std::filesystem::remove(db_);
  // A different history of the same length: same seqs, other hashes.
  auto other = SqliteStore::Open([&] {
    SqliteStoreOptions options = Options();
    options.head_file = dir_.File("other.audit-head");
    return options;
  }());
  ASSERT_TRUE(other.ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(WriteSync(**other, [](Transaction& txn) -> Status {
                  auto seq = txn.AppendEvent({kT0, "default", "", "test.event", "mallory", {}});
                  return seq.ok() ? Ok() : Status(std::move(seq).error());
                }).ok());
  }
  other->reset();

  auto refused = SqliteStore::Open(Options());
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(HasText(refused.error().message, "event 3 is not the one that was committed"));
}

TEST_F(SqliteStoreHeadTest, ATornRecordIsRewrittenByTheNextCommit) {
  Append(2, "a");
  std::filesystem::resize_file(head_, 30);
  Append(1, "b");
  ASSERT_TRUE(Recorded().has_value());
  EXPECT_EQ(Recorded()->seq, 3);
}

}  // namespace
}  // namespace countersign
