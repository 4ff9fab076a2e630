#include "store/schema_migrations.hpp"

#include "core/embedded_file.hpp"

namespace countersign {

// Generated from src/store/migrations/*.sql and src/store/postgres/migrations/*.sql by
// countersign_embed (CMakeLists.txt).
extern const EmbeddedFile kMigrationFiles[];
extern const EmbeddedFile kPgMigrationFiles[];

Result<MigrationSet> SchemaMigrations::Known(SqlDialect dialect) {
  return MigrationSet::FromFiles(dialect == SqlDialect::kSqlite ? kMigrationFiles
                                                                : kPgMigrationFiles);
}

Result<std::vector<AppliedMigration>> SchemaMigrations::Applied(SqlConnection& db) {
  std::vector<AppliedMigration> applied;
  {
    // Asked first so that a new database is not an error (and nothing is created in it).
    auto exists = db.Prepare(
        db.dialect() == SqlDialect::kSqlite
            ? "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = "
              "'schema_migrations'"
            : "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() "
              "AND tablename = 'schema_migrations'");
    if (!exists.ok()) return std::move(exists).error();
    auto row = (*exists)->Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row || (*exists)->ColumnInt64(0) == 0) return applied;
  }
  auto rows = db.Prepare("SELECT version, name FROM schema_migrations ORDER BY version");
  if (!rows.ok()) return std::move(rows).error();
  for (;;) {
    auto row = (*rows)->Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return applied;
    applied.push_back({(*rows)->ColumnInt64(0), std::string((*rows)->ColumnText(1))});
  }
}

Result<std::set<int64_t>> SchemaMigrations::AppliedVersions(SqlConnection& db) {
  auto applied = Applied(db);
  if (!applied.ok()) return std::move(applied).error();
  std::set<int64_t> versions;
  for (const auto& m : *applied) versions.insert(m.version);
  return versions;
}

Status SchemaMigrations::CheckNotNewer(SqlDialect dialect,
                                       const std::vector<AppliedMigration>& applied,
                                       const std::string& what) {
  auto known = Known(dialect);
  if (!known.ok()) return std::move(known).error();
  if (applied.empty() || applied.back().version <= known->newest()) return Ok();
  return Error::Conflict(what + ": its schema version " + std::to_string(applied.back().version) +
                         " is newer than this binary supports (" + std::to_string(known->newest()) +
                         "); use a newer countersign");
}

}  // namespace countersign
