#include "store/postgres/pg_connection.hpp"

#include <libpq-fe.h>

#include <string>
#include <utility>
#include <vector>

#include "store/postgres/pg_statement.hpp"

namespace countersign {
namespace {

// SQLSTATEs after which trying again later may succeed: the server is unreachable, starting,
// shutting down or out of resources, or the transaction lost a race it can rerun.
bool IsTransient(std::string_view state) {
  if (state.size() != 5) return false;
  const std::string_view klass = state.substr(0, 2);
  return klass == "08" || klass == "53" || klass == "57" || state == "40001" || state == "40P01" ||
         state == "55P03";
}

std::string Trimmed(const char* text) {
  std::string out = text != nullptr ? text : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace

std::string PgParameters(std::string_view sql, std::vector<bool>* used) {
  std::string out;
  out.reserve(sql.size() + 8);
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote != 0) {
      out += c;
      if (c == quote) quote = 0;  // a doubled quote closes and reopens: same result
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (c == '?' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      out += '$';
      size_t n = 0;
      for (size_t j = i + 1; j < sql.size() && sql[j] >= '0' && sql[j] <= '9' && n < 100000; ++j) {
        n = n * 10 + static_cast<size_t>(sql[j] - '0');
      }
      if (used != nullptr && n > 0) {
        if (used->size() < n) used->resize(n, false);
        (*used)[n - 1] = true;
      }
    } else {
      out += c;
    }
  }
  return out;
}

Result<std::unique_ptr<PgConnection>> PgConnection::Open(const std::string& url,
                                                         std::string_view application_name) {
  // Defaults first: what the URL itself says wins (libpq applies later keywords last, and
  // expands dbname in place).
  const std::string app(application_name);
  const char* keywords[] = {
      "application_name",    "connect_timeout",  "keepalives", "keepalives_idle",
      "keepalives_interval", "keepalives_count", "dbname",     nullptr};
  const char* values[] = {app.c_str(), "5", "1", "10", "5", "3", url.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) return Error::Unavailable("cannot connect to PostgreSQL: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    Error error =
        Error::Unavailable("cannot connect to PostgreSQL: " + Trimmed(PQerrorMessage(conn)));
    PQfinish(conn);
    return error;
  }
  auto connection = std::unique_ptr<PgConnection>(new PgConnection(conn));
  // Quiet: no NOTICE lines on stderr (IF NOT EXISTS and the like).
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  CS_RETURN_IF_ERROR(connection->Exec("SET client_min_messages = warning"));
  return connection;
}

PgConnection::~PgConnection() { PQfinish(conn_); }

bool PgConnection::Broken() const { return PQstatus(conn_) != CONNECTION_OK; }

bool PgConnection::InTransaction() const {
  const PGTransactionStatusType status = PQtransactionStatus(conn_);
  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
}

Error PgConnection::ErrorFor(pg_result* result, std::string_view context) const {
  std::string message(context);
  message += ": ";
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string text = Trimmed(result != nullptr ? PQresultErrorMessage(result) : "");
  if (text.empty()) text = Trimmed(PQerrorMessage(conn_));
  if (text.empty()) text = "unknown error";
  message += text;
  if (state != nullptr) {
    message += " (SQLSTATE ";
    message += state;
    message += ")";
  }
  if (Broken() || result == nullptr || (state != nullptr && IsTransient(state))) {
    return Error::Unavailable(std::move(message));
  }
  return Error::Internal(std::move(message));
}

Status PgConnection::Exec(std::string_view sql) {
  const std::string text(sql);
  PGresult* result = PQexec(conn_, text.c_str());
  const ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) {
    PQclear(result);
    return Ok();
  }
  Error error = ErrorFor(result, "\"" + text.substr(0, 200) + "\" failed");
  PQclear(result);
  return error;
}

Result<StatementHandle> PgConnection::Prepare(std::string_view sql) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::vector<bool> used;
    const std::string text = PgParameters(sql, &used);
    // A number the text skips (a filter left out of a dynamic query) is still sent, as NULL:
    // it is declared text, since PostgreSQL cannot infer the type of a parameter it never sees.
    std::vector<Oid> types(used.size(), 0);
    constexpr Oid kTextOid = 25;
    for (size_t i = 0; i < used.size(); ++i) {
      if (!used[i]) types[i] = kTextOid;
    }
    std::string name = "cs" + std::to_string(prepared_.size() + 1);
    PGresult* result = PQprepare(conn_, name.c_str(), text.c_str(), static_cast<int>(types.size()),
                                 types.empty() ? nullptr : types.data());
    if (result == nullptr || PQresultStatus(result) != PGRES_COMMAND_OK) {
      Error error = ErrorFor(result, "preparing \"" + std::string(sql) + "\" failed");
      PQclear(result);
      return error;
    }
    PQclear(result);
    it = prepared_
             .emplace(std::string(sql), Prepared{std::move(name), static_cast<int>(types.size())})
             .first;
  }
  return StatementHandle(new PgStatement(*this, it->second.name, it->first, it->second.parameters),
                         StatementRelease{.owned = true});
}

Status PgConnection::BeginSnapshot() {
  return Run("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
}

Result<pg_result*> PgConnection::RunPrepared(const std::string& name, std::string_view sql,
                                             int count, const char* const* params) {
  PGresult* result = PQexecPrepared(conn_, name.c_str(), count, params, nullptr, nullptr, 0);
  const ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    Error error = ErrorFor(result, "\"" + std::string(sql) + "\" failed");
    PQclear(result);
    return error;
  }
  const char* tuples = PQcmdTuples(result);
  changes_ = (tuples != nullptr && *tuples != '\0') ? std::stoll(tuples) : 0;
  return result;
}

}  // namespace countersign
