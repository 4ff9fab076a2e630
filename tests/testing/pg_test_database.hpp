// PgTestDatabase: a fresh, empty PostgreSQL database for one test, dropped afterwards.
//
// The server is the one ctest's `pg` fixture runs (tests/testing/pg_fixture.py): Create()
// reads its admin URL from $COUNTERSIGN_TEST_PG_FIXTURE/admin_url, which ctest sets for the
// tests labelled pg, and creates a database `cs_<16 random hex digits>` there, so tests running
// in parallel against the one server never share data. The destructor drops the database with
// WITH (FORCE), ending whatever connections a test left open; a failure to drop is reported on
// stderr (Drop() returns it, for a test that wants to check). Errors: kUnavailable when the
// fixture is not set up or the server cannot be reached, kInternal when PostgreSQL refuses the
// statement. Not thread-safe; url() may be read from any thread.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "core/result.hpp"

namespace countersign::testing {

class PgTestDatabase {
 public:
  // The environment variable naming the fixture's directory.
  static constexpr const char* kFixtureEnv = "COUNTERSIGN_TEST_PG_FIXTURE";

  static Result<std::unique_ptr<PgTestDatabase>> Create();

  ~PgTestDatabase();
  PgTestDatabase(const PgTestDatabase&) = delete;
  PgTestDatabase& operator=(const PgTestDatabase&) = delete;

  // postgresql://countersign@127.0.0.1:PORT/cs_..., for PgStore or libpq.
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }
  // The server's `postgres` database, as the superuser.
  const std::string& admin_url() const { return admin_url_; }

  // Drops the database now (the destructor then does nothing). Safe to call twice.
  Status Drop();

 private:
  PgTestDatabase(std::string admin_url, std::string name, std::string url)
      : admin_url_(std::move(admin_url)), name_(std::move(name)), url_(std::move(url)) {}

  std::string admin_url_;
  std::string name_;
  std::string url_;
  bool dropped_ = false;
};

}  // namespace countersign::testing
