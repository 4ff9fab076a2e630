#include "store/store_copy.hpp"

#include <charconv>
#include <optional>
#include <utility>

namespace countersign {
namespace {

// A table as the copy sees it: every column, explicitly, and the primary key it pages by.
struct TableSpec {
  std::string_view name;
  std::vector<std::string_view> columns;
  // The primary key's columns (each one of `columns`); `integer` ones are bound as numbers
  // when paging, so both databases compare them as numbers.
  struct Key {
    std::string_view column;
    bool integer;
  };
  std::vector<Key> key;
};

// In an order that satisfies the references (decisions name requests, and PostgreSQL checks
// it), fixed so that the tables a failed copy got through are the ones listed before it.
const std::vector<TableSpec>& Specs() {
  static const std::vector<TableSpec> specs = {
      {"principals",
       {"id", "name", "role", "tenant", "groups", "token_sha256", "created_at", "revoked_at"},
       {{"id", false}}},
      {"requests",
       {"id",
        "tenant",
        "kind",
        "action",
        "title",
        "details",
        "arguments",
        "arguments_sha256",
        "requester",
        "session",
        "status",
        "choices",
        "approvers",
        "quorum",
        "policy",
        "risk",
        "created_at",
        "deadline_at",
        "on_timeout",
        "escalation_level",
        "notify",
        "callback_url",
        "idempotency_key",
        "resolved_at",
        "resolved_by",
        "answer",
        "policy_reason",
        "deny_threshold",
        "escalate_to",
        "tier_timeout_ms",
        "receipt",
        "remind_every_ms",
        "response_schema",
        "reason_code",
        "grant_options",
        "receipt_use",
        "report_within_ms",
        "execution"},
       {{"id", false}}},
      {"decisions",
       {"id", "request_id", "tenant", "principal", "choice", "outcome", "comment", "answer",
        "arguments", "at", "response"},
       {{"id", false}}},
      {"events",
       {"seq", "at", "tenant", "request_id", "type", "actor", "data", "prev_hash", "hash"},
       {{"seq", true}}},
      {"idempotency",
       {"tenant", "key", "body_sha256", "request_id", "created_at"},
       {{"tenant", false}, {"key", false}}},
      {"grants",
       {"id", "tenant", "action", "scope", "session", "created_by", "created_at", "expires_at",
        "revoked_at", "request_id", "requester"},
       {{"id", false}}},
      {"outbox",
       {"id", "delivery_id", "tenant", "request_id", "destination", "kind", "event", "event_seq",
        "target", "payload", "state", "attempts", "next_attempt_at", "last_error", "created_at",
        "lease_owner", "lease_until"},
       {{"id", true}}},
      {"channel_messages",
       {"request_id", "destination", "ref"},
       {{"request_id", false}, {"destination", false}}},
      {"audit_checkpoint", {"id", "seq", "hash", "verified_at"}, {{"id", true}}},
      {"conversations",
       {"request_id", "tenant", "subject", "phase", "step", "step_due", "body"},
       {{"request_id", false}}},
      {"receipt_uses",
       {"jti", "tenant", "request_id", "uses", "max_uses", "first_at", "first_by", "last_at",
        "last_by"},
       {{"jti", false}}},
      {"conversation_messages",
       {"request_id", "seq", "role", "author", "text", "at", "external_id"},
       {{"request_id", false}, {"seq", true}}},
  };
  return specs;
}

Error Prefixed(std::string_view prefix, Error error) {
  error.message = std::string(prefix) + ": " + error.message;
  return error;
}

std::string Joined(const std::vector<std::string_view>& parts, std::string_view separator) {
  std::string joined;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) joined += separator;
    joined += parts[i];
  }
  return joined;
}

size_t ColumnIndex(const TableSpec& spec, std::string_view column) {
  for (size_t i = 0; i < spec.columns.size(); ++i) {
    if (spec.columns[i] == column) return i;
  }
  return 0;  // every key column is one of the table's columns (Specs())
}

