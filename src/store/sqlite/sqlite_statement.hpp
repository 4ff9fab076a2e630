// SqliteStatement: an RAII SQLite prepared statement, the SqlStatement of SqliteConnection.
//
// Binding never fails loudly on its own: Bind*() calls return the statement for chaining and
// remember the first bind error, which the next Step() or Run() reports. Nothing throws.
// Not thread-safe: a statement belongs to its connection, and a connection is used by one
// thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "store/sql/sql_statement.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace countersign {

// Turns a SQLite result code into an Error that names `context` and SQLite's message:
// kUnavailable for what the environment causes (busy, locked, I/O, full disk, cannot open,
// out of memory, read-only file), kInternal for everything else. Whether an I/O error also
// stops the store's writer is SqliteStore's decision (see IsStorageFault).
Error SqliteError(int rc, std::string_view context, std::string_view message);

// The same, taking the message from the connection's last error.
Error SqliteError(int rc, std::string_view context, sqlite3* db);

// True for the result codes after which what a connection wrote can no longer be trusted to
// be on disk: any SQLITE_IOERR_* (a failed write or fsync leaves the file in an unknown state;
// retrying the fsync would report success for pages the kernel has already dropped) and
// SQLITE_CORRUPT. SQLITE_FULL is not one: the transaction rolls back cleanly.
bool IsStorageFault(int rc);

class SqliteStatement final : public SqlStatement {
 public:
  // Compiles one SQL statement on `db`; the statement must not outlive the connection.
  // `fault_sink`, when given, receives the first storage fault (IsStorageFault) that preparing
  // or stepping this statement meets, unless it already holds one; it must outlive the
  // statement.
  static Result<std::unique_ptr<SqliteStatement>> Prepare(sqlite3* db, std::string_view sql,
                                                          int* fault_sink = nullptr);

  ~SqliteStatement() override;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  // Parameter indexes are 1-based, as in SQLite. Text is copied.
  SqliteStatement& BindText(int index, std::string_view value) override;
  SqliteStatement& BindInt64(int index, int64_t value) override;
  SqliteStatement& BindNull(int index) override;

  // Advances: true when a row is available, false when the statement is done.
  Result<bool> Step() override;
  // Steps until done, ignoring rows (for INSERT, UPDATE, DDL, ...).
  Status Run() override;

  // Column indexes are 0-based. NULL reads as 0 or as empty text.
  int64_t ColumnInt64(int column) const override;
  std::string_view ColumnText(int column) const override;
  bool ColumnIsNull(int column) const override;

  // Makes the statement ready to run again: resets it, clears bindings and any bind error.
  void Reset();

  // For a connection's statement cache: marks the statement as handed out, false when it
  // already is; Release() resets it and makes it available again.
  bool TryAcquire();
  void Release() override;

  const std::string& sql() const { return sql_; }

 private:
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt, std::string sql, int* fault_sink);
  void NoteBind(int rc, int index);

  sqlite3* db_;
  int* fault_sink_;
  sqlite3_stmt* stmt_;
  std::string sql_;
  std::optional<Error> bind_error_;
  bool in_use_ = false;
};

// Records `rc` in `*sink` when it is the first storage fault there (a null sink is ignored).
void NoteStorageFault(int* sink, int rc);

}  // namespace countersign
