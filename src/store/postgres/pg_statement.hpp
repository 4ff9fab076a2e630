// PgStatement: one SQL statement on a PgConnection, the SqlStatement of PostgreSQL.
//
// The connection prepares each distinct text once (PQprepare, named) and every PgStatement of
// that text runs the prepared statement with its own parameters and keeps its own result, so
// two statements of one text may be open at once. Parameters travel as text in libpq's text
// format and PostgreSQL infers their types from the SQL; results are read as text. The first
// Step() or Run() executes (one round trip); later Steps walk the rows held in memory.
// Not thread-safe: used by the thread holding its connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "store/sql/sql_statement.hpp"

struct pg_result;

namespace countersign {

class PgConnection;

class PgStatement final : public SqlStatement {
 public:
  // `name` is the prepared statement's name on `connection`, taking `parameters`; `sql` its
  // text, for errors. Parameters left unbound are sent as NULL.
  PgStatement(PgConnection& connection, std::string name, std::string sql, int parameters);
  ~PgStatement() override;
  PgStatement(const PgStatement&) = delete;
  PgStatement& operator=(const PgStatement&) = delete;

  PgStatement& BindText(int index, std::string_view value) override;
  PgStatement& BindInt64(int index, int64_t value) override;
  PgStatement& BindNull(int index) override;

  Result<bool> Step() override;
  Status Run() override;

  int64_t ColumnInt64(int column) const override;
  std::string_view ColumnText(int column) const override;
  bool ColumnIsNull(int column) const override;

 private:
  std::optional<std::string>& Slot(int index);
  Status Execute();

  PgConnection& connection_;
  std::string name_;
  std::string sql_;
  std::vector<std::optional<std::string>> params_;
  std::optional<std::string> discard_;  // what an out-of-range Bind writes to
  std::optional<Error> bind_error_;
  pg_result* result_ = nullptr;
  bool executed_ = false;
  int row_ = -1;
  int rows_ = 0;
};

}  // namespace countersign
