#include "store/sql/sql_store.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "core/chain_hasher.hpp"
#include "store/sql/sql_conversations.hpp"
#include "store/sql/sql_rows.hpp"

namespace countersign {
namespace {

// Runs `read` inside one read transaction, so its queries see a single snapshot.
template <typename Fn>
auto InSnapshot(SqlConnection& db, Fn&& read) -> decltype(read()) {
  if (auto begun = db.BeginSnapshot(); !begun.ok()) return std::move(begun).error();
  auto result = read();
  if (result.ok()) {
    if (auto ended = db.Run("COMMIT"); !ended.ok()) {
      (void)db.Run("ROLLBACK");
      return std::move(ended).error();
    }
  } else {
    (void)db.Run("ROLLBACK");
  }
  return result;
}

// The rows of a "SELECT key, count(*) ... GROUP BY key" statement, bound and ready to step.
Result<std::map<std::string, int64_t>> CountsByKey(SqlStatement& s) {
  std::map<std::string, int64_t> counts;
  for (;;) {
    auto row = s.Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return counts;
    counts[std::string(s.ColumnText(0))] = s.ColumnInt64(1);
  }
}

}  // namespace

SqlStore::Lease::~Lease() {
  if (connection_ != nullptr) store_.Return(connection_);
}

Result<std::optional<Request>> SqlStore::GetRequest(std::string_view tenant, std::string_view id) {
  auto lease = Borrow();
  if (!lease.ok()) return std::move(lease).error();
  SqlConnection& db = **lease;
  return InSnapshot(db, [&] { return sql_rows::LoadRequest(db, tenant, id); });
}

Result<RequestPage> SqlStore::ListRequests(const RequestFilter& filter) {
  auto lease = Borrow();
  if (!lease.ok()) return std::move(lease).error();
  SqlConnection& db = **lease;
  if (filter.tenant.empty()) return Error::Invalid("listing requests needs a tenant");
  const int limit = std::clamp(filter.limit, 1, 500);
  // At most 128 distinct texts, each prepared once per connection.
  std::string sql =
      std::string("SELECT ") + sql_rows::kRequestColumns + " FROM requests WHERE tenant = ?1";
  if (filter.status) sql += " AND status = ?2";
  if (!filter.action.empty()) sql += " AND action = ?3";
  if (!filter.requester.empty()) sql += " AND requester = ?4";
  // The `<> ''` lets the planner use the partial session index (migration 013).
  if (!filter.session.empty()) sql += " AND session = ?5 AND session <> ''";
  if (!filter.cursor.empty()) sql += " AND id < ?6";
  if (filter.created_from) sql += " AND created_at >= ?8";
  if (filter.created_before) sql += " AND created_at < ?9";
  sql += " ORDER BY id DESC LIMIT ?7";

  return InSnapshot(db, [&]() -> Result<RequestPage> {
    RequestPage page;
    {
      auto statement = db.Prepare(sql);
      if (!statement.ok()) return std::move(statement).error();
      auto& s = **statement;
      s.BindText(1, filter.tenant);
      if (filter.status) s.BindText(2, StatusName(*filter.status));
      if (!filter.action.empty()) s.BindText(3, filter.action);
      if (!filter.requester.empty()) s.BindText(4, filter.requester);
      if (!filter.session.empty()) s.BindText(5, filter.session);
      if (!filter.cursor.empty()) s.BindText(6, filter.cursor);
      if (filter.created_from) s.BindInt64(8, ToUnixMillis(*filter.created_from));
      if (filter.created_before) s.BindInt64(9, ToUnixMillis(*filter.created_before));
      s.BindInt64(7, limit + 1);
      for (;;) {
        auto row = s.Step();
        if (!row.ok()) return std::move(row).error();
        if (!*row) break;
        if (static_cast<int>(page.requests.size()) == limit) {
          page.next_cursor = page.requests.back().id;
          break;
        }
        auto request = sql_rows::RequestFromRow(s);
        if (!request.ok()) return std::move(request).error();
        page.requests.push_back(std::move(request).value());
      }
    }
    if (auto loaded = sql_rows::LoadDecisions(db, page.requests); !loaded.ok()) {
      return std::move(loaded).error();
    }
    return page;
  });
}

Result<std::vector<Event>> SqlStore::ListEvents(const EventFilter& filter) {
  auto lease = Borrow();
  if (!lease.ok()) return std::move(lease).error();
  SqlConnection& db = **lease;
  const int limit = std::clamp(filter.limit, 1, 1000);
  std::string sql =
      std::string("SELECT ") + sql_rows::kEventColumns + " FROM events WHERE seq > ?1";
  if (!filter.tenant.empty()) sql += " AND tenant = ?2";
  if (!filter.request_id.empty()) sql += " AND request_id = ?3";
  if (filter.before > 0) sql += " AND seq < ?5";
  // A prefix by range, so "decision." cannot match by LIKE's wildcards.
  if (!filter.type_prefix.empty()) sql += " AND type >= ?6 AND type < ?10";
  if (!filter.actor.empty()) sql += " AND actor = ?7";
  if (filter.from) sql += " AND at >= ?8";
  if (filter.until) sql += " AND at < ?9";
  sql += filter.newest_first ? " ORDER BY seq DESC LIMIT ?4" : " ORDER BY seq LIMIT ?4";

  auto statement = db.Prepare(sql);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindInt64(1, std::max<int64_t>(filter.since, 0));
  if (!filter.tenant.empty()) s.BindText(2, filter.tenant);
  if (!filter.request_id.empty()) s.BindText(3, filter.request_id);
  s.BindInt64(4, limit);
  if (filter.before > 0) s.BindInt64(5, filter.before);
  if (!filter.type_prefix.empty()) {
    // Every type that starts with the prefix sorts below prefix + U+10FFFF (byte order).
    s.BindText(6, filter.type_prefix).BindText(10, filter.type_prefix + "\xF4\x8F\xBF\xBF");
  }
  if (!filter.actor.empty()) s.BindText(7, filter.actor);
  if (filter.from) s.BindInt64(8, ToUnixMillis(*filter.from));
  if (filter.until) s.BindInt64(9, ToUnixMillis(*filter.until));
  std::vector<Event> events;
  for (;;) {
    auto row = s.Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return events;
    auto event = sql_rows::EventFromRow(s);
    if (!event.ok()) return std::move(event).error();
    events.push_back(std::move(event).value());
  }
}

namespace {

// Whether the event row `s` (kEventColumns) hashes to its own hash column given its
// prev_hash: "" when it does, else what is wrong. AppendEvent stores the data as the canonical
// JSON it hashed, so hashing the stored text proves the row unchanged without parsing it; the
// columns are hashed where they lie, with `hasher`'s buffer and context, so a row costs no
// allocation. Only a row that fails that is parsed, to tell malformed data from an edit.
std::string CheckEventHash(const SqlStatement& s, ChainHasher& hasher) {
  const EventView row{.seq = s.ColumnInt64(0),
                      .at = FromUnixMillis(s.ColumnInt64(1)),
                      .tenant = s.ColumnText(2),
                      .request_id = s.ColumnText(3),
                      .type = s.ColumnText(4),
                      .actor = s.ColumnText(5),
                      .data = s.ColumnText(6),
                      .prev_hash = s.ColumnText(7)};
  if (hasher.Matches(row, s.ColumnText(8))) return "";
  auto parsed = sql_rows::EventFromRow(s);
  if (!parsed.ok()) return "malformed event: " + parsed.error().message;
  // Stored in another spelling of the same JSON (not by AppendEvent): the hash decides.
  if (ChainHash(*parsed) == parsed->hash) return "";
  return "hash mismatch";
}

}  // namespace

Result<AuditReport> SqlStore::VerifyAudit(const AuditCheckpoint& from, int64_t max_events) {
  auto lease = Borrow();
  if (!lease.ok()) return std::move(lease).error();
  SqlConnection& db = **lease;
  if (max_events < 1) return Error::Invalid("an audit verification must check at least 1 event");
  if (from.seq < 0 || (from.seq == 0) != from.hash.empty()) {
    return Error::Invalid("audit checkpoint at seq " + std::to_string(from.seq) +
                          " must have a hash exactly when seq > 0");
  }
  static const std::string kSelectOne =
      std::string("SELECT ") + sql_rows::kEventColumns + " FROM events WHERE seq = ?1";
  static const std::string kSelectAfter =
      std::string("SELECT ") + sql_rows::kEventColumns + " FROM events WHERE seq > ?1 ORDER BY seq";
  return InSnapshot(db, [&]() -> Result<AuditReport> {
    ChainHasher hasher;
    AuditReport report;
    report.checkpoint.seq = from.seq;
    report.checkpoint.hash = from.hash;
    const auto fail = [&](int64_t seq, std::string reason) {
      report.ok = false;
      report.first_bad_seq = seq;
      report.reason = std::move(reason);
      report.reached_end = false;
      return report;
    };
    // The checkpoint is a claim about the log, checked before anything is built on it.
    if (from.seq > 0) {
      auto statement = db.Prepare(kSelectOne);
      if (!statement.ok()) return std::move(statement).error();
      auto& s = **statement;
      s.BindInt64(1, from.seq);
      auto row = s.Step();
      if (!row.ok()) return std::move(row).error();
      report.checkpoint = AuditCheckpoint{};  // nothing here can be resumed from if it fails
      const std::string seq_text = "seq " + std::to_string(from.seq);
      if (!*row) return fail(from.seq, "the checkpoint's event " + seq_text + " is not in the log");
      if (s.ColumnText(8) != from.hash) {
        return fail(from.seq,
                    "the checkpoint's hash does not match the stored hash of " + seq_text);
      }
      if (std::string wrong = CheckEventHash(s, hasher); !wrong.empty()) {
        return fail(from.seq, wrong + " at the checkpoint's event");
      }
      report.checkpoint.seq = from.seq;
      report.checkpoint.hash = from.hash;
    }
    auto statement = db.Prepare(kSelectAfter);
    if (!statement.ok()) return std::move(statement).error();
    auto& s = **statement;
    s.BindInt64(1, from.seq);
    int64_t expected_seq = from.seq + 1;
    for (;;) {
      auto row = s.Step();
      if (!row.ok()) return std::move(row).error();
      if (!*row) {
        report.reached_end = true;
        return report;
      }
      // One row past the limit only tells whether the chain goes on.
      if (report.events_checked == max_events) return report;
      report.events_checked += 1;
      const int64_t seq = s.ColumnInt64(0);
      if (seq > expected_seq) {
        return fail(expected_seq, "sequence gap: seq " + std::to_string(expected_seq) +
                                      " is missing (next is " + std::to_string(seq) + ")");
      }
      if (seq < expected_seq) {
        return fail(seq, "unexpected seq " + std::to_string(seq) + " (expected " +
                             std::to_string(expected_seq) + ")");
      }
      const std::string_view expected_prev =
          seq == 1 ? std::string_view(kGenesisHash) : std::string_view(report.checkpoint.hash);
      if (s.ColumnText(7) != expected_prev) {
        return fail(seq, seq == 1 ? std::string("prev_hash of seq 1 is not the genesis hash")
                                  : "prev_hash does not match seq " + std::to_string(seq - 1));
      }
      if (std::string wrong = CheckEventHash(s, hasher); !wrong.empty()) return fail(seq, wrong);
      if (s.ColumnText(4) == kAuditCheckpointEvent) {
        auto event = sql_rows::EventFromRow(s);
        if (!event.ok()) return fail(seq, "malformed event: " + event.error().message);
        report.signed_checkpoints.push_back(std::move(event).value());
      }
      report.checkpoint.seq = seq;
      report.checkpoint.hash = s.ColumnText(8);
      expected_seq += 1;
    }
  });
}

Result<AuditCheckpoint> SqlStore::GetAuditCheckpoint() {
  auto lease = Borrow();
  if (!lease.ok()) return std::move(lease).error();
  SqlConnection& db = **lease;
  auto statement = db.Prepare("SELECT seq, hash, verified_at FROM audit_checkpoint WHERE id = 1");
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  auto row = s.Step();
  if (!row.ok()) return std::move(row).error();
  AuditCheckpoint checkpoint;
  if (!*row) return checkpoint;
  checkpoint.seq = s.ColumnInt64(0);
  checkpoint.hash = s.ColumnText(1);
  checkpoint.verified_at = FromUnixMillis(s.ColumnInt64(2));
  return checkpoint;
}

Result<AuditHead> SqlStore::GetAuditHead() {
  auto lease = Borrow();
  if (!lease.ok()) return std::move(lease).error();
  SqlConnection& db = **lease;
  return InSnapshot(db, [&]() -> Result<AuditHead> {
    AuditHead head;
    auto last = db.Prepare("SELECT seq, hash, type FROM events ORDER BY seq DESC LIMIT 1");
    if (!last.ok()) return std::move(last).error();
    auto row = (*last)->Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return head;
    head.seq = (*last)->ColumnInt64(0);
    head.hash = (*last)->ColumnText(1);
    head.type = (*last)->ColumnText(2);
    // The type as a literal, so SQLite reads the partial index events_audit_checkpoint (only
    // the checkpoint events) instead of walking the chain back to the last one.
    static const std::string kLastCheckpoint =
        std::string("SELECT seq FROM events WHERE type = '") + kAuditCheckpointEvent +
        "' ORDER BY seq DESC LIMIT 1";
    auto signed_point = db.Prepare(kLastCheckpoint);
    if (!signed_point.ok()) return std::move(signed_point).error();
    row = (*signed_point)->Step();
    if (!row.ok()) return std::move(row).error();
    if (*row) head.last_checkpoint_seq = (*signed_point)->ColumnInt64(0);
    return head;
  });
}

namespace {

Result<std::vector<PendingDeadline>> ReadPendingDeadlines(SqlStatement& s) {
  std::vector<PendingDeadline> deadlines;
  for (;;) {
    auto row = s.Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return deadlines;
    deadlines.push_back({std::string(s.ColumnText(0)), std::string(s.ColumnText(1)),
                         FromUnixMillis(s.ColumnInt64(2)),
                         std::chrono::seconds(s.ColumnInt64(3) / 1000)});
  }
}

}  // namespace

Result<std::vector<PendingDeadline>> SqlStore::ListPendingDeadlines(const DeadlineCursor& after,
                                                                    int limit) {
  if (limit < 1) return Error::Invalid("ListPendingDeadlines needs a limit of at least 1");
  auto lease = Borrow();
  if (!lease.ok()) return std::move(lease).error();
  SqlConnection& db = **lease;
  // The row-value comparison is what lets both databases start the range scan of the partial
  // index (deadline_at, id) at the cursor: equal deadlines across two pages are neither
  // skipped nor read twice.
  auto statement = db.Prepare(
      "SELECT tenant, id, deadline_at, remind_every_ms FROM requests WHERE status = 'pending' "
      "AND (deadline_at, id) > (?1, ?2) ORDER BY deadline_at, id LIMIT ?3");
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindInt64(1, ToUnixMillis(after.deadline));
  s.BindText(2, after.id);
  s.BindInt64(3, limit);
  return ReadPendingDeadlines(s);
}

Result<std::vector<PendingDeadline>> SqlStore::ListPendingReminders() {
  auto lease = Borrow();
  if (!lease.ok()) return std::move(lease).error();
  SqlConnection& db = **lease;
  // The conditions of the partial index requests_pending_reminder, so it is the one read.
  auto statement = db.Prepare(
      "SELECT tenant, id, deadline_at, remind_every_ms FROM requests WHERE status = 'pending' "
      "AND remind_every_ms > 0 ORDER BY id");
  if (!statement.ok()) return std::move(statement).error();
  return ReadPendingDeadlines(**statement);
}

Result<int64_t> SqlStore::CountPending(std::string_view tenant) {
  auto lease = Borrow();
  if (!lease.ok()) return std::move(lease).error();
  SqlConnection& db = **lease;
  // Counted in the partial index requests_pending_requester (tenant, requester).
  auto statement =
      db.Prepare("SELECT count(*) FROM requests WHERE status = 'pending' AND tenant = ?1");
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, tenant);
  auto row = s.Step();
  if (!row.ok()) return std::move(row).error();
  if (!*row) return int64_t{0};
  return s.ColumnInt64(0);
}

