// PgConnection: one libpq connection, the SqlConnection of PostgreSQL.
//
// Prepare() takes the shared SQL's ?N parameters and rewrites them to $N; each distinct text
// is prepared once per connection. Errors name the statement and carry PostgreSQL's message:
// kUnavailable when the database cannot be reached or is shutting down, when the connection
// broke, or for a serialization failure or deadlock (retrying later may work); kInternal for
// everything else. Once Broken(), a connection is thrown away and a new one opened: nothing
// reconnects in place (the prepared statements would be gone). Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "store/sql/sql_connection.hpp"

struct pg_conn;
struct pg_result;

namespace countersign {

class PgConnection final : public SqlConnection {
 public:
  // Connects to `url` (postgres://... or a libpq keyword string); `application_name` shows in
  // pg_stat_activity. kUnavailable when the server cannot be reached.
  static Result<std::unique_ptr<PgConnection>> Open(const std::string& url,
                                                    std::string_view application_name);

  ~PgConnection() override;
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  SqlDialect dialect() const override { return SqlDialect::kPostgres; }
  Status Exec(std::string_view sql) override;
  Result<StatementHandle> Prepare(std::string_view sql) override;
  int64_t Changes() const override { return changes_; }
  Status BeginSnapshot() override;

  // True once the connection to the server is lost; it never recovers.
  bool Broken() const;
  // True while a transaction is open (or failed and not yet rolled back).
  bool InTransaction() const;

  pg_conn* handle() { return conn_; }

  // For PgStatement: runs prepared statement `name` with `params` (nullptr for NULL) and
  // returns its result, which the caller frees with PQclear. Records Changes().
  Result<pg_result*> RunPrepared(const std::string& name, std::string_view sql, int count,
                                 const char* const* params);

  // The Error for a failed result (or a null one: the connection's message).
  Error ErrorFor(pg_result* result, std::string_view context) const;

 private:
  explicit PgConnection(pg_conn* conn) : conn_(conn) {}

  pg_conn* conn_;
  int64_t changes_ = 0;
  struct Prepared {
    std::string name;
    int parameters;  // how many it takes ($1..$parameters)
  };
  std::map<std::string, Prepared, std::less<>> prepared_;  // by the SQL text as given (?N)
};

// The shared SQL's ?N parameters as PostgreSQL's $N, leaving quoted text alone; marks in
// `used` (when given, grown as needed) the numbers the text names.
std::string PgParameters(std::string_view sql, std::vector<bool>* used = nullptr);

}  // namespace countersign
