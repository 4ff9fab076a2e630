#include "store/sql/sql_rows.hpp"

#include <string>
#include <unordered_map>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/request_json.hpp"

namespace countersign::sql_rows {
namespace {

std::string Where(std::string_view column, std::string_view table, std::string_view key) {
  std::string text(table);
  text += '.';
  text += column;
  text += " of ";
  text += key;
  return text;
}

Error Corrupt(std::string_view what, std::string_view why) {
  std::string text = "stored ";
  text += what;
  text += ' ';
  text += why;
  return Error::Internal(std::move(text));
}

Result<boost::json::value> ParseStoredValue(std::string_view text, std::string_view what) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(text, ec);
  if (ec) return Corrupt(what, "is not valid JSON: " + ec.message());
  return value;
}

Result<std::vector<std::string>> ParseStoredStrings(std::string_view text, std::string_view what) {
  auto value = ParseStoredValue(text, what);
  if (!value.ok()) return std::move(value).error();
  auto strings = StringsFromJson(*value, "value");
  if (!strings.ok()) return Corrupt(what, "is not an array of strings");
  return std::move(strings).value();
}

}  // namespace

Result<boost::json::object> ParseStoredObject(std::string_view text, std::string_view what) {
  auto value = ParseStoredValue(text, what);
  if (!value.ok()) return std::move(value).error();
  if (!value->is_object()) return Corrupt(what, "is not a JSON object");
  return std::move(value->get_object());
}

Result<Request> RequestFromRow(const SqlStatement& row) {
  Request r;
  r.id = row.ColumnText(0);
  const auto at = [&](std::string_view column) { return Where(column, "requests", r.id); };
  r.tenant = row.ColumnText(1);
  auto kind = ParseKind(row.ColumnText(2));
  if (!kind) return Corrupt(at("kind"), "is unknown: \"" + std::string(row.ColumnText(2)) + "\"");
  r.kind = *kind;
  r.action = row.ColumnText(3);
  r.title = row.ColumnText(4);
  auto details = ParseStoredObject(row.ColumnText(5), at("details"));
  if (!details.ok()) return std::move(details).error();
  r.details = std::move(details).value();
  auto arguments = ParseStoredObject(row.ColumnText(6), at("arguments"));
  if (!arguments.ok()) return std::move(arguments).error();
  r.arguments = std::move(arguments).value();
  r.arguments_sha256 = row.ColumnText(7);
  r.requester = row.ColumnText(8);
  r.session = row.ColumnText(9);
  auto status = ParseStatus(row.ColumnText(10));
  if (!status) {
    return Corrupt(at("status"), "is unknown: \"" + std::string(row.ColumnText(10)) + "\"");
  }
  r.status = *status;
  auto choices_json = ParseStoredValue(row.ColumnText(11), at("choices"));
  if (!choices_json.ok()) return std::move(choices_json).error();
  auto choices = ChoicesFromJson(*choices_json);
  if (!choices.ok()) return Corrupt(at("choices"), "are invalid: " + choices.error().message);
  r.choices = std::move(choices).value();
  auto approvers = ParseStoredStrings(row.ColumnText(12), at("approvers"));
  if (!approvers.ok()) return std::move(approvers).error();
  r.approvers = std::move(approvers).value();
  r.quorum = static_cast<int>(row.ColumnInt64(13));
  r.policy = row.ColumnText(14);
  r.risk = row.ColumnText(15);
  r.created_at = FromUnixMillis(row.ColumnInt64(16));
  r.deadline_at = FromUnixMillis(row.ColumnInt64(17));
  auto on_timeout = ParseOnTimeout(row.ColumnText(18));
  if (!on_timeout) {
    return Corrupt(at("on_timeout"), "is unknown: \"" + std::string(row.ColumnText(18)) + "\"");
  }
  r.on_timeout = *on_timeout;
  r.escalation_level = static_cast<int>(row.ColumnInt64(19));
  auto notify = ParseStoredStrings(row.ColumnText(20), at("notify"));
  if (!notify.ok()) return std::move(notify).error();
  r.notify = std::move(notify).value();
  r.callback_url = row.ColumnText(21);
  r.idempotency_key = row.ColumnText(22);
  if (!row.ColumnIsNull(23)) r.resolved_at = FromUnixMillis(row.ColumnInt64(23));
  auto resolved_by = ParseStoredStrings(row.ColumnText(24), at("resolved_by"));
  if (!resolved_by.ok()) return std::move(resolved_by).error();
  r.resolved_by = std::move(resolved_by).value();
  r.answer = row.ColumnText(25);
  r.policy_reason = row.ColumnText(26);
  r.deny_threshold = static_cast<int>(row.ColumnInt64(27));
  auto tiers_json = ParseStoredValue(row.ColumnText(28), at("escalate_to"));
  if (!tiers_json.ok()) return std::move(tiers_json).error();
  auto tiers = TiersFromJson(*tiers_json);
  if (!tiers.ok()) return Corrupt(at("escalate_to"), "are invalid: " + tiers.error().message);
  r.escalate_to = std::move(tiers).value();
  r.tier_timeout = std::chrono::seconds(row.ColumnInt64(29) / 1000);
  r.receipt = row.ColumnText(30);
  r.remind_every = std::chrono::seconds(row.ColumnInt64(31) / 1000);
  if (!row.ColumnIsNull(32)) {
    auto schema = ParseStoredObject(row.ColumnText(32), at("response_schema"));
    if (!schema.ok()) return std::move(schema).error();
    r.response_schema = std::move(schema).value();
  }
  auto reason = ParseReasonCode(row.ColumnText(33));
  if (!reason) {
    return Corrupt(at("reason_code"), "is unknown: \"" + std::string(row.ColumnText(33)) + "\"");
  }
  r.reason_code = *reason;
  auto options_json = ParseStoredValue(row.ColumnText(34), at("grant_options"));
  if (!options_json.ok()) return std::move(options_json).error();
  auto options = GrantOptionsFromJson(*options_json);
  if (!options.ok()) return Corrupt(at("grant_options"), "are invalid: " + options.error().message);
  r.grant_options = std::move(options).value();
  r.receipt_use = row.ColumnText(35);
  r.report_within = std::chrono::seconds(row.ColumnInt64(36) / 1000);
  if (!row.ColumnIsNull(37)) {
    auto execution_json = ParseStoredValue(row.ColumnText(37), at("execution"));
    if (!execution_json.ok()) return std::move(execution_json).error();
    auto execution = ExecutionFromJson(*execution_json);
    if (!execution.ok())
      return Corrupt(at("execution"), "is invalid: " + execution.error().message);
    r.execution = std::move(execution).value();
  }
  return r;
}