// A page of the source: SELECT ... [WHERE key > ?] ORDER BY key LIMIT kPageRows. Row values
// ("(a, b) > (?1, ?2)") compare the same way on both databases: the text keys are byte-ordered
// there (SQLite's BINARY, PostgreSQL's "C" collation).
std::string PageQuery(const TableSpec& spec, bool after) {
  std::vector<std::string_view> key;
  for (const auto& part : spec.key) key.push_back(part.column);
  std::string sql = "SELECT " + Joined(spec.columns, ", ") + " FROM " + std::string(spec.name);
  if (after) {
    std::string params;
    for (size_t i = 0; i < key.size(); ++i) {
      if (i > 0) params += ", ";
      params += "?" + std::to_string(i + 1);
    }
    sql += key.size() == 1 ? " WHERE " + std::string(key[0]) + " > " + params
                           : " WHERE (" + Joined(key, ", ") + ") > (" + params + ")";
  }
  return sql + " ORDER BY " + Joined(key, ", ") + " LIMIT " + std::to_string(StoreCopy::kPageRows);
}

std::string InsertStatement(const TableSpec& spec) {
  std::string params;
  for (size_t i = 0; i < spec.columns.size(); ++i) {
    if (i > 0) params += ", ";
    params += "?" + std::to_string(i + 1);
  }
  return "INSERT INTO " + std::string(spec.name) + " (" + Joined(spec.columns, ", ") +
         ") VALUES (" + params + ")";
}

using Row = std::vector<std::optional<std::string>>;

Result<int64_t> CountRows(SqlConnection& db, std::string_view table) {
  auto count = db.Prepare("SELECT count(*) FROM " + std::string(table));
  if (!count.ok()) return std::move(count).error();
  auto row = (*count)->Step();
  if (!row.ok()) return std::move(row).error();
  return *row ? (*count)->ColumnInt64(0) : 0;
}

// Reads the next page of `spec` after `last` (the previous page's last row; none: the first).
Result<std::vector<Row>> ReadPage(SqlConnection& source, const TableSpec& spec,
                                  const std::optional<Row>& last) {
  auto select = source.Prepare(PageQuery(spec, last.has_value()));
  if (!select.ok()) return std::move(select).error();
  if (last) {
    for (size_t i = 0; i < spec.key.size(); ++i) {
      const auto& value = (*last)[ColumnIndex(spec, spec.key[i].column)];
      const int index = static_cast<int>(i) + 1;
      if (spec.key[i].integer) {
        const std::string text = value.value_or("0");
        int64_t number = 0;
        std::from_chars(text.data(), text.data() + text.size(), number);
        (*select)->BindInt64(index, number);
      } else {
        (*select)->BindText(index, value.value_or(""));
      }
    }
  }
  std::vector<Row> rows;
  for (;;) {
    auto more = (*select)->Step();
    if (!more.ok()) return std::move(more).error();
    if (!*more) return rows;
    Row row(spec.columns.size());
    for (size_t i = 0; i < spec.columns.size(); ++i) {
      const int column = static_cast<int>(i);
      if (!(*select)->ColumnIsNull(column)) row[i] = std::string((*select)->ColumnText(column));
    }
    rows.push_back(std::move(row));
  }
}

// Inserts `rows` in one transaction: all of them or none.
Status WritePage(SqlConnection& destination, const TableSpec& spec, const std::vector<Row>& rows) {
  CS_RETURN_IF_ERROR(destination.Run("BEGIN"));
  auto insert_all = [&]() -> Status {
    const std::string sql = InsertStatement(spec);
    for (const Row& row : rows) {
      auto insert = destination.Prepare(sql);
      if (!insert.ok()) return std::move(insert).error();
      for (size_t i = 0; i < row.size(); ++i) {
        const int index = static_cast<int>(i) + 1;
        // As text: SQLite's column affinity and PostgreSQL's inferred parameter type turn the
        // integers' text back into integers.
        if (row[i]) {
          (*insert)->BindText(index, *row[i]);
        } else {
          (*insert)->BindNull(index);
        }
      }
      CS_RETURN_IF_ERROR((*insert)->Run());
    }
    return destination.Run("COMMIT");
  };
  Status status = insert_all();
  if (!status.ok()) (void)destination.Run("ROLLBACK");
  return status;
}

Result<TableCopyCount> CopyTable(SqlConnection& source, SqlConnection& destination,
                                 const TableSpec& spec) {
  TableCopyCount count{std::string(spec.name), 0, 0};
  std::optional<Row> last;
  for (;;) {
    auto page = ReadPage(source, spec, last);
    if (!page.ok()) return Prefixed("reading the source", std::move(page).error());
    if (page->empty()) break;
    if (auto written = WritePage(destination, spec, *page); !written.ok()) {
      return Prefixed("writing the destination", std::move(written).error());
    }
    count.source_rows += static_cast<int64_t>(page->size());
    if (page->size() < static_cast<size_t>(StoreCopy::kPageRows)) break;
    last = std::move(page->back());
  }
  if (spec.name == "outbox" && destination.dialect() == SqlDialect::kPostgres) {
    // The rows kept their ids; the identity must hand out the next ones after them.
    CS_RETURN_IF_ERROR(
        destination.Run("SELECT setval(pg_get_serial_sequence('outbox', 'id'), "
                        "COALESCE(MAX(id), 0) + 1, false) FROM outbox"));
  }
  auto copied = CountRows(destination, spec.name);
  if (!copied.ok()) return Prefixed("counting the destination", std::move(copied).error());
  count.destination_rows = *copied;
  return count;
}