Result<std::optional<Principal>> SqlStore::FindPrincipalByTokenHash(std::string_view sha256) {
  auto lease = Borrow();
  if (!lease.ok()) return std::move(lease).error();
  SqlConnection& db = **lease;
  static const std::string kSelect = std::string("SELECT ") + sql_rows::kPrincipalColumns +
                                     " FROM principals WHERE token_sha256 = ?1";
  auto statement = db.Prepare(kSelect);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, sha256);
  auto row = s.Step();
  if (!row.ok()) return std::move(row).error();
  if (!*row) return std::optional<Principal>();
  auto principal = sql_rows::PrincipalFromRow(s);
  if (!principal.ok()) return std::move(principal).error();
  return std::optional<Principal>(std::move(principal).value());
}

Result<std::vector<Principal>> SqlStore::ListPrincipals(std::string_view tenant) {
  auto lease = Borrow();
  if (!lease.ok()) return std::move(lease).error();
  SqlConnection& db = **lease;
  static const std::string kSelectAll = std::string("SELECT ") + sql_rows::kPrincipalColumns +
                                        " FROM principals ORDER BY tenant, created_at, id";
  static const std::string kSelectTenant = std::string("SELECT ") + sql_rows::kPrincipalColumns +
                                           " FROM principals WHERE tenant = ?1 "
                                           "ORDER BY created_at, id";
  auto statement = db.Prepare(tenant.empty() ? kSelectAll : kSelectTenant);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  if (!tenant.empty()) s.BindText(1, tenant);
  std::vector<Principal> principals;
  for (;;) {
    auto row = s.Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return principals;
    auto principal = sql_rows::PrincipalFromRow(s);
    if (!principal.ok()) return std::move(principal).error();
    principals.push_back(std::move(principal).value());
  }
}

