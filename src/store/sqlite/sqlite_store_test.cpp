// What only SqliteStore does: its migrations and file, a corrupt or foreign file refused at
// Open. Everything the Store interface promises is tested on both stores by the suites of
// src/store/sql/ (store_suite_test.cpp, audit_chain_test.cpp, sql_conversations_test.cpp);
// crashes, storage faults and the audit head file have files of their own beside this one.
#include "store/sqlite/sqlite_store.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "testing/raw_database.hpp"
#include "testing/store_test_values.hpp"
#include "testing/temp_dir.hpp"

namespace countersign {
namespace {

using testing::HasText;
using testing::MakeRequest;
using testing::WriteAndWait;

SqliteStoreOptions Options(std::string path, int read_connections = 4, size_t max_queue = 10000) {
  SqliteStoreOptions options;
  options.path = std::move(path);
  options.read_connections = read_connections;
  options.max_queue = max_queue;
  return options;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void TearDown() override { store_.reset(); }

  // Opens store_ (closing any previous one); false with a test failure when it cannot.
  bool OpenStore(int read_connections = 4, size_t max_queue = 10000) {
    store_.reset();
    auto opened = SqliteStore::Open(Options(path_, read_connections, max_queue));
    if (!opened.ok()) {
      ADD_FAILURE() << "Open failed: " << opened.error().message;
      return false;
    }
    store_ = std::move(opened).value();
    return true;
  }

  void Insert(const Request& request) {
    ASSERT_TRUE(
        WriteAndWait(*store_, [&](Transaction& txn) { return txn.InsertRequest(request); }).ok());
  }

  // The first column of the first row of `sql` on the file, behind the store's back.
  std::string RawQuery(const std::string& sql) {
    auto value = testing::RawDatabase::Sqlite(path_).Query(sql);
    EXPECT_TRUE(value.ok()) << value.error().message;
    return value.ok() ? *value : "<error>";
  }

  testing::TempDir dir_;
  const std::string path_ = dir_.File("countersign.db");
  const std::string dir_path_ = dir_.path().string();
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(SqliteStoreTest, MigrationsApplyOnAFreshFileAndRecordTheSchemaVersion) {
  ASSERT_TRUE(OpenStore());
  store_.reset();
  EXPECT_EQ(RawQuery("SELECT group_concat(version || ' ' || name, ', ') FROM "
                     "(SELECT * FROM schema_migrations ORDER BY version)"),
            "1 001_initial.sql, 2 002_lean_request_indexes.sql, "
            "3 003_policies_receipts_grants.sql, 4 004_outbox.sql, 5 005_audit_checkpoint.sql, "
            "6 006_idempotency_expiry.sql, 7 007_conversations.sql, 8 008_structured_answers.sql, "
            "9 009_outbox_lease.sql");
  EXPECT_EQ(RawQuery("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = "
                     "'requests_pending_deadline'"),
            "1");
  EXPECT_EQ(RawQuery("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                     "('requests', 'decisions', 'events', 'principals', 'idempotency')"),
            "5");
  EXPECT_EQ(RawQuery("PRAGMA journal_mode"), "wal");
}

// A corrupt page must stop the server at start, with what to do, not fail request by request.
TEST_F(SqliteStoreTest, ACorruptFileIsRefusedAtOpenUnlessTheCheckIsOff) {
  ASSERT_TRUE(OpenStore());
  for (int i = 0; i < 50; ++i) Insert(MakeRequest("req_" + std::to_string(100 + i)));
  store_->Stop();
  store_.reset();
  const auto size = std::filesystem::file_size(path_);
  ASSERT_GT(size, 8 * 4096u);
  {
    std::fstream file(path_, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(size - 4096));  // the last page
    const std::string junk(4096, '\x5a');
    file.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto refused = SqliteStore::Open(Options(path_));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInternal);
  EXPECT_TRUE(HasText(refused.error().message, "is corrupt")) << refused.error().message;
  EXPECT_TRUE(HasText(refused.error().message, "restore the file from a backup"));

  SqliteStoreOptions unchecked = Options(path_);
  unchecked.check_integrity = false;
  auto opened = SqliteStore::Open(unchecked);
  EXPECT_TRUE(opened.ok()) << "the check is skipped: " << opened.error().message;
}

TEST_F(SqliteStoreTest, AFileThatCannotBeOpenedGivesAnErrorNamingThePath) {
  const std::string bad_path = dir_path_ + "/no/such/dir/countersign.db";
  auto opened = SqliteStore::Open(Options(bad_path));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(HasText(opened.error().message, bad_path));
}

TEST_F(SqliteStoreTest, AFileThatIsNotADatabaseIsRefused) {
  {
    std::FILE* f = std::fopen(path_.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("this is not a database, just some text long enough to fill a header page", f);
    std::fclose(f);
  }
  auto opened = SqliteStore::Open(Options(path_));
  ASSERT_FALSE(opened.ok());
  EXPECT_TRUE(HasText(opened.error().message, path_));
}

}  // namespace
}  // namespace countersign
