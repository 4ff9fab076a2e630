#include "testing/raw_database.hpp"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <memory>

namespace countersign::testing {
namespace {

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
struct StatementFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
struct ConnCloser {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct ResultClearer {
  void operator()(PGresult* result) const { PQclear(result); }
};
using SqliteDb = std::unique_ptr<sqlite3, SqliteCloser>;
using PgConn = std::unique_ptr<PGconn, ConnCloser>;

std::string Trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

Result<SqliteDb> OpenSqlite(const std::string& path) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
  SqliteDb db(raw);
  if (rc != SQLITE_OK) {
    return Error::Unavailable("cannot open " + path + ": " +
                              (db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(db.get(), 5000);
  return db;
}

Result<PgConn> ConnectPostgres(const std::string& url) {
  PgConn conn(PQconnectdb(url.c_str()));
  if (conn == nullptr || PQstatus(conn.get()) != CONNECTION_OK) {
    return Error::Unavailable("cannot connect to " + url + ": " +
                              Trimmed(conn ? PQerrorMessage(conn.get()) : "out of memory"));
  }
  return conn;
}

}  // namespace

Status RawDatabase::Exec(const std::string& sql) const {
  if (kind_ == Kind::kSqlite) {
    auto db = OpenSqlite(where_);
    if (!db.ok()) return std::move(db).error();
    char* message = nullptr;
    const int rc = sqlite3_exec(db->get(), sql.c_str(), nullptr, nullptr, &message);
    const std::string text = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    if (rc != SQLITE_OK) return Error::Internal(sql + ": " + text);
    return Ok();
  }
  auto conn = ConnectPostgres(where_);
  if (!conn.ok()) return std::move(conn).error();
  std::unique_ptr<PGresult, ResultClearer> result(PQexec(conn->get(), sql.c_str()));
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return Error::Internal(sql + ": " + Trimmed(PQerrorMessage(conn->get())));
  }
  return Ok();
}

Result<std::string> RawDatabase::Query(const std::string& sql) const {
  if (kind_ == Kind::kSqlite) {
    auto db = OpenSqlite(where_);
    if (!db.ok()) return std::move(db).error();
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db->get(), sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
      return Error::Internal(sql + ": " + sqlite3_errmsg(db->get()));
    }
    std::unique_ptr<sqlite3_stmt, StatementFinalizer> stmt(raw);
    const int rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_DONE) return std::string("<none>");
    if (rc != SQLITE_ROW) return Error::Internal(sql + ": " + sqlite3_errmsg(db->get()));
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), 0));
    return std::string(text ? text : "NULL");
  }
  auto conn = ConnectPostgres(where_);
  if (!conn.ok()) return std::move(conn).error();
  std::unique_ptr<PGresult, ResultClearer> result(PQexec(conn->get(), sql.c_str()));
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
    return Error::Internal(sql + ": " + Trimmed(PQerrorMessage(conn->get())));
  }
  if (PQntuples(result.get()) == 0) return std::string("<none>");
  if (PQgetisnull(result.get(), 0, 0)) return std::string("NULL");
  return std::string(PQgetvalue(result.get(), 0, 0));
}

}  // namespace countersign::testing