Result<std::map<std::string, int64_t>> SqlStore::CountRequestsByStatus() {
  auto lease = Borrow();
  if (!lease.ok()) return std::move(lease).error();
  SqlConnection& db = **lease;
  auto statement = db.Prepare("SELECT status, count(*) FROM requests GROUP BY status");
  if (!statement.ok()) return std::move(statement).error();
  return CountsByKey(**statement);
}

Result<std::map<std::string, int64_t>> SqlStore::CountUnreported(TimePoint now) {
  auto lease = Borrow();
  if (!lease.ok()) return std::move(lease).error();
  SqlConnection& db = **lease;
  // The conditions of the partial index requests_awaiting_report, so it is the one read.
  auto statement = db.Prepare(
      "SELECT tenant, count(*) FROM requests WHERE status = 'approved' AND report_within_ms > 0 "
      "AND execution IS NULL AND resolved_at + report_within_ms < ?1 GROUP BY tenant");
  if (!statement.ok()) return std::move(statement).error();
  (*statement)->BindInt64(1, ToUnixMillis(now));
  return CountsByKey(**statement);
}

Result<std::optional<Grant>> SqlStore::FindActiveGrant(std::string_view tenant,
                                                       std::string_view action,
                                                       std::string_view session,
                                                       std::string_view requester, TimePoint now) {
  auto lease = Borrow();
  if (!lease.ok()) return std::move(lease).error();
  SqlConnection& db = **lease;
  static const std::string kSelect =
      std::string("SELECT ") + sql_rows::kGrantColumns +
      " FROM grants WHERE tenant = ?1 AND action = ?2 AND expires_at > ?3 AND revoked_at IS NULL "
      "AND (scope = 'tenant' OR (scope = 'session' AND session = ?4 AND session != '') "
      "OR (scope = 'requester' AND requester = ?5 AND requester != '')) "
      "ORDER BY created_at DESC LIMIT 1";
  auto statement = db.Prepare(kSelect);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, tenant)
      .BindText(2, action)
      .BindInt64(3, ToUnixMillis(now))
      .BindText(4, session)
      .BindText(5, requester);
  auto row = s.Step();
  if (!row.ok()) return std::move(row).error();
  if (!*row) return std::optional<Grant>();
  auto grant = sql_rows::GrantFromRow(s);
  if (!grant.ok()) return std::move(grant).error();
  return std::optional<Grant>(std::move(grant).value());
}

