#include "cli/store_target.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <set>
#include <utility>

#include "store/postgres/pg_connection.hpp"
#include "store/postgres/pg_store.hpp"
#include "store/sqlite/sqlite_connection.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace countersign {
namespace {

constexpr char kApplicationName[] = "countersign-cli";

Error Prefixed(std::string_view prefix, Error error) {
  error.message = std::string(prefix) + ": " + error.message;
  return error;
}

bool FileExists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

}  // namespace

Result<StoreTarget> StoreTarget::FromOptions(const std::optional<std::string>& store,
                                             const std::optional<std::string>& config) {
  ServeOptions options;
  options.Give("config", config);
  options.Give("store", store);
  auto loaded = LoadServerConfig(options);
  if (!loaded.ok()) {
    return Error::Unavailable("configuration error: " + loaded.error().message);
  }
  return FromConfig(*loaded);
}

StoreTarget StoreTarget::FromConfig(const ServerConfig& config) {
  return StoreTarget(config.store_url.empty() ? config.store_path : "", config.store_url);
}

Result<StoreTarget> StoreTarget::Parse(const std::string& text, const std::string& option) {
  // The same reading of the value as `serve --store` (config/server_settings.cpp).
  ServeOptions options;
  options.Give("store", text);
  auto config = LoadServerConfig(options);
  if (!config.ok()) {
    return Error::Unavailable(
        option + " must be sqlite:PATH or postgres://USER@HOST/DATABASE, not '" + text + "'");
  }
  return FromConfig(*config);
}

std::string StoreTarget::Describe() const {
  return url_.empty() ? "sqlite:" + path_ : RedactedStoreUrl(url_);
}

Result<std::vector<AppliedMigration>> StoreTarget::Applied() const {
  if (url_.empty() && !FileExists(path_)) return std::vector<AppliedMigration>{};
  auto db = Connect(/*read_only=*/true);
  if (!db.ok()) return std::move(db).error();
  auto applied = SchemaMigrations::Applied(**db);
  if (!applied.ok()) return Prefixed(Describe(), std::move(applied).error());
  return applied;
}

Result<MigrateOutcome> StoreTarget::Migrate() const {
  auto before = Applied();
  if (!before.ok()) return std::move(before).error();
  CS_RETURN_IF_ERROR(SchemaMigrations::CheckNotNewer(dialect(), *before, Describe()));
  if (!url_.empty()) {
    auto migrated = PgStore::Migrate(url_);
    if (!migrated.ok()) return Prefixed(Describe(), std::move(migrated).error());
  } else {
    // Opening a SqliteStore is how SQLite migrates; nothing else is written.
    SqliteStoreOptions options;
    options.path = path_;
    options.read_connections = 1;
    auto store = SqliteStore::Open(options);
    if (!store.ok()) return Prefixed(Describe(), std::move(store).error());
    (*store)->Stop();
  }
  auto after = Applied();
  if (!after.ok()) return std::move(after).error();
  std::set<int64_t> had;
  for (const auto& migration : *before) had.insert(migration.version);
  MigrateOutcome outcome;
  for (const auto& migration : *after) {
    if (!had.contains(migration.version)) outcome.applied.push_back(migration);
  }
  outcome.version = after->empty() ? 0 : after->back().version;
  return outcome;
}

Result<std::unique_ptr<SqlConnection>> StoreTarget::Connect(bool read_only) const {
  if (!url_.empty()) {
    auto db = PgConnection::Open(url_, kApplicationName);
    if (!db.ok()) return Prefixed(Describe(), std::move(db).error());
    return std::unique_ptr<SqlConnection>(std::move(db).value());
  }
  if (read_only && !FileExists(path_)) {
    return Error::NotFound(Describe() + ": no such file");
  }
  auto db = SqliteConnection::Open(
      path_, read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!db.ok()) return Prefixed(Describe(), std::move(db).error());
  CS_RETURN_IF_ERROR((*db)->Exec("PRAGMA busy_timeout = 5000"));
  return std::unique_ptr<SqlConnection>(std::move(db).value());
}

Result<std::unique_ptr<Store>> StoreTarget::OpenStore() const {
  if (!url_.empty()) {
    PgStoreOptions options;
    options.url = url_;
    options.read_connections = 2;
    auto store = PgStore::Open(options);
    if (!store.ok()) return Prefixed(Describe(), std::move(store).error());
    return std::unique_ptr<Store>(std::move(store).value());
  }
  SqliteStoreOptions options;
  options.path = path_;
  options.read_connections = 2;
  auto store = SqliteStore::Open(options);
  if (!store.ok()) return Prefixed(Describe(), std::move(store).error());
  return std::unique_ptr<Store>(std::move(store).value());
}

}  // namespace countersign
