// RawDatabase: SQL run on a store's database behind the store's back, over a connection of its
// own, as an attacker or an operator with shell access would: the tests that tamper with rows,
// or look at what a store wrote, use it on SQLite and PostgreSQL alike.
//
// Sqlite(path) opens the file for each call (waiting up to 5 s for the store's writer);
// Postgres(url) connects with libpq for each call. Exec() runs statements that return no rows;
// Query() returns the first column of the first row as text ("<none>" without a row, "NULL"
// for NULL). Errors: kUnavailable when the database cannot be opened or reached, kInternal with
// the database's message when it refuses the SQL. Immutable after construction: any thread.
#pragma once

#include <string>

#include "core/result.hpp"

namespace countersign::testing {

class RawDatabase {
 public:
  static RawDatabase Sqlite(std::string path) {
    return RawDatabase(Kind::kSqlite, std::move(path));
  }
  static RawDatabase Postgres(std::string url) {
    return RawDatabase(Kind::kPostgres, std::move(url));
  }

  Status Exec(const std::string& sql) const;
  Result<std::string> Query(const std::string& sql) const;

 private:
  enum class Kind { kSqlite, kPostgres };
  RawDatabase(Kind kind, std::string where) : kind_(kind), where_(std::move(where)) {}

  Kind kind_;
  std::string where_;  // the file's path or the database's URL
};

}  // namespace countersign::testing
