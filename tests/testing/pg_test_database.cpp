#include "testing/pg_test_database.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>

namespace countersign::testing {
namespace {

struct ConnCloser {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct ResultClearer {
  void operator()(PGresult* result) const { PQclear(result); }
};

std::string Trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

// Runs one statement that returns no rows on the server's admin database.
Status Execute(const std::string& admin_url, const std::string& sql) {
  // dbname first: libpq expands the URL in place, and the keywords after it win.
  const char* keywords[] = {"dbname", "connect_timeout", "application_name", nullptr};
  const char* values[] = {admin_url.c_str(), "10", "countersign-tests", nullptr};
  std::unique_ptr<PGconn, ConnCloser> conn(PQconnectdbParams(keywords, values, 1));
  if (conn == nullptr || PQstatus(conn.get()) != CONNECTION_OK) {
    return Error::Unavailable("cannot connect to the pg fixture's server at " + admin_url + ": " +
                              Trimmed(conn ? PQerrorMessage(conn.get()) : "out of memory"));
  }
  std::unique_ptr<PGresult, ResultClearer> result(PQexec(conn.get(), sql.c_str()));
  if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
    return Error::Internal(sql + ": " + Trimmed(PQerrorMessage(conn.get())));
  }
  return Ok();
}

// `url` with its database (the URL's path) replaced by `name`; the query string is kept.
Result<std::string> WithDatabase(const std::string& url, const std::string& name) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) {
    return Error::Unavailable("the pg fixture's admin URL is not a URL: " + url);
  }
  const size_t authority_end = std::min(url.find('/', scheme + 3), url.find('?', scheme + 3));
  const size_t query = url.find('?', scheme + 3);
  std::string out = url.substr(0, authority_end) + "/" + name;
  if (query != std::string::npos) out += url.substr(query);
  return out;
}

std::string RandomName() {
  std::random_device device;
  const uint64_t bits = (uint64_t{device()} << 32) | device();
  char name[3 + 16 + 1];
  std::snprintf(name, sizeof name, "cs_%016llx", static_cast<unsigned long long>(bits));
  return name;
}

}  // namespace

Result<std::unique_ptr<PgTestDatabase>> PgTestDatabase::Create() {
  const char* fixture_dir = std::getenv(kFixtureEnv);
  if (fixture_dir == nullptr || *fixture_dir == '\0') {
    return Error::Unavailable(std::string(kFixtureEnv) +
                              " is not set: run through ctest: the pg fixture starts PostgreSQL");
  }
  const std::string file = std::string(fixture_dir) + "/admin_url";
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  const std::string admin_url = Trimmed(text.str());
  if (!in.is_open() || admin_url.empty()) {
    return Error::Unavailable("cannot read " + file +
                              ": the pg fixture (ctest's pg.setup) has not started PostgreSQL");
  }

  const std::string name = RandomName();
  auto url = WithDatabase(admin_url, name);
  if (!url.ok()) return std::move(url).error();
  CS_RETURN_IF_ERROR(Execute(admin_url, "CREATE DATABASE " + name));
  return std::unique_ptr<PgTestDatabase>(new PgTestDatabase(admin_url, name, std::move(*url)));
}

PgTestDatabase::~PgTestDatabase() {
  if (auto status = Drop(); !status.ok()) {
    std::fprintf(stderr, "PgTestDatabase: could not drop %s: %s\n", name_.c_str(),
                 status.error().message.c_str());
  }
}

Status PgTestDatabase::Drop() {
  if (dropped_) return Ok();
  CS_RETURN_IF_ERROR(Execute(admin_url_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)"));
  dropped_ = true;
  return Ok();
}

}  // namespace countersign::testing
