// MigrationSet: a store's schema migrations, the embedded NNN_description.sql files in version
// order (the version is the file name's leading number).
//
// Each store dialect has its own set (SQLite: store/migrations/, PostgreSQL:
// store/postgres/migrations/); how they are applied is the store's business. Immutable.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/embedded_file.hpp"
#include "core/result.hpp"
#include "store/sql/sql_connection.hpp"

namespace countersign {

struct Migration {
  int64_t version;
  std::string name;
  const char* sql;
};

class MigrationSet {
 public:
  // kInternal when a file is misnamed or two share a version.
  static Result<MigrationSet> FromFiles(const EmbeddedFile* files);

  const std::vector<Migration>& migrations() const { return migrations_; }
  // Runs `migration` and records it in schema_migrations on `db`, inside the transaction the
  // caller opened (the caller commits, or rolls back on an error).
  static Status Apply(SqlConnection& db, const Migration& migration);

  // The newest version, 0 when there is none.
  int64_t newest() const { return migrations_.empty() ? 0 : migrations_.back().version; }

 private:
  std::vector<Migration> migrations_;
};

}  // namespace countersign
