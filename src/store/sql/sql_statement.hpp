// SqlStatement: one prepared SQL statement, whichever database runs it (SQLite or PostgreSQL).
//
// The SQL the shared store code writes (store/sql/) uses SQLite's numbered parameters (?1, ?2,
// ...), which the PostgreSQL driver rewrites to $1, $2, .... Values travel as text and 64-bit
// integers; times are Unix milliseconds.
//
// Binding never fails loudly on its own: Bind*() calls return the statement for chaining and
// remember the first bind error, which the next Step() or Run() reports. Nothing throws. Not
// thread-safe: a statement belongs to its connection, and a connection is used by one thread at
// a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "core/result.hpp"

namespace countersign {

class SqlStatement {
 public:
  virtual ~SqlStatement() = default;

  // Parameter indexes are 1-based. Text is copied.
  virtual SqlStatement& BindText(int index, std::string_view value) = 0;
  virtual SqlStatement& BindInt64(int index, int64_t value) = 0;
  virtual SqlStatement& BindNull(int index) = 0;
  SqlStatement& BindOptionalInt64(int index, std::optional<int64_t> value) {
    return value ? BindInt64(index, *value) : BindNull(index);
  }

  // Runs the statement on the first call, then advances: true when a row is available, false
  // when the statement is done.
  virtual Result<bool> Step() = 0;
  // Runs to the end, ignoring rows (for INSERT, UPDATE, DDL, ...).
  virtual Status Run() = 0;

  // Column indexes are 0-based. NULL reads as 0 or as empty text. The text stays valid until
  // the next Step().
  virtual int64_t ColumnInt64(int column) const = 0;
  virtual std::string_view ColumnText(int column) const = 0;
  virtual bool ColumnIsNull(int column) const = 0;

  // For a connection's statement cache: makes a statement the cache lent out ready for the next
  // borrower. Statements the caller owns are destroyed instead (StatementRelease).
  virtual void Release() {}
};

// Deleter for a statement handed out by a connection: a cached statement goes back to its
// connection's cache (Release()); an owned one is destroyed.
struct StatementRelease {
  bool owned = false;
  void operator()(SqlStatement* statement) const {
    if (owned) {
      delete statement;
    } else if (statement != nullptr) {
      statement->Release();
    }
  }
};

// A statement in use. Going out of scope releases it, which for SQLite also ends any implicit
// read transaction it holds open.
using StatementHandle = std::unique_ptr<SqlStatement, StatementRelease>;

}  // namespace countersign