Result<Grant> GrantFromRow(const SqlStatement& row) {
  Grant g;
  g.id = row.ColumnText(0);
  g.tenant = row.ColumnText(1);
  g.action = row.ColumnText(2);
  g.scope = row.ColumnText(3);
  g.session = row.ColumnText(4);
  g.created_by = row.ColumnText(5);
  g.created_at = FromUnixMillis(row.ColumnInt64(6));
  g.expires_at = FromUnixMillis(row.ColumnInt64(7));
  if (!row.ColumnIsNull(8)) g.revoked_at = FromUnixMillis(row.ColumnInt64(8));
  g.request_id = row.ColumnText(9);
  g.requester = row.ColumnText(10);
  return g;
}

Result<Decision> DecisionFromRow(const SqlStatement& row) {
  Decision d;
  d.id = row.ColumnText(0);
  d.request_id = row.ColumnText(1);
  d.principal = row.ColumnText(2);
  d.choice = row.ColumnText(3);
  auto outcome = ParseOutcome(row.ColumnText(4));
  if (!outcome) {
    return Corrupt(Where("outcome", "decisions", d.id),
                   "is unknown: \"" + std::string(row.ColumnText(4)) + "\"");
  }
  d.outcome = *outcome;
  d.comment = row.ColumnText(5);
  d.answer = row.ColumnText(6);
  if (!row.ColumnIsNull(7)) {
    auto arguments = ParseStoredObject(row.ColumnText(7), Where("arguments", "decisions", d.id));
    if (!arguments.ok()) return std::move(arguments).error();
    d.arguments = std::move(arguments).value();
  }
  d.at = FromUnixMillis(row.ColumnInt64(8));
  if (!row.ColumnIsNull(9)) {
    auto response = ParseStoredObject(row.ColumnText(9), Where("response", "decisions", d.id));
    if (!response.ok()) return std::move(response).error();
    d.response = std::move(response).value();
  }
  return d;
}

Event EventWithoutDataFromRow(const SqlStatement& row) {
  Event e;
  e.seq = row.ColumnInt64(0);
  e.at = FromUnixMillis(row.ColumnInt64(1));
  e.tenant = row.ColumnText(2);
  e.request_id = row.ColumnText(3);
  e.type = row.ColumnText(4);
  e.actor = row.ColumnText(5);
  e.prev_hash = row.ColumnText(7);
  e.hash = row.ColumnText(8);
  return e;
}

