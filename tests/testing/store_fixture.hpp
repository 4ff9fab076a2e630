// StoreFixture: the fixture of the store suites that run against both stores, value-
// parameterised over StoreKind.
//
// Instantiate a suite twice, `INSTANTIATE_TEST_SUITE_P(Sqlite, Suite, Values(kSqlite))` and
// `(Postgres, Suite, Values(kPostgres))`: ctest gives the tests whose names contain "Postgres"
// the pg fixture's server (tests/CMakeLists.txt). SetUp() makes the test's database, a file in
// a temporary directory or a fresh PgTestDatabase, and OpenStore() opens a SqliteStore or a
// PgStore on it; opening again closes the old store first, so re-opening is a restart on the
// same data. Raw() reaches the database behind the store's back (RawDatabase).
//
// Header-only: the store tests link the store. Not thread-safe (a test's main thread); store_
// itself is.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "core/result.hpp"
#include "store/postgres/pg_store.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/store.hpp"
#include "testing/pg_test_database.hpp"
#include "testing/raw_database.hpp"
#include "testing/temp_dir.hpp"

namespace countersign::testing {

enum class StoreKind { kSqlite, kPostgres };
inline constexpr StoreKind kSqlite = StoreKind::kSqlite;
inline constexpr StoreKind kPostgres = StoreKind::kPostgres;

inline void PrintTo(StoreKind kind, std::ostream* out) {
  *out << (kind == StoreKind::kSqlite ? "SQLite" : "PostgreSQL");
}

class StoreFixture : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    if (GetParam() == StoreKind::kPostgres) {
      auto created = PgTestDatabase::Create();
      ASSERT_TRUE(created.ok()) << created.error().message;
      database_ = std::move(created).value();
      raw_.emplace(RawDatabase::Postgres(database_->url()));
    } else {
      dir_.emplace();
      raw_.emplace(RawDatabase::Sqlite(dir_->File("countersign.db")));
    }
  }
  void TearDown() override { store_.reset(); }

  bool postgres() const { return GetParam() == StoreKind::kPostgres; }

  // A new store on the test's database (store_ is left alone).
  Result<std::unique_ptr<Store>> Open(int read_connections = 4, size_t max_queue = 10000) {
    if (postgres()) {
      PgStoreOptions options;
      options.url = database_->url();
      options.read_connections = read_connections;
      options.max_queue = max_queue;
      auto opened = PgStore::Open(options);
      if (!opened.ok()) return std::move(opened).error();
      return std::unique_ptr<Store>(std::move(opened).value());
    }
    SqliteStoreOptions options;
    options.path = dir_->File("countersign.db");
    options.read_connections = read_connections;
    options.max_queue = max_queue;
    auto opened = SqliteStore::Open(options);
    if (!opened.ok()) return std::move(opened).error();
    return std::unique_ptr<Store>(std::move(opened).value());
  }

  // Opens store_ (closing any previous one); false with a test failure when it cannot.
  bool OpenStore(int read_connections = 4, size_t max_queue = 10000) {
    store_.reset();
    auto opened = Open(read_connections, max_queue);
    if (!opened.ok()) {
      ADD_FAILURE() << "Open failed: " << opened.error().message;
      return false;
    }
    store_ = std::move(opened).value();
    return true;
  }

  const RawDatabase& Raw() const { return *raw_; }
  // Runs `sql` behind the store's back; a test failure when the database refuses it.
  void RawExec(const std::string& sql) {
    Status status = Raw().Exec(sql);
    EXPECT_TRUE(status.ok()) << status.error().message;
  }
  // The first column of the first row of `sql` ("<none>" without a row, "<error>" with a test
  // failure when the database refuses it).
  std::string RawQuery(const std::string& sql) {
    auto value = Raw().Query(sql);
    EXPECT_TRUE(value.ok()) << value.error().message;
    return value.ok() ? *value : "<error>";
  }

  std::optional<TempDir> dir_;                // SQLite
  std::unique_ptr<PgTestDatabase> database_;  // PostgreSQL
  std::optional<RawDatabase> raw_;
  std::unique_ptr<Store> store_;
};

}  // namespace countersign::testing
