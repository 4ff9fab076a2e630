#include "store/sql/sql_transaction.hpp"

#include <algorithm>
#include <limits>

#include <boost/json/serialize.hpp>

#include "core/canonical_json.hpp"
#include "core/request_json.hpp"
#include "store/sql/sql_conversations.hpp"
#include "store/sql/sql_rows.hpp"

namespace countersign {

Result<std::optional<Request>> SqlTransaction::FindRequest(std::string_view tenant,
                                                           std::string_view id) {
  return sql_rows::LoadRequest(connection_, tenant, id);
}

Status SqlTransaction::InsertRequest(const Request& r) {
  static const std::string kInsert =
      std::string("INSERT INTO requests (") + sql_rows::kRequestColumns +
      ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
      "?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35, "
      "?36, ?37, ?38)";
  auto statement = connection_.Prepare(kInsert);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, r.id)
      .BindText(2, r.tenant)
      .BindText(3, KindName(r.kind))
      .BindText(4, r.action)
      .BindText(5, r.title)
      .BindText(6, boost::json::serialize(r.details))
      .BindText(7, boost::json::serialize(r.arguments))
      .BindText(8, r.arguments_sha256)
      .BindText(9, r.requester)
      .BindText(10, r.session)
      .BindText(11, StatusName(r.status))
      .BindText(12, boost::json::serialize(ChoicesToJson(r.choices)))
      .BindText(13, boost::json::serialize(StringsToJson(r.approvers)))
      .BindInt64(14, r.quorum)
      .BindText(15, r.policy)
      .BindText(16, r.risk)
      .BindInt64(17, ToUnixMillis(r.created_at))
      .BindInt64(18, ToUnixMillis(r.deadline_at))
      .BindText(19, OnTimeoutName(r.on_timeout))
      .BindInt64(20, r.escalation_level)
      .BindText(21, boost::json::serialize(StringsToJson(r.notify)))
      .BindText(22, r.callback_url)
      .BindText(23, r.idempotency_key)
      .BindOptionalInt64(24,
                         r.resolved_at ? std::optional(ToUnixMillis(*r.resolved_at)) : std::nullopt)
      .BindText(25, boost::json::serialize(StringsToJson(r.resolved_by)))
      .BindText(26, r.answer)
      .BindText(27, r.policy_reason)
      .BindInt64(28, r.deny_threshold)
      .BindText(29, boost::json::serialize(TiersToJson(r.escalate_to)))
      .BindInt64(30, std::chrono::duration_cast<Millis>(r.tier_timeout).count())
      .BindText(31, r.receipt)
      .BindInt64(32, std::chrono::duration_cast<Millis>(r.remind_every).count());
  if (r.response_schema) {
    s.BindText(33, boost::json::serialize(*r.response_schema));
  } else {
    s.BindNull(33);
  }
  s.BindText(34, ReasonCodeName(r.reason_code))
      .BindText(35, boost::json::serialize(GrantOptionsToJson(r.grant_options)))
      .BindText(36, r.receipt_use)
      .BindInt64(37, std::chrono::duration_cast<Millis>(r.report_within).count());
  if (r.execution) {
    s.BindText(38, boost::json::serialize(ExecutionToJson(*r.execution)));
  } else {
    s.BindNull(38);
  }
  return s.Run();
}

Status SqlTransaction::InsertDecision(const Request& request, const Decision& d) {
  if (!d.request_id.empty() && d.request_id != request.id) {
    return Error::Internal("decision " + d.id + " names request " + d.request_id +
                           " but was recorded for request " + request.id);
  }
  static constexpr char kInsert[] =
      "INSERT INTO decisions (id, request_id, tenant, principal, choice, outcome, comment, "
      "answer, arguments, at, response) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
  auto statement = connection_.Prepare(kInsert);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, d.id)
      .BindText(2, request.id)
      .BindText(3, request.tenant)
      .BindText(4, d.principal)
      .BindText(5, d.choice)
      .BindText(6, OutcomeName(d.outcome))
      .BindText(7, d.comment)
      .BindText(8, d.answer)
      .BindInt64(10, ToUnixMillis(d.at));
  if (d.arguments) {
    s.BindText(9, boost::json::serialize(*d.arguments));
  } else {
    s.BindNull(9);
  }
  if (d.response) {
    s.BindText(11, boost::json::serialize(*d.response));
  } else {
    s.BindNull(11);
  }
  return s.Run();
}

