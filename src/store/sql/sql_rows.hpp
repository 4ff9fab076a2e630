// Mapping between the SQLite schema (migrations/*.sql) and the core types, shared by the
// writer-side SqlTransaction and the reader side of SqliteStore.
//
// Readers turn malformed stored JSON or an unknown enum name into kInternal naming the row,
// never a crash. Free functions; each uses only the connection it is given, which the caller
// owns for the duration of the call (connections are not thread-safe).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "core/event.hpp"
#include "core/grant.hpp"
#include "core/principal.hpp"
#include "core/request.hpp"
#include "core/result.hpp"
#include "store/sql/sql_connection.hpp"
#include "store/sql/sql_statement.hpp"
#include "store/store.hpp"

namespace countersign::sql_rows {

// Column lists in the order the *FromRow functions read them.
inline constexpr char kRequestColumns[] =
    "id, tenant, kind, action, title, details, arguments, arguments_sha256, requester, "
    "session, status, choices, approvers, quorum, policy, risk, created_at, deadline_at, "
    "on_timeout, escalation_level, notify, callback_url, idempotency_key, resolved_at, "
    "resolved_by, answer, policy_reason, deny_threshold, escalate_to, tier_timeout_ms, "
    "receipt, remind_every_ms, response_schema, reason_code, grant_options, receipt_use, "
    "report_within_ms, execution";
inline constexpr char kDecisionColumns[] =
    "id, request_id, principal, choice, outcome, comment, answer, arguments, at, response";
inline constexpr char kGrantColumns[] =
    "id, tenant, action, scope, session, created_by, created_at, expires_at, revoked_at, "
    "request_id, requester";
inline constexpr char kEventColumns[] =
    "seq, at, tenant, request_id, type, actor, data, prev_hash, hash";
inline constexpr char kPrincipalColumns[] =
    "id, name, role, tenant, groups, token_sha256, created_at, revoked_at";
inline constexpr char kOutboxColumns[] =
    "id, delivery_id, tenant, request_id, destination, kind, event, event_seq, target, payload, "
    "state, attempts, next_attempt_at, last_error, created_at";

// The request in the current row (without its decisions).
Result<Request> RequestFromRow(const SqlStatement& row);
Result<Grant> GrantFromRow(const SqlStatement& row);
Result<Decision> DecisionFromRow(const SqlStatement& row);
Result<Event> EventFromRow(const SqlStatement& row);
// Every column of an event row but `data`, which is left empty (never fails).
Event EventWithoutDataFromRow(const SqlStatement& row);
Result<Principal> PrincipalFromRow(const SqlStatement& row);
OutboxRow OutboxFromRow(const SqlStatement& row);

// Parses a stored JSON object; kInternal naming `what` (e.g. "requests.details of req_1").
Result<boost::json::object> ParseStoredObject(std::string_view text, std::string_view what);

// The request `id` of `tenant` with its decisions (oldest first), or nullopt. The caller runs
// it inside a transaction when both queries must see one snapshot.
Result<std::optional<Request>> LoadRequest(SqlConnection& connection, std::string_view tenant,
                                           std::string_view id);

// Fills in the decisions of every request in `requests` with one query.
Status LoadDecisions(SqlConnection& connection, std::vector<Request>& requests);

}  // namespace countersign::sql_rows