Result<AuditHead> SourceHead(SqlConnection& source) {
  auto last = source.Prepare("SELECT seq, hash, type FROM events ORDER BY seq DESC LIMIT 1");
  if (!last.ok()) return std::move(last).error();
  auto row = (*last)->Step();
  if (!row.ok()) return std::move(row).error();
  AuditHead head;
  if (*row) {
    head.seq = (*last)->ColumnInt64(0);
    head.hash = std::string((*last)->ColumnText(1));
    head.type = std::string((*last)->ColumnText(2));
  }
  return head;
}

}  // namespace

std::vector<std::string_view> StoreCopy::Tables() {
  std::vector<std::string_view> names;
  for (const auto& spec : Specs()) names.push_back(spec.name);
  return names;
}

Status StoreCopy::CheckEmpty(SqlConnection& destination) {
  std::string held;
  for (std::string_view table : {"requests", "events", "principals"}) {
    auto rows = CountRows(destination, table);
    if (!rows.ok()) return Prefixed("reading the destination", std::move(rows).error());
    if (*rows == 0) continue;
    if (!held.empty()) held += ", ";
    held += std::to_string(*rows) + " " + std::string(table);
  }
  if (held.empty()) return Ok();
  return Error::Conflict("the destination is not empty (it holds " + held +
                         "); copy only into a new, empty database");
}

Result<StoreCopyReport> StoreCopy::Copy(SqlConnection& source, SqlConnection& destination,
                                        const TableDone& table_done) {
  CS_RETURN_IF_ERROR(CheckEmpty(destination));
  // One snapshot for every table: a source still being written (it should not be) would
  // otherwise give a copy whose tables disagree.
  if (auto begun = source.BeginSnapshot(); !begun.ok()) {
    return Prefixed("reading the source", std::move(begun).error());
  }
  auto copy_all = [&]() -> Result<StoreCopyReport> {
    StoreCopyReport report;
    for (const auto& spec : Specs()) {
      auto count = CopyTable(source, destination, spec);
      if (!count.ok()) return Prefixed(std::string(spec.name), std::move(count).error());
      if (table_done) table_done(*count);
      report.tables.push_back(std::move(count).value());
    }
    auto head = SourceHead(source);
    if (!head.ok()) return Prefixed("reading the source's audit head", std::move(head).error());
    report.source_head = std::move(head).value();
    return report;
  };
  auto report = copy_all();
  (void)source.Run("ROLLBACK");  // it only read
  return report;
}

Result<StoreCopyCheck> StoreCopy::Check(const StoreCopyReport& report, Store& destination) {
  StoreCopyCheck check;
  for (const auto& table : report.tables) {
    if (table.source_rows != table.destination_rows) {
      check.differences.push_back(table.table + ": the source has " +
                                  std::to_string(table.source_rows) + " rows, the destination " +
                                  std::to_string(table.destination_rows));
    }
  }
  auto audit = destination.VerifyAudit();
  if (!audit.ok()) return Prefixed("verifying the destination's audit chain", audit.error());
  check.events_verified = audit->events_checked;
  if (!audit->ok) {
    check.differences.push_back("the destination's audit chain does not verify: event " +
                                std::to_string(audit->first_bad_seq) + ": " + audit->reason);
  }
  auto head = destination.GetAuditHead();
  if (!head.ok()) return Prefixed("reading the destination's audit head", head.error());
  check.destination_head = std::move(head).value();
  if (check.destination_head.seq != report.source_head.seq ||
      check.destination_head.hash != report.source_head.hash) {
    check.differences.push_back("the audit chain ends at seq " +
                                std::to_string(check.destination_head.seq) + " (" +
                                check.destination_head.hash + ") in the destination but at seq " +
                                std::to_string(report.source_head.seq) + " (" +
                                report.source_head.hash + ") in the source");
  }
  return check;
}

}  // namespace countersign
