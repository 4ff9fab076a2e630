// StoreTarget: a store's database as `--store` names it (sqlite:PATH or postgres://...), for
// the commands that work on the database itself instead of through a server: `countersign
// migrate` and `countersign store copy`.
//
// It reads the schema a database holds, migrates it (SqliteStore::Open then Stop for SQLite,
// PgStore::Migrate for PostgreSQL), opens raw connections and opens it as a Store. Errors:
// kConflict when the database's schema is newer than this binary (a refusal), kNotFound for a
// SQLite file that must exist and does not, kUnavailable when the database cannot be reached
// or opened, kInternal when a migration fails. Immutable; each call opens connections of its
// own, so a StoreTarget may be used from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/server_config.hpp"
#include "core/result.hpp"
#include "store/schema_migrations.hpp"
#include "store/sql/sql_connection.hpp"
#include "store/store.hpp"

namespace countersign {

// What Migrate() did.
struct MigrateOutcome {
  std::vector<AppliedMigration> applied;  // the migrations it applied, oldest first
  int64_t version = 0;                    // the schema version the database is at now
};

class StoreTarget {
 public:
  // The store `config` names (--store, COUNTERSIGN_STORE or the file's [server] store).
  static StoreTarget FromConfig(const ServerConfig& config);
  // The store a command on the server host works on: `store` (--store), else the [server]
  // store of the `config` file, else the server's default. A bad file or value is
  // kUnavailable, "configuration error: ...".
  static Result<StoreTarget> FromOptions(const std::optional<std::string>& store,
                                         const std::optional<std::string>& config);
  // `text` as --store takes it; kUnavailable naming `option` (a usage error) when it is
  // neither form.
  static Result<StoreTarget> Parse(const std::string& text, const std::string& option);

  SqlDialect dialect() const { return url_.empty() ? SqlDialect::kSqlite : SqlDialect::kPostgres; }
  // "sqlite:PATH", or the PostgreSQL URL with its password replaced by "***".
  std::string Describe() const;

  // What the database's schema_migrations records, changing nothing; empty for a database
  // that has none yet (a SQLite file that does not exist, a new PostgreSQL database).
  Result<std::vector<AppliedMigration>> Applied() const;

  // Applies the migrations the database lacks (creating a SQLite file that does not exist),
  // after refusing one whose schema is newer than this binary (kConflict, nothing changed).
  Result<MigrateOutcome> Migrate() const;

  // A raw connection. `read_only`: SQLite opens the file read-only (it must exist:
  // kNotFound otherwise); PostgreSQL's reads go through SqlConnection::BeginSnapshot, which
  // is read-only there.
  Result<std::unique_ptr<SqlConnection>> Connect(bool read_only) const;

  // The database as a Store (already migrated), for reads; the caller Stop()s it.
  Result<std::unique_ptr<Store>> OpenStore() const;

 private:
  StoreTarget(std::string path, std::string url) : path_(std::move(path)), url_(std::move(url)) {}

  std::string path_;  // SQLite: the file; empty for PostgreSQL
  std::string url_;   // PostgreSQL: the URL; empty for SQLite
};

}  // namespace countersign
