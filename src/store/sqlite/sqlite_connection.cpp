#include "store/sqlite/sqlite_connection.hpp"

#include <mutex>
#include <utility>

#include <sqlite3.h>

#include "store/sqlite/sqlite_page_cache.hpp"

namespace countersign {
namespace {

// Process-wide settings, before SQLite initialises itself on the first open: no memory
// statistics (nothing reads them, and keeping them takes a global mutex on every allocation
// of every connection), and the page cache that does not walk itself at every commit
// (SqlitePageCache).
void ConfigureSqliteOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    SqlitePageCache::Install();
  });
}

}  // namespace

Result<std::unique_ptr<SqliteConnection>> SqliteConnection::Open(const std::string& path, int flags,
                                                                 const std::string& vfs) {
  ConfigureSqliteOnce();
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, vfs.empty() ? nullptr : vfs.c_str());
  if (rc != SQLITE_OK) {
    Error error = SqliteError(rc, "cannot open database \"" + path + "\"", db);
    // sqlite3_open_v2 hands back a handle even on failure, and it must be closed.
    sqlite3_close_v2(db);
    return error;
  }
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<SqliteConnection>(new SqliteConnection(db));
}

SqliteConnection::~SqliteConnection() {
  cache_.clear();
  sqlite3_close_v2(db_);
}

Status SqliteConnection::Exec(std::string_view sql) {
  std::string text(sql);
  char* message = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    NoteStorageFault(&storage_fault_, rc);
    Error error = SqliteError(rc, "\"" + text + "\" failed",
                              message ? std::string_view(message) : sqlite3_errmsg(db_));
    sqlite3_free(message);
    return error;
  }
  return Ok();
}

Result<StatementHandle> SqliteConnection::Prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    auto prepared = SqliteStatement::Prepare(db_, sql, &storage_fault_);
    if (!prepared.ok()) return std::move(prepared).error();
    it = cache_.emplace(std::string(sql), std::move(prepared).value()).first;
  }
  if (it->second->TryAcquire()) return StatementHandle(it->second.get(), StatementRelease{});
  auto fresh = SqliteStatement::Prepare(db_, sql, &storage_fault_);
  if (!fresh.ok()) return std::move(fresh).error();
  return StatementHandle(std::move(fresh).value().release(), StatementRelease{.owned = true});
}

Status SqliteConnection::BeginSnapshot() { return Run("BEGIN"); }

int64_t SqliteConnection::Changes() const { return sqlite3_changes64(db_); }

int64_t SqliteConnection::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }

bool SqliteConnection::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

int SqliteConnection::TakeStorageFault() { return std::exchange(storage_fault_, SQLITE_OK); }

}  // namespace countersign