Result<Event> EventFromRow(const SqlStatement& row) {
  Event e = EventWithoutDataFromRow(row);
  auto data = ParseStoredObject(row.ColumnText(6), "events.data of seq " + std::to_string(e.seq));
  if (!data.ok()) return std::move(data).error();
  e.data = std::move(data).value();
  return e;
}

Result<Principal> PrincipalFromRow(const SqlStatement& row) {
  Principal p;
  p.id = row.ColumnText(0);
  p.name = row.ColumnText(1);
  auto role = ParseRole(row.ColumnText(2));
  if (!role) {
    return Corrupt(Where("role", "principals", p.id),
                   "is unknown: \"" + std::string(row.ColumnText(2)) + "\"");
  }
  p.role = *role;
  p.tenant = row.ColumnText(3);
  auto groups = ParseStoredStrings(row.ColumnText(4), Where("groups", "principals", p.id));
  if (!groups.ok()) return std::move(groups).error();
  p.groups = std::move(groups).value();
  p.token_sha256 = row.ColumnText(5);
  p.created_at = FromUnixMillis(row.ColumnInt64(6));
  if (!row.ColumnIsNull(7)) p.revoked_at = FromUnixMillis(row.ColumnInt64(7));
  return p;
}

OutboxRow OutboxFromRow(const SqlStatement& row) {
  OutboxRow out;
  out.id = row.ColumnInt64(0);
  out.delivery_id = row.ColumnText(1);
  out.tenant = row.ColumnText(2);
  out.request_id = row.ColumnText(3);
  out.destination = row.ColumnText(4);
  out.kind = row.ColumnText(5);
  out.event = row.ColumnText(6);
  out.event_seq = row.ColumnInt64(7);
  out.target = row.ColumnText(8);
  out.payload = row.ColumnText(9);
  out.state = row.ColumnText(10);
  out.attempts = static_cast<int>(row.ColumnInt64(11));
  out.next_attempt_at = FromUnixMillis(row.ColumnInt64(12));
  out.last_error = row.ColumnText(13);
  out.created_at = FromUnixMillis(row.ColumnInt64(14));
  return out;
}

Result<std::optional<Request>> LoadRequest(SqlConnection& connection, std::string_view tenant,
                                           std::string_view id) {
  static const std::string kSelectRequest =
      std::string("SELECT ") + kRequestColumns + " FROM requests WHERE id = ?1 AND tenant = ?2";
  static const std::string kSelectDecisions = std::string("SELECT ") + kDecisionColumns +
                                              " FROM decisions WHERE request_id = ?1 "
                                              "ORDER BY at, id";
  Request request;
  {
    auto statement = connection.Prepare(kSelectRequest);
    if (!statement.ok()) return std::move(statement).error();
    auto& s = **statement;
    s.BindText(1, id).BindText(2, tenant);
    auto row = s.Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return std::optional<Request>();
    auto parsed = RequestFromRow(s);
    if (!parsed.ok()) return std::move(parsed).error();
    request = std::move(parsed).value();
  }
  auto statement = connection.Prepare(kSelectDecisions);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, id);
  for (;;) {
    auto row = s.Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) break;
    auto decision = DecisionFromRow(s);
    if (!decision.ok()) return std::move(decision).error();
    request.decisions.push_back(std::move(decision).value());
  }
  return std::optional<Request>(std::move(request));
}

Status LoadDecisions(SqlConnection& connection, std::vector<Request>& requests) {
  if (requests.empty()) return Ok();
  // One statement for any page size: the ids travel as one JSON array parameter.
  static const std::string kSelectDecisions =
      std::string("SELECT ") + kDecisionColumns +
      " FROM decisions WHERE request_id IN (SELECT value FROM json_each(?1)) "
      "ORDER BY request_id, at, id";
  static const std::string kSelectDecisionsPg =
      std::string("SELECT ") + kDecisionColumns +
      " FROM decisions WHERE request_id IN (SELECT json_array_elements_text(?1::json)) "
      "ORDER BY request_id, at, id";
  std::unordered_map<std::string_view, Request*> by_id;
  boost::json::array ids;
  ids.reserve(requests.size());
  for (auto& r : requests) {
    by_id.emplace(r.id, &r);
    ids.emplace_back(r.id);
  }
  auto statement = connection.Prepare(
      connection.dialect() == SqlDialect::kPostgres ? kSelectDecisionsPg : kSelectDecisions);
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, boost::json::serialize(ids));
  for (;;) {
    auto row = s.Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) break;
    auto decision = DecisionFromRow(s);
    if (!decision.ok()) return std::move(decision).error();
    auto it = by_id.find(decision->request_id);
    if (it != by_id.end()) it->second->decisions.push_back(std::move(decision).value());
  }
  return Ok();
}

}  // namespace countersign::sql_rows
