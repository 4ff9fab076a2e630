// SqlitePageCache: commits that have nothing past the end of the database to drop skip the
// default cache's truncate, and every case where pages may have to go (a rollback of a
// transaction that grew the file, another connection's commit, a VACUUM that shrank the file)
// still reaches it, with the data and the file intact afterwards.
#include "store/sqlite/sqlite_page_cache.hpp"

#include <map>
#include <memory>
#include <random>
#include <string>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "store/sqlite/sqlite_connection.hpp"
#include "testing/temp_dir.hpp"

namespace countersign {
namespace {

constexpr int kOpenFlags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;

class SqlitePageCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = SqliteConnection::Open(dir_.File("t.db"), kOpenFlags);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    db_ = std::move(opened).value();
    ASSERT_TRUE(SqlitePageCache::Installed())
        << "SqliteConnection::Open installs the page cache before SQLite initialises";
    ASSERT_TRUE(db_->Exec("PRAGMA journal_mode = WAL; PRAGMA cache_size = -65536; "
                          "CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID; "
                          "CREATE INDEX t_v ON t (v);")
                    .ok());
  }

  std::string RandomText(size_t min, size_t max) {
    std::uniform_int_distribution<size_t> length(min, max);
    std::uniform_int_distribution<int> letter('a', 'z');
    std::string text(length(random_), ' ');
    for (char& c : text) c = static_cast<char>(letter(random_));
    return text;
  }

  void Put(SqliteConnection& db, const std::string& k, const std::string& v) {
    auto insert = db.Prepare("INSERT OR REPLACE INTO t (k, v) VALUES (?, ?)");
    ASSERT_TRUE(insert.ok());
    ASSERT_TRUE((*insert)->BindText(1, k).BindText(2, v).Run().ok());
  }

  // `count` random rows in one transaction, recorded in the model when it commits.
  void InsertBatch(int count, bool commit = true) {
    ASSERT_TRUE(db_->Exec("BEGIN IMMEDIATE").ok());
    std::map<std::string, std::string> added;
    for (int i = 0; i < count; ++i) {
      std::string k = RandomText(8, 40);
      std::string v = RandomText(20, 600);
      Put(*db_, k, v);
      added[k] = v;
    }
    ASSERT_TRUE(db_->Exec(commit ? "COMMIT" : "ROLLBACK").ok());
    if (commit) {
      for (auto& [k, v] : added) model_[k] = v;
    }
  }

  // The table and the model hold the same rows, and SQLite finds the file sound.
  void ExpectIntact(SqliteConnection& db) {
    std::map<std::string, std::string> stored;
    auto rows = db.Prepare("SELECT k, v FROM t ORDER BY k");
    ASSERT_TRUE(rows.ok());
    for (;;) {
      auto row = (*rows)->Step();
      ASSERT_TRUE(row.ok()) << row.error().message;
      if (!*row) break;
      stored.emplace((*rows)->ColumnText(0), (*rows)->ColumnText(1));
    }
    EXPECT_EQ(stored.size(), model_.size());
    EXPECT_TRUE(stored == model_) << "the table differs from what was committed";
    auto check = db.Prepare("PRAGMA integrity_check");
    ASSERT_TRUE(check.ok());
    auto row = (*check)->Step();
    ASSERT_TRUE(row.ok() && *row);
    EXPECT_EQ((*check)->ColumnText(0), "ok");
  }

  int64_t PageCount(SqliteConnection& db) {
    auto count = db.Prepare("PRAGMA page_count");
    EXPECT_TRUE(count.ok());
    auto row = (*count)->Step();
    EXPECT_TRUE(row.ok() && *row);
    return (*count)->ColumnInt64(0);
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteConnection> db_;
  std::map<std::string, std::string> model_;
  std::mt19937 random_{20261205};
};

TEST_F(SqlitePageCacheTest, CommitsThatOnlyGrowTheFileSkipTheTruncate) {
  InsertBatch(3000);
  // Free pages in the middle of the file, so that later splits take pages of any number and
  // rebalances reorder (swap) them.
  ASSERT_TRUE(db_->Exec("DELETE FROM t WHERE k < 'm'").ok());
  std::erase_if(model_, [](const auto& row) { return row.first < "m"; });

  const auto before = SqlitePageCache::Totals();
  constexpr int kCommits = 200;
  for (int i = 0; i < kCommits; ++i) InsertBatch(25);
  const auto after = SqlitePageCache::Totals();

  // Every commit truncates the cache to the file's size; with only new pages past the old end
  // (now inside the file) there is nothing to drop and nothing to pass on.
  EXPECT_GE(after.skipped - before.skipped, static_cast<uint64_t>(kCommits) * 9 / 10);
  ExpectIntact(*db_);
}

TEST_F(SqlitePageCacheTest, RollbackOfAGrowingTransactionDropsItsPages) {
  InsertBatch(500);
  const int64_t pages = PageCount(*db_);
  const auto before = SqlitePageCache::Totals();
  InsertBatch(2000, /*commit=*/false);  // grows the file, then rolls back
  const auto after = SqlitePageCache::Totals();

  EXPECT_GT(after.passed_on, before.passed_on)
      << "the pages past the old end were in the cache: the truncate must reach it";
  EXPECT_EQ(PageCount(*db_), pages);
  ExpectIntact(*db_);
  InsertBatch(100);  // and the connection goes on writing
  ExpectIntact(*db_);
}

TEST_F(SqlitePageCacheTest, AnotherConnectionsCommitsAreSeen) {
  InsertBatch(500);
  ExpectIntact(*db_);  // the cache is warm

  auto other = SqliteConnection::Open(dir_.File("t.db"), kOpenFlags);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->Exec("BEGIN IMMEDIATE").ok());
  for (int i = 0; i < 1000; ++i) {
    std::string k = "other-" + std::to_string(i);
    std::string v = RandomText(50, 300);
    Put(**other, k, v);
    model_[k] = v;
  }
  ASSERT_TRUE((*other)->Exec("COMMIT").ok());

  ExpectIntact(*db_);  // reads the other connection's rows, not stale cached pages
  InsertBatch(200);    // then writes on top of them
  ExpectIntact(**other);
}

TEST_F(SqlitePageCacheTest, AFileThatShrinksKeepsItsData) {
  InsertBatch(3000);
  ASSERT_TRUE(db_->Exec("DELETE FROM t WHERE k < 't'").ok());
  std::erase_if(model_, [](const auto& row) { return row.first < "t"; });
  const int64_t pages = PageCount(*db_);
  const auto before = SqlitePageCache::Totals();
  ASSERT_TRUE(db_->Exec("VACUUM").ok());
  EXPECT_LT(PageCount(*db_), pages);
  // Its pages past the new, smaller end were cached below the tracked floor: the truncate that
  // drops them must reach the default cache.
  EXPECT_GT(SqlitePageCache::Totals().passed_on, before.passed_on);
  ExpectIntact(*db_);
  InsertBatch(300);
  ExpectIntact(*db_);
}

}  // namespace
}  // namespace countersign