Result<bool> SqlTransaction::ResolveIfPending(std::string_view id, RequestStatus status,
                                              TimePoint at,
                                              const std::vector<std::string>& resolved_by,
                                              std::string_view answer, ReasonCode reason,
                                              std::string_view receipt) {
  // The receipt in the same statement: an approval rewrites its row once.
  static constexpr char kUpdate[] =
      "UPDATE requests SET status = ?1, resolved_at = ?2, resolved_by = ?3, answer = ?4, "
      "reason_code = ?6, receipt = ?7 WHERE id = ?5 AND status = 'pending'";
  auto statement = connection_.Prepare(kUpdate);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, StatusName(status))
      .BindInt64(2, ToUnixMillis(at))
      .BindText(3, boost::json::serialize(StringsToJson(resolved_by)))
      .BindText(4, answer)
      .BindText(5, id)
      .BindText(6, ReasonCodeName(reason))
      .BindText(7, receipt.empty() ? std::string_view("") : receipt);  // never NULL
  auto run = s.Run();
  if (!run.ok()) return std::move(run).error();
  return connection_.Changes() == 1;
}

Result<bool> SqlTransaction::SetExecutionIfUnreported(std::string_view id,
                                                      const ExecutionReport& report) {
  auto statement =
      connection_.Prepare("UPDATE requests SET execution = ?1 WHERE id = ?2 AND execution IS NULL");
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, boost::json::serialize(ExecutionToJson(report))).BindText(2, id);
  auto run = s.Run();
  if (!run.ok()) return std::move(run).error();
  return connection_.Changes() == 1;
}

Result<bool> SqlTransaction::ConsumeReceipt(ReceiptUse& attempt) {
  // Insert-or-nothing, then a conditional increment: under PostgreSQL's read committed a
  // concurrent consumer's uncommitted row makes the insert wait, then do nothing, and the
  // increment then sees (and re-checks) the committed count; SQLite has one writer.
  bool counted = false;
  {
    auto statement = connection_.Prepare(
        "INSERT INTO receipt_uses (jti, tenant, request_id, uses, max_uses, first_at, first_by, "
        "last_at, last_by) VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6, ?5, ?6) ON CONFLICT (jti) DO "
        "NOTHING");
    if (!statement.ok()) return std::move(statement).error();
    auto& s = **statement;
    s.BindText(1, attempt.jti)
        .BindText(2, attempt.tenant)
        .BindText(3, attempt.request_id)
        .BindInt64(4, attempt.max_uses)
        .BindInt64(5, ToUnixMillis(attempt.last_at))
        .BindText(6, attempt.last_by);
    auto run = s.Run();
    if (!run.ok()) return std::move(run).error();
    counted = connection_.Changes() == 1;
  }
  if (!counted) {
    auto statement = connection_.Prepare(
        "UPDATE receipt_uses SET uses = uses + 1, last_at = ?2, last_by = ?3 "
        "WHERE jti = ?1 AND uses < max_uses");
    if (!statement.ok()) return std::move(statement).error();
    auto& s = **statement;
    s.BindText(1, attempt.jti)
        .BindInt64(2, ToUnixMillis(attempt.last_at))
        .BindText(3, attempt.last_by);
    auto run = s.Run();
    if (!run.ok()) return std::move(run).error();
    counted = connection_.Changes() == 1;
  }
  auto statement = connection_.Prepare(
      "SELECT tenant, request_id, uses, max_uses, first_at, first_by, last_at, last_by "
      "FROM receipt_uses WHERE jti = ?1");
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, attempt.jti);
  auto row = s.Step();
  if (!row.ok()) return std::move(row).error();
  if (!*row) return Error::Internal("receipt use " + attempt.jti + " vanished in its transaction");
  attempt.tenant = s.ColumnText(0);
  attempt.request_id = s.ColumnText(1);
  attempt.uses = s.ColumnInt64(2);
  attempt.max_uses = s.ColumnInt64(3);
  attempt.first_at = FromUnixMillis(s.ColumnInt64(4));
  attempt.first_by = s.ColumnText(5);
  attempt.last_at = FromUnixMillis(s.ColumnInt64(6));
  attempt.last_by = s.ColumnText(7);
  return counted;
}

