// The ctest wiring for PostgreSQL tests: a test of store_tests whose name contains "Postgres"
// runs with the pg fixture's server (tests/CMakeLists.txt), and PgTestDatabase gives it a
// database of its own that is gone afterwards.
#include "testing/pg_test_database.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <memory>
#include <string>

namespace countersign {
namespace {

using testing::PgTestDatabase;

struct ConnCloser {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct ResultClearer {
  void operator()(PGresult* result) const { PQclear(result); }
};
using Conn = std::unique_ptr<PGconn, ConnCloser>;

Conn Connect(const std::string& url) {
  Conn conn(PQconnectdb(url.c_str()));
  EXPECT_EQ(PQstatus(conn.get()), CONNECTION_OK) << url << ": " << PQerrorMessage(conn.get());
  return conn;
}

// The one value `sql` returns, or "<error>" (with a test failure).
std::string QueryValue(PGconn* conn, const std::string& sql, const char* param = nullptr) {
  std::unique_ptr<PGresult, ResultClearer> result(
      PQexecParams(conn, sql.c_str(), param ? 1 : 0, nullptr, &param, nullptr, nullptr, 0));
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK || PQntuples(result.get()) != 1) {
    ADD_FAILURE() << sql << ": " << PQerrorMessage(conn);
    return "<error>";
  }
  return PQgetvalue(result.get(), 0, 0);
}

TEST(PostgresFixture, CreatesAndDropsADatabase) {
  auto created = PgTestDatabase::Create();
  ASSERT_TRUE(created.ok()) << created.error().message;
  std::unique_ptr<PgTestDatabase> database = std::move(*created);
  const std::string name = database->name();
  const std::string admin_url = database->admin_url();
  EXPECT_EQ(database->url().substr(database->url().rfind('/') + 1), name);

  {
    Conn conn = Connect(database->url());
    ASSERT_EQ(PQstatus(conn.get()), CONNECTION_OK);
    EXPECT_EQ(QueryValue(conn.get(), "SELECT 1"), "1");
    EXPECT_EQ(QueryValue(conn.get(), "SELECT current_database()"), name);
  }

  // Dropped even with a connection still open on it.
  Conn admin = Connect(admin_url);
  ASSERT_EQ(PQstatus(admin.get()), CONNECTION_OK);
  Conn left_open = Connect(database->url());
  const std::string count = "SELECT count(*) FROM pg_database WHERE datname = $1";
  EXPECT_EQ(QueryValue(admin.get(), count, name.c_str()), "1");
  database.reset();
  EXPECT_EQ(QueryValue(admin.get(), count, name.c_str()), "0");
}

}  // namespace
}  // namespace countersign
