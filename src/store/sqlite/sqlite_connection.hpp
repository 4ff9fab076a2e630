// SqliteConnection: an RAII `sqlite3*` with a cache of prepared statements.
//
// Statements prepared through Prepare() are compiled once per connection and reused; the
// handle it returns resets the statement when it goes out of scope. Errors come back as
// Status/Result (see SqliteError); nothing throws. Not thread-safe: a connection is used by
// one thread at a time (SqliteStore hands each one to a single thread: the writer, or a reader
// holding it from the pool).
//
// The connection remembers the first storage fault (IsStorageFault: an I/O error or
// corruption) that any of its statements met, even when the caller handled the error itself,
// so the writer can tell a failed fsync from a full disk after the fact.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "store/sql/sql_connection.hpp"
#include "store/sqlite/sqlite_statement.hpp"

struct sqlite3;

namespace countersign {

class SqliteConnection final : public SqlConnection {
 public:
  // Opens `path` with sqlite3_open_v2 `flags` (SQLITE_OPEN_*) through the VFS named `vfs`
  // (the default one when empty); extended result codes on.
  static Result<std::unique_ptr<SqliteConnection>> Open(const std::string& path, int flags,
                                                        const std::string& vfs = "");

  // Finalizes the cached statements, then closes the connection.
  ~SqliteConnection() override;
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  // Runs one or more statements, discarding any rows (schema scripts, pragmas). Uncached.
  Status Exec(std::string_view sql) override;

  // A cached, reset statement for `sql`. When the cached one is already in use (a nested
  // query with the same text), a fresh uncached statement is returned instead.
  Result<StatementHandle> Prepare(std::string_view sql) override;

  // Rows changed by the most recent INSERT, UPDATE or DELETE.
  int64_t Changes() const override;
  SqlDialect dialect() const override { return SqlDialect::kSqlite; }
  Status BeginSnapshot() override;
  // The rowid of the most recent successful INSERT on this connection.
  int64_t LastInsertRowId() const;

  // True while a transaction is open (not in autocommit mode).
  bool InTransaction() const;

  // The first storage fault (an extended SQLite result code) met since the last call, or
  // SQLITE_OK (0); clears it.
  int TakeStorageFault();

  sqlite3* handle() { return db_; }

 private:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  int storage_fault_ = 0;  // SQLITE_OK, or the first IsStorageFault code since TakeStorageFault
  std::map<std::string, std::unique_ptr<SqliteStatement>, std::less<>> cache_;
};

}  // namespace countersign