Result<std::vector<Grant>> SqlStore::ListGrants(std::string_view tenant) {
  auto lease = Borrow();
  if (!lease.ok()) return std::move(lease).error();
  SqlConnection& db = **lease;
  static const std::string kSelect = std::string("SELECT ") + sql_rows::kGrantColumns +
                                     " FROM grants WHERE tenant = ?1 ORDER BY created_at DESC, "
                                     "id DESC LIMIT 1000";
  auto statement = db.Prepare(kSelect);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, tenant);
  std::vector<Grant> out;
  for (;;) {
    auto row = s.Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return out;
    auto grant = sql_rows::GrantFromRow(s);
    if (!grant.ok()) return std::move(grant).error();
    out.push_back(std::move(grant).value());
  }
}

namespace {

using sql_rows::kOutboxColumns;
using sql_rows::OutboxFromRow;

Result<std::vector<OutboxRow>> CollectOutbox(SqlStatement& s) {
  std::vector<OutboxRow> rows;
  for (;;) {
    auto row = s.Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return rows;
    rows.push_back(OutboxFromRow(s));
  }
}

}  // namespace

Result<std::optional<TimePoint>> SqlStore::LatestGrantExpiry() {
  auto lease = Borrow();
  if (!lease.ok()) return std::move(lease).error();
  SqlConnection& db = **lease;
  static constexpr char kSelect[] = "SELECT MAX(expires_at) FROM grants WHERE revoked_at IS NULL";
  auto statement = db.Prepare(kSelect);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  auto row = s.Step();
  if (!row.ok()) return std::move(row).error();
  if (!*row || s.ColumnIsNull(0)) return std::optional<TimePoint>();
  return std::optional<TimePoint>(FromUnixMillis(s.ColumnInt64(0)));
}

