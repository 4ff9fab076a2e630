// SqlConnection: one connection to the store's database, SQLite or PostgreSQL, as the shared
// store code (store/sql/) sees it: prepare, run, and the few places where the two dialects
// differ.
//
// Errors come back as Status/Result; nothing throws. Not thread-safe: a connection is used by
// one thread at a time (each store hands a connection to a single thread at once).
#pragma once

#include <cstdint>
#include <string_view>

#include "core/result.hpp"
#include "store/sql/sql_statement.hpp"

namespace countersign {

enum class SqlDialect { kSqlite, kPostgres };

class SqlConnection {
 public:
  virtual ~SqlConnection() = default;

  virtual SqlDialect dialect() const = 0;

  // Runs one or more statements without parameters, discarding any rows (schema scripts).
  virtual Status Exec(std::string_view sql) = 0;

  // A statement for `sql` (with ?N parameters), ready to bind.
  virtual Result<StatementHandle> Prepare(std::string_view sql) = 0;

  // Prepare() and Run() in one: for statements without parameters or rows (BEGIN, COMMIT...).
  Status Run(std::string_view sql) {
    auto statement = Prepare(sql);
    if (!statement.ok()) return std::move(statement).error();
    return (*statement)->Run();
  }

  // Rows changed by the most recent INSERT, UPDATE or DELETE.
  virtual int64_t Changes() const = 0;

  // Starts a read-only transaction whose queries all see one snapshot; COMMIT or ROLLBACK ends
  // it.
  virtual Status BeginSnapshot() = 0;
};

}  // namespace countersign