Result<bool> SqlTransaction::EscalateIfPending(std::string_view id, int escalation_level,
                                               TimePoint deadline,
                                               const std::vector<std::string>& approvers) {
  static constexpr char kUpdate[] =
      "UPDATE requests SET escalation_level = ?1, deadline_at = ?2, approvers = ?3 "
      "WHERE id = ?4 AND status = 'pending'";
  auto statement = connection_.Prepare(kUpdate);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindInt64(1, escalation_level)
      .BindInt64(2, ToUnixMillis(deadline))
      .BindText(3, boost::json::serialize(StringsToJson(approvers)))
      .BindText(4, id);
  auto run = s.Run();
  if (!run.ok()) return std::move(run).error();
  return connection_.Changes() == 1;
}

Result<AuditHead> SqlTransaction::FindAuditHead() {
  auto statement =
      connection_.Prepare("SELECT seq, hash, type FROM events ORDER BY seq DESC LIMIT 1");
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  auto row = s.Step();
  if (!row.ok()) return std::move(row).error();
  AuditHead head;
  if (!*row) return head;
  head.seq = s.ColumnInt64(0);
  head.hash = s.ColumnText(1);
  head.type = s.ColumnText(2);
  return head;
}

Result<std::optional<TimePoint>> SqlTransaction::LastEventAt(std::string_view request_id,
                                                             std::string_view type) {
  // Walks the request's events (events_request_seq) from the newest.
  auto statement = connection_.Prepare(
      "SELECT at FROM events WHERE request_id = ?1 AND type = ?2 ORDER BY seq DESC LIMIT 1");
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, request_id).BindText(2, type);
  auto row = s.Step();
  if (!row.ok()) return std::move(row).error();
  if (!*row) return std::optional<TimePoint>();
  return std::optional<TimePoint>(FromUnixMillis(s.ColumnInt64(0)));
}

Result<int64_t> SqlTransaction::AppendEvent(EventDraft draft) {
  static constexpr char kLast[] = "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1";
  static constexpr char kInsert[] =
      "INSERT INTO events (seq, at, tenant, request_id, type, actor, data, prev_hash, hash) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
  Event event;
  event.seq = 1;
  event.prev_hash = kGenesisHash;
  if (head_ != nullptr && head_->known) {
    if (head_->seq > 0) {
      event.seq = head_->seq + 1;
      event.prev_hash = head_->hash;
    }
  } else {
    auto statement = connection_.Prepare(kLast);
    if (!statement.ok()) return std::move(statement).error();
    auto& s = **statement;
    auto row = s.Step();
    if (!row.ok()) return std::move(row).error();
    if (*row) {
      event.seq = s.ColumnInt64(0) + 1;
      event.prev_hash = s.ColumnText(1);
    }
  }
  event.at = draft.at;
  event.tenant = std::move(draft.tenant);
  event.request_id = std::move(draft.request_id);
  event.type = std::move(draft.type);
  event.actor = std::move(draft.actor);
  event.data = std::move(draft.data);
  const std::string data = CanonicalJson(event.data);
  event.hash = ChainHash(event, data);

  auto statement = connection_.Prepare(kInsert);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindInt64(1, event.seq)
      .BindInt64(2, ToUnixMillis(event.at))
      .BindText(3, event.tenant)
      .BindText(4, event.request_id)
      .BindText(5, event.type)
      .BindText(6, event.actor)
      .BindText(7, data)
      .BindText(8, event.prev_hash)
      .BindText(9, event.hash);
  auto run = s.Run();
  if (!run.ok()) return std::move(run).error();
  if (head_ != nullptr) *head_ = ChainHead{true, event.seq, event.hash};
  appended_.push_back(std::move(event));
  return appended_.back().seq;
}