Result<std::vector<OutboxRow>> SqlStore::ListDueOutbox(TimePoint now, int limit) {
  auto lease = Borrow();
  if (!lease.ok()) return std::move(lease).error();
  SqlConnection& db = **lease;
  // A row waits while an older pending row of its destination and request exists: a Slack
  // update must not overtake the post it edits, nor a Telegram edit the answer to the press.
  // Rows with two different targets (two mail recipients) do not wait for each other.
  static const std::string kSelect =
      std::string("SELECT ") + kOutboxColumns +
      " FROM outbox o WHERE state = 'pending' AND next_attempt_at <= ?1 AND NOT EXISTS ("
      "SELECT 1 FROM outbox p WHERE p.state = 'pending' AND p.destination = o.destination "
      "AND p.request_id = o.request_id AND p.id < o.id "
      "AND (p.target = o.target OR p.target = '' OR o.target = '')) "
      "ORDER BY id LIMIT ?2";
  auto statement = db.Prepare(kSelect);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindInt64(1, ToUnixMillis(now)).BindInt64(2, std::clamp(limit, 1, 1000));
  return CollectOutbox(s);
}

Result<std::optional<TimePoint>> SqlStore::NextOutboxDue() {
  auto lease = Borrow();
  if (!lease.ok()) return std::move(lease).error();
  SqlConnection& db = **lease;
  static constexpr char kSelect[] =
      "SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending'";
  auto statement = db.Prepare(kSelect);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  auto row = s.Step();
  if (!row.ok()) return std::move(row).error();
  if (!*row || s.ColumnIsNull(0)) return std::optional<TimePoint>();
  return std::optional<TimePoint>(FromUnixMillis(s.ColumnInt64(0)));
}

