#include "store/sqlite/sqlite_statement.hpp"

#include <sqlite3.h>

namespace countersign {

Error SqliteError(int rc, std::string_view context, std::string_view message) {
  std::string text(context);
  text += ": ";
  text += message;
  text += " (";
  text += sqlite3_errstr(rc);
  text += ")";
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
    case SQLITE_NOLFS:
      return Error::Unavailable(std::move(text));
    default:
      return Error::Internal(std::move(text));
  }
}

Error SqliteError(int rc, std::string_view context, sqlite3* db) {
  return SqliteError(rc, context, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

bool IsStorageFault(int rc) {
  const int primary = rc & 0xff;
  return primary == SQLITE_IOERR || primary == SQLITE_CORRUPT;
}

void NoteStorageFault(int* sink, int rc) {
  if (sink != nullptr && *sink == SQLITE_OK && IsStorageFault(rc)) *sink = rc;
}

Result<std::unique_ptr<SqliteStatement>> SqliteStatement::Prepare(sqlite3* db, std::string_view sql,
                                                                  int* fault_sink) {
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
  if (rc != SQLITE_OK) {
    NoteStorageFault(fault_sink, rc);
    return SqliteError(rc, "cannot prepare \"" + std::string(sql) + "\"", db);
  }
  if (stmt == nullptr) {
    return Error::Internal("cannot prepare \"" + std::string(sql) + "\": no statement");
  }
  return std::unique_ptr<SqliteStatement>(
      new SqliteStatement(db, stmt, std::string(sql), fault_sink));
}

SqliteStatement::SqliteStatement(sqlite3* db, sqlite3_stmt* stmt, std::string sql, int* fault_sink)
    : db_(db), fault_sink_(fault_sink), stmt_(stmt), sql_(std::move(sql)) {}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }

void SqliteStatement::NoteBind(int rc, int index) {
  if (rc == SQLITE_OK || bind_error_) return;
  bind_error_ = SqliteError(
      rc, "cannot bind parameter " + std::to_string(index) + " of \"" + sql_ + "\"", db_);
}

SqliteStatement& SqliteStatement::BindText(int index, std::string_view value) {
  NoteBind(
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
      index);
  return *this;
}

SqliteStatement& SqliteStatement::BindInt64(int index, int64_t value) {
  NoteBind(sqlite3_bind_int64(stmt_, index, value), index);
  return *this;
}

SqliteStatement& SqliteStatement::BindNull(int index) {
  NoteBind(sqlite3_bind_null(stmt_, index), index);
  return *this;
}

Result<bool> SqliteStatement::Step() {
  if (bind_error_) return *bind_error_;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  NoteStorageFault(fault_sink_, rc);
  return SqliteError(rc, "\"" + sql_ + "\" failed", db_);
}

Status SqliteStatement::Run() {
  for (;;) {
    auto row = Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return Ok();
  }
}

int64_t SqliteStatement::ColumnInt64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::string_view SqliteStatement::ColumnText(int column) const {
  // text first, then bytes: the order SQLite documents for a stable pointer and length.
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (text == nullptr) return {};
  return std::string_view(text, static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

bool SqliteStatement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

void SqliteStatement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_.reset();
}

bool SqliteStatement::TryAcquire() {
  if (in_use_) return false;
  in_use_ = true;
  return true;
}

void SqliteStatement::Release() {
  Reset();
  in_use_ = false;
}

}  // namespace countersign
