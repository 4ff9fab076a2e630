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

// Migration 010 gives the requests resolved before it the reason code their status and
// resolver imply: a store is taken back to migration 9 (what 010 added dropped), old-style rows
// are written, and the next open applies 010 to them.
TEST_F(SqliteStoreTest, MigrationTenGivesEarlierResolutionsTheirReasonCodes) {
  ASSERT_TRUE(OpenStore());
  store_.reset();
  const auto raw = testing::RawDatabase::Sqlite(path_);
  ASSERT_TRUE(raw.Exec("DROP INDEX requests_awaiting_report; DROP TABLE receipt_uses; "
                       "ALTER TABLE requests DROP COLUMN reason_code; "
                       "ALTER TABLE requests DROP COLUMN grant_options; "
                       "ALTER TABLE requests DROP COLUMN receipt_use; "
                       "ALTER TABLE requests DROP COLUMN report_within_ms; "
                       "ALTER TABLE requests DROP COLUMN execution; "
                       "ALTER TABLE grants DROP COLUMN requester; "
                       "DELETE FROM schema_migrations WHERE version = 10")
                  .ok());
  struct Old {
    const char* id;
    const char* status;
    const char* resolved_by;
    const char* on_timeout;
    const char* reason_code;  // what 010 must give it
  };
  const Old rows[] = {
      {"req_01", "approved", R"(["grant:grt_1"])", "expire", "approved_by_grant"},
      {"req_02", "approved", R"(["policy:reads"])", "expire", "approved_by_policy"},
      {"req_03", "approved", R"(["alice"])", "expire", "approved"},
      {"req_04", "denied", R"(["policy:no-friday"])", "expire", "denied_by_policy"},
      {"req_05", "denied", "[]", "deny", "expired"},
      {"req_06", "denied", R"(["bob"])", "expire", "denied_by_person"},
      {"req_07", "cancelled", R"(["ci-bot"])", "expire", "cancelled_by_requester"},
      {"req_08", "cancelled", R"(["root"])", "expire", "cancelled_by_admin"},
      {"req_09", "expired", "[]", "escalate", "escalation_exhausted"},
      {"req_10", "expired", "[]", "expire", "expired"},
      {"req_11", "pending", "[]", "expire", ""},
  };
  for (const Old& row : rows) {
    ASSERT_TRUE(raw.Exec(std::string("INSERT INTO requests (id, tenant, kind, action, title, "
                                     "details, arguments, arguments_sha256, requester, status, "
                                     "choices, approvers, quorum, policy, risk, created_at, "
                                     "deadline_at, on_timeout, notify, resolved_by) VALUES ('") +
                         row.id + "', 'default', 'approval', 'deploy', 't', '{}', '{}', 'h', " +
                         "'ci-bot', '" + row.status + "', '[]', '[]', 1, 'default', 'normal', " +
                         "0, 0, '" + row.on_timeout + "', '[]', '" + row.resolved_by + "')")
                    .ok())
        << row.id;
  }
  ASSERT_TRUE(OpenStore());
  for (const Old& row : rows) {
    auto stored = store_->GetRequest("default", row.id);
    ASSERT_TRUE(stored.ok() && stored->has_value()) << row.id;
    EXPECT_EQ(ReasonCodeName((*stored)->reason_code), std::string(row.reason_code)) << row.id;
    EXPECT_TRUE((*stored)->grant_options.empty()) << row.id;
    EXPECT_EQ((*stored)->receipt_use, "reusable") << row.id;
  }
}

TEST_F(SqliteStoreTest, MigrationsApplyOnAFreshFileAndRecordTheSchemaVersion) {
  ASSERT_TRUE(OpenStore());
  store_.reset();
  EXPECT_EQ(RawQuery("SELECT group_concat(version || ' ' || name, ', ') FROM "
                     "(SELECT * FROM schema_migrations ORDER BY version)"),
            "1 001_initial.sql, 2 002_lean_request_indexes.sql, "
            "3 003_policies_receipts_grants.sql, 4 004_outbox.sql, 5 005_audit_checkpoint.sql, "
            "6 006_idempotency_expiry.sql, 7 007_conversations.sql, 8 008_structured_answers.sql, "
            "9 009_outbox_lease.sql, 10 010_closing_the_loop.sql, 11 011_pending_reminders.sql, "
            "12 012_api_query_indexes.sql, 13 013_list_filter_indexes.sql");
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