Result<std::vector<OutboxRow>> SqlStore::ListOutbox(std::string_view tenant, std::string_view state,
                                                    std::string_view request_id, int limit) {
  auto lease = Borrow();
  if (!lease.ok()) return std::move(lease).error();
  SqlConnection& db = **lease;
  std::string sql = std::string("SELECT ") + kOutboxColumns + " FROM outbox WHERE 1 = 1";
  if (!tenant.empty()) sql += " AND tenant = ?1";
  // A known state goes in as a literal, so the partial indexes of the rare states
  // (outbox_pending_id, outbox_failed_id) can serve it; "delivered", most of the table, is
  // found by walking the newest rows.
  const bool known_state = state == "pending" || state == "delivered" || state == "failed";
  if (known_state) {
    sql += " AND state = '" + std::string(state) + "'";
  } else if (!state.empty()) {
    sql += " AND state = ?2";
  }
  if (!request_id.empty()) sql += " AND request_id = ?3";
  sql += " ORDER BY id DESC LIMIT ?4";
  auto statement = db.Prepare(sql);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  if (!tenant.empty()) s.BindText(1, tenant);
  if (!known_state && !state.empty()) s.BindText(2, state);
  if (!request_id.empty()) s.BindText(3, request_id);
  s.BindInt64(4, std::clamp(limit, 1, 1000));
  return CollectOutbox(s);
}