Result<std::optional<IdempotencyRecord>> SqlTransaction::FindIdempotency(std::string_view tenant,
                                                                         std::string_view key) {
  static constexpr char kSelect[] =
      "SELECT body_sha256, request_id, created_at FROM idempotency WHERE tenant = ?1 AND key = ?2";
  auto statement = connection_.Prepare(kSelect);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, tenant).BindText(2, key);
  auto row = s.Step();
  if (!row.ok()) return std::move(row).error();
  if (!*row) return std::optional<IdempotencyRecord>();
  return std::optional<IdempotencyRecord>(
      IdempotencyRecord{std::string(tenant), std::string(key), std::string(s.ColumnText(0)),
                        std::string(s.ColumnText(1)), FromUnixMillis(s.ColumnInt64(2))});
}

Status SqlTransaction::InsertIdempotency(const IdempotencyRecord& record) {
  static constexpr char kInsert[] =
      "INSERT INTO idempotency (tenant, key, body_sha256, request_id, created_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5)";
  auto statement = connection_.Prepare(kInsert);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, record.tenant)
      .BindText(2, record.key)
      .BindText(3, record.body_sha256)
      .BindText(4, record.request_id)
      .BindInt64(5, ToUnixMillis(record.created_at));
  return s.Run();
}

Status SqlTransaction::DeleteIdempotency(std::string_view tenant, std::string_view key) {
  static constexpr char kDelete[] = "DELETE FROM idempotency WHERE tenant = ?1 AND key = ?2";
  auto statement = connection_.Prepare(kDelete);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, tenant).BindText(2, key);
  return s.Run();
}

Result<int64_t> SqlTransaction::PurgeIdempotency(TimePoint before, int64_t limit) {
  static constexpr char kPurge[] =
      "DELETE FROM idempotency WHERE (tenant, key) IN (SELECT tenant, key FROM idempotency "
      "WHERE created_at < ?1 ORDER BY created_at LIMIT ?2)";
  auto statement = connection_.Prepare(kPurge);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindInt64(1, ToUnixMillis(before)).BindInt64(2, limit);
  CS_RETURN_IF_ERROR(s.Run());
  return connection_.Changes();
}

Result<int64_t> SqlTransaction::CountPendingFrom(std::string_view tenant,
                                                 std::string_view requester) {
  static constexpr char kCount[] =
      "SELECT count(*) FROM requests WHERE tenant = ?1 AND requester = ?2 AND status = 'pending'";
  auto statement = connection_.Prepare(kCount);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, tenant).BindText(2, requester);
  auto row = s.Step();
  if (!row.ok()) return std::move(row).error();
  return *row ? s.ColumnInt64(0) : 0;
}

Status SqlTransaction::InsertPrincipal(const Principal& p) {
  static const std::string kInsert = std::string("INSERT INTO principals (") +
                                     sql_rows::kPrincipalColumns +
                                     ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
  auto statement = connection_.Prepare(kInsert);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, p.id)
      .BindText(2, p.name)
      .BindText(3, RoleName(p.role))
      .BindText(4, p.tenant)
      .BindText(5, boost::json::serialize(StringsToJson(p.groups)))
      .BindText(6, p.token_sha256)
      .BindInt64(7, ToUnixMillis(p.created_at))
      .BindOptionalInt64(8,
                         p.revoked_at ? std::optional(ToUnixMillis(*p.revoked_at)) : std::nullopt);
  return s.Run();
}

