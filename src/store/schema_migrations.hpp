// SchemaMigrations: what schema a store's database holds, read without changing it, and what
// this binary knows, for `countersign migrate` and `countersign store copy`.
//
// Applying migrations stays the stores' business (SqliteStore::Open, PgStore::Migrate); this
// only reads the schema_migrations table they keep and the embedded migration sets. Stateless;
// the connection passed in is used by the calling thread only.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "store/migration_set.hpp"
#include "store/sql/sql_connection.hpp"

namespace countersign {

// One row of schema_migrations.
struct AppliedMigration {
  int64_t version = 0;
  std::string name;  // the file's name, "009_outbox_lease.sql"
};

class SchemaMigrations {
 public:
  // The migrations this binary carries for `dialect` (store/migrations/ for SQLite,
  // store/postgres/migrations/ for PostgreSQL).
  static Result<MigrationSet> Known(SqlDialect dialect);

  // The migrations recorded in `db`'s schema_migrations, oldest first; empty when the table
  // does not exist yet (a new database). Reads only.
  static Result<std::vector<AppliedMigration>> Applied(SqlConnection& db);
  // The same, only the versions (what a store's migrator checks against).
  static Result<std::set<int64_t>> AppliedVersions(SqlConnection& db);

  // Ok when every version `applied` records is one this binary knows for `dialect`; otherwise
  // kConflict naming the database's version and the binary's ("use a newer countersign"), for
  // a database a newer countersign already migrated. `what` names the database in the message.
  static Status CheckNotNewer(SqlDialect dialect, const std::vector<AppliedMigration>& applied,
                              const std::string& what);
};

}  // namespace countersign