Result<std::map<std::string, int64_t>> SqlStore::CountOutboxByState() {
  auto lease = Borrow();
  if (!lease.ok()) return std::move(lease).error();
  SqlConnection& db = **lease;
  static constexpr char kSelect[] = "SELECT state, COUNT(*) FROM outbox GROUP BY state";
  auto statement = db.Prepare(kSelect);
  if (!statement.ok()) return std::move(statement).error();
  return CountsByKey(**statement);
}

Result<std::string> SqlStore::FindChannelMessage(std::string_view request_id,
                                                 std::string_view destination) {
  auto lease = Borrow();
  if (!lease.ok()) return std::move(lease).error();
  SqlConnection& db = **lease;
  static constexpr char kSelect[] =
      "SELECT ref FROM channel_messages WHERE request_id = ?1 AND destination = ?2";
  auto statement = db.Prepare(kSelect);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, request_id).BindText(2, destination);
  auto row = s.Step();
  if (!row.ok()) return std::move(row).error();
  if (!*row) return std::string();
  return std::string(s.ColumnText(0));
}

Result<std::optional<Conversation>> SqlStore::GetConversation(std::string_view tenant,
                                                              std::string_view request_id) {
  auto lease = Borrow();
  if (!lease.ok()) return std::move(lease).error();
  SqlConnection& db = **lease;
  return sql_conversations::Find(db, tenant, request_id);
}

Result<std::vector<ConversationMessage>> SqlStore::ListMessages(std::string_view request_id,
                                                                int64_t since, int limit) {
  auto lease = Borrow();
  if (!lease.ok()) return std::move(lease).error();
  SqlConnection& db = **lease;
  return sql_conversations::ListMessages(db, request_id, since, limit);
}

Result<std::vector<Conversation>> SqlStore::ListDueConversations(TimePoint now, int limit) {
  auto lease = Borrow();
  if (!lease.ok()) return std::move(lease).error();
  SqlConnection& db = **lease;
  return sql_conversations::ListDue(db, now, limit);
}

Result<std::optional<TimePoint>> SqlStore::NextConversationDue() {
  auto lease = Borrow();
  if (!lease.ok()) return std::move(lease).error();
  SqlConnection& db = **lease;
  return sql_conversations::NextDue(db);
}

Status SqlStore::Ping() {
  auto lease = Borrow();
  if (!lease.ok()) return std::move(lease).error();
  SqlConnection& db = **lease;
  return db.Run("SELECT 1");
}

}  // namespace countersign