Result<bool> SqlTransaction::RevokePrincipal(std::string_view tenant, std::string_view id,
                                             TimePoint at) {
  static constexpr char kRevokeAnyTenant[] =
      "UPDATE principals SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL";
  static constexpr char kRevokeInTenant[] =
      "UPDATE principals SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL "
      "AND tenant = ?3";
  auto statement = connection_.Prepare(tenant.empty() ? kRevokeAnyTenant : kRevokeInTenant);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindInt64(1, ToUnixMillis(at)).BindText(2, id);
  if (!tenant.empty()) s.BindText(3, tenant);
  auto run = s.Run();
  if (!run.ok()) return std::move(run).error();
  return connection_.Changes() == 1;
}

Status SqlTransaction::InsertGrant(const Grant& g) {
  static const std::string kInsert = std::string("INSERT INTO grants (") + sql_rows::kGrantColumns +
                                     ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
  auto statement = connection_.Prepare(kInsert);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, g.id)
      .BindText(2, g.tenant)
      .BindText(3, g.action)
      .BindText(4, g.scope)
      .BindText(5, g.session)
      .BindText(6, g.created_by)
      .BindInt64(7, ToUnixMillis(g.created_at))
      .BindInt64(8, ToUnixMillis(g.expires_at))
      .BindOptionalInt64(9,
                         g.revoked_at ? std::optional(ToUnixMillis(*g.revoked_at)) : std::nullopt)
      .BindText(10, g.request_id)
      .BindText(11, g.requester);
  return s.Run();
}

Result<bool> SqlTransaction::RevokeGrant(std::string_view tenant, std::string_view id,
                                         TimePoint at) {
  auto statement = connection_.Prepare(
      "UPDATE grants SET revoked_at = ?1 WHERE id = ?2 AND tenant = ?3 AND revoked_at IS NULL");
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindInt64(1, ToUnixMillis(at)).BindText(2, id).BindText(3, tenant);
  auto run = s.Run();
  if (!run.ok()) return std::move(run).error();
  return connection_.Changes() == 1;
}

Status SqlTransaction::InsertOutbox(OutboxRow& row) {
  static constexpr char kInsert[] =
      "INSERT INTO outbox (delivery_id, tenant, request_id, destination, kind, event, event_seq, "
      "target, payload, state, attempts, next_attempt_at, last_error, created_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'pending', 0, ?10, '', ?11) RETURNING id";
  auto statement = connection_.Prepare(kInsert);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, row.delivery_id)
      .BindText(2, row.tenant)
      .BindText(3, row.request_id)
      .BindText(4, row.destination)
      .BindText(5, row.kind)
      .BindText(6, row.event)
      .BindInt64(7, row.event_seq)
      .BindText(8, row.target)
      .BindText(9, row.payload)
      .BindInt64(10, ToUnixMillis(row.next_attempt_at))
      .BindInt64(11, ToUnixMillis(row.created_at));
  auto inserted = s.Step();
  if (!inserted.ok()) return std::move(inserted).error();
  if (!*inserted) return Error::Internal("inserting an outbox row returned no id");
  row.id = s.ColumnInt64(0);
  // Finish the statement so its row is written before anything else uses the connection.
  CS_RETURN_IF_ERROR(s.Run());
  row.state = "pending";
  row.attempts = 0;
  return Ok();
}

Status SqlTransaction::UpdateOutbox(const OutboxRow& row) {
  static constexpr char kUpdate[] =
      "UPDATE outbox SET state = ?1, attempts = ?2, next_attempt_at = ?3, last_error = ?4, "
      "lease_owner = '', lease_until = 0 WHERE id = ?5";
  auto statement = connection_.Prepare(kUpdate);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, row.state)
      .BindInt64(2, row.attempts)
      .BindInt64(3, ToUnixMillis(row.next_attempt_at))
      .BindText(4, row.last_error)
      .BindInt64(5, row.id);
  CS_RETURN_IF_ERROR(s.Run());
  if (connection_.Changes() != 1) {
    return Error::NotFound("no outbox row " + std::to_string(row.id));
  }
  return Ok();
}

Result<std::optional<OutboxRow>> SqlTransaction::RetryOutbox(std::string_view tenant,
                                                             std::string_view delivery_id,
                                                             TimePoint now) {
  static constexpr char kRetry[] =
      "UPDATE outbox SET attempts = CASE WHEN state = 'failed' THEN 0 ELSE attempts END, "
      "state = 'pending', next_attempt_at = ?1 "
      "WHERE delivery_id = ?2 AND (?3 = '' OR tenant = ?3) AND state IN ('pending', 'failed')";
  auto update = connection_.Prepare(kRetry);
  if (!update.ok()) return std::move(update).error();
  auto& u = **update;
  u.BindInt64(1, ToUnixMillis(now)).BindText(2, delivery_id).BindText(3, tenant);
  CS_RETURN_IF_ERROR(u.Run());
  static const std::string kSelect = std::string("SELECT ") + sql_rows::kOutboxColumns +
                                     " FROM outbox WHERE delivery_id = ?1 AND (?2 = '' OR "
                                     "tenant = ?2)";
  auto select = connection_.Prepare(kSelect);
  if (!select.ok()) return std::move(select).error();
  auto& s = **select;
  s.BindText(1, delivery_id).BindText(2, tenant);
  auto found = s.Step();
  if (!found.ok()) return std::move(found).error();
  if (!*found) return std::optional<OutboxRow>();
  return std::optional<OutboxRow>(sql_rows::OutboxFromRow(s));
}

Status SqlTransaction::PutChannelMessage(std::string_view request_id, std::string_view destination,
                                         std::string_view ref) {
  static constexpr char kUpsert[] =
      "INSERT INTO channel_messages (request_id, destination, ref) VALUES (?1, ?2, ?3) "
      "ON CONFLICT (request_id, destination) DO UPDATE SET ref = excluded.ref";
  auto statement = connection_.Prepare(kUpsert);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, request_id).BindText(2, destination).BindText(3, ref);
  return s.Run();
}

Status SqlTransaction::PutAuditCheckpoint(const AuditCheckpoint& checkpoint) {
  if (checkpoint.seq < 0 || (checkpoint.seq == 0) != checkpoint.hash.empty()) {
    return Error::Invalid("audit checkpoint at seq " + std::to_string(checkpoint.seq) +
                          " must have a hash exactly when seq > 0");
  }
  if (checkpoint.seq > 0) {
    auto statement = connection_.Prepare("SELECT hash FROM events WHERE seq = ?1");
    if (!statement.ok()) return std::move(statement).error();
    auto& s = **statement;
    s.BindInt64(1, checkpoint.seq);
    auto row = s.Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row || s.ColumnText(0) != checkpoint.hash) {
      return Error::Invalid("audit checkpoint names seq " + std::to_string(checkpoint.seq) +
                            (*row ? ", whose hash differs" : ", which is not in the log"));
    }
  }
  static constexpr char kUpsert[] =
      "INSERT INTO audit_checkpoint (id, seq, hash, verified_at) VALUES (1, ?1, ?2, ?3) "
      "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, "
      "verified_at = excluded.verified_at";
  auto statement = connection_.Prepare(kUpsert);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindInt64(1, checkpoint.seq)
      .BindText(2, checkpoint.hash)
      .BindInt64(3, ToUnixMillis(checkpoint.verified_at));
  return s.Run();
}

namespace {

// The smallest request id made at `at` or later: "req_" and the ULID of (at, all random bits 0).
// Ids sort by the time they were made (core/id_generator.hpp), so every request created before
// `at` has a smaller id, and the primary key bounds a retention pass's scan.
std::string FirstRequestIdAt(TimePoint at) {
  static constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  const uint64_t ms = static_cast<uint64_t>(std::max<int64_t>(0, ToUnixMillis(at)));
  std::string id = "req_";
  // The ULID's first 10 digits are the 48-bit time with two zero bits on top (50 bits).
  for (int digit = 9; digit >= 0; --digit) id.push_back(kCrockford[(ms >> (5 * digit)) & 31]);
  id.append(16, '0');
  return id;
}

}  // namespace

Result<PrunedRequests> SqlTransaction::PruneResolved(TimePoint before, int64_t limit) {
  if (limit < 1) return Error::Invalid("a retention pass removes at least one request at a time");
  // resolved_at is at or after created_at, so what was resolved before `before` was also
  // created before it: the id bound only narrows the scan.
  static constexpr char kSelect[] =
      "SELECT id, status FROM requests WHERE id < ?1 AND resolved_at < ?2 AND status <> 'pending' "
      "ORDER BY id LIMIT ?3";
  std::vector<std::string> ids;
  PrunedRequests pruned;
  {
    auto statement = connection_.Prepare(kSelect);
    if (!statement.ok()) return std::move(statement).error();
    auto& s = **statement;
    s.BindText(1, FirstRequestIdAt(before)).BindInt64(2, ToUnixMillis(before)).BindInt64(3, limit);
    for (;;) {
      auto row = s.Step();
      if (!row.ok()) return std::move(row).error();
      if (!*row) break;
      ids.emplace_back(s.ColumnText(0));
      ++pruned.by_status[std::string(s.ColumnText(1))];
    }
  }
  if (ids.empty()) return pruned;
  // Dependents first: decisions refer to their request.
  static constexpr const char* kDeletes[] = {
      "DELETE FROM decisions WHERE request_id = ?1",
      "DELETE FROM outbox WHERE request_id = ?1",
      "DELETE FROM channel_messages WHERE request_id = ?1",
      "DELETE FROM conversation_messages WHERE request_id = ?1",
      "DELETE FROM conversations WHERE request_id = ?1",
      "DELETE FROM requests WHERE id = ?1",
  };
  for (const std::string& id : ids) {
    for (const char* sql : kDeletes) {
      auto statement = connection_.Prepare(sql);
      if (!statement.ok()) return std::move(statement).error();
      auto& s = **statement;
      s.BindText(1, id);
      CS_RETURN_IF_ERROR(s.Run());
    }
  }
  // Idempotency keys have no index by request; they are few (they expire after [limits]
  // idempotency_ttl), so one statement for the whole range.
  static constexpr char kKeys[] =
      "DELETE FROM idempotency WHERE request_id >= ?1 AND request_id <= ?2 AND NOT EXISTS "
      "(SELECT 1 FROM requests r WHERE r.id = idempotency.request_id)";
  auto statement = connection_.Prepare(kKeys);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, ids.front()).BindText(2, ids.back());
  CS_RETURN_IF_ERROR(s.Run());
  pruned.count = static_cast<int64_t>(ids.size());
  pruned.first_id = ids.front();
  pruned.last_id = ids.back();
  return pruned;
}

Status SqlTransaction::InsertConversation(const Conversation& conversation) {
  return sql_conversations::Insert(connection_, conversation);
}

Result<std::optional<Conversation>> SqlTransaction::FindConversation(std::string_view tenant,
                                                                     std::string_view request_id) {
  return sql_conversations::Find(connection_, tenant, request_id);
}

Status SqlTransaction::UpdateConversation(const Conversation& conversation) {
  return sql_conversations::Update(connection_, conversation);
}

Result<std::optional<Conversation>> SqlTransaction::FindConversationByThread(
    std::string_view tenant, std::string_view feed_ts) {
  return sql_conversations::FindByThread(connection_, tenant, feed_ts);
}

Result<std::vector<Conversation>> SqlTransaction::FindConversationsWith(std::string_view tenant,
                                                                        std::string_view subject,
                                                                        ConversationPhase phase) {
  return sql_conversations::FindWith(connection_, tenant, subject, phase);
}

Result<bool> SqlTransaction::AppendMessage(ConversationMessage& message) {
  return sql_conversations::AppendMessage(connection_, message);
}

Result<std::vector<ConversationMessage>> SqlTransaction::ListMessagesIn(
    std::string_view request_id) {
  return sql_conversations::ListMessages(connection_, request_id, 0,
                                         std::numeric_limits<int>::max());
}

}  // namespace countersign
