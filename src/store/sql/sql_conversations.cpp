#include "store/sql/sql_conversations.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/conversation_json.hpp"

namespace countersign::sql_conversations {
namespace {

constexpr char kColumns[] = "request_id, body";

Result<Conversation> FromRow(const SqlStatement& s) {
  const std::string id(s.ColumnText(0));
  boost::system::error_code ec;
  boost::json::value body = boost::json::parse(s.ColumnText(1), ec);
  if (ec) return Error::Internal("conversations.body of " + id + " is not JSON");
  auto parsed = ConversationFromJson(body);
  if (!parsed.ok()) {
    return Error::Internal("conversation " + id + ": " + parsed.error().message);
  }
  return parsed;
}

// Every conversation the statement `s` (already bound) selects with kColumns.
Result<std::vector<Conversation>> Collect(SqlStatement& s) {
  std::vector<Conversation> out;
  for (;;) {
    auto row = s.Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return out;
    auto c = FromRow(s);
    if (!c.ok()) return std::move(c).error();
    out.push_back(std::move(c).value());
  }
}

Status Bind(SqlStatement& s, const Conversation& c) {
  s.BindText(1, c.request_id)
      .BindText(2, c.tenant)
      .BindText(3, c.subject)
      .BindText(4, PhaseName(c.phase))
      // "deliver": no step, but messages or the alert message still to show.
      .BindText(5, c.step != ConversationStep::kNone ? StepName(c.step)
                   : c.has_work()                    ? "deliver"
                                                     : "none")
      .BindInt64(6, ToUnixMillis(c.step_due))
      .BindText(7, boost::json::serialize(ConversationToJson(c)));
  return s.Run();
}

}  // namespace

Status Insert(SqlConnection& connection, const Conversation& c) {
  auto statement = connection.Prepare(
      "INSERT INTO conversations (request_id, tenant, subject, phase, step, step_due, body) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  if (!statement.ok()) return std::move(statement).error();
  return Bind(**statement, c);
}

Status Update(SqlConnection& connection, const Conversation& c) {
  auto statement = connection.Prepare(
      "UPDATE conversations SET tenant = ?2, subject = ?3, phase = ?4, step = ?5, step_due = ?6, "
      "body = ?7 WHERE request_id = ?1");
  if (!statement.ok()) return std::move(statement).error();
  CS_RETURN_IF_ERROR(Bind(**statement, c));
  if (connection.Changes() != 1) return Error::NotFound("no conversation " + c.request_id);
  return Ok();
}

Result<std::optional<Conversation>> Find(SqlConnection& connection, std::string_view tenant,
                                         std::string_view request_id) {
  auto statement = connection.Prepare(std::string("SELECT ") + kColumns +
                                      " FROM conversations WHERE request_id = ?1 AND tenant = ?2");
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, request_id).BindText(2, tenant);
  auto found = Collect(s);
  if (!found.ok()) return std::move(found).error();
  if (found->empty()) return std::optional<Conversation>();
  return std::optional<Conversation>(std::move(found->front()));
}

Result<std::optional<Conversation>> FindByThread(SqlConnection& connection, std::string_view tenant,
                                                 std::string_view feed_ts) {
  // The expression of the index conversations_thread, in each dialect.
  auto statement = connection.Prepare(
      std::string("SELECT ") + kColumns + " FROM conversations WHERE tenant = ?1 AND " +
      (connection.dialect() == SqlDialect::kPostgres ? "(body::json ->> 'feed_ts')"
                                                     : "json_extract(body, '$.feed_ts')") +
      " = ?2");
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, tenant).BindText(2, feed_ts);
  auto found = Collect(s);
  if (!found.ok()) return std::move(found).error();
  if (found->empty()) return std::optional<Conversation>();
  return std::optional<Conversation>(std::move(found->front()));
}

Result<std::vector<Conversation>> FindWith(SqlConnection& connection, std::string_view tenant,
                                           std::string_view subject, ConversationPhase phase) {
  auto statement = connection.Prepare(
      std::string("SELECT ") + kColumns +
      " FROM conversations WHERE tenant = ?1 AND subject = ?2 AND phase = ?3 ORDER BY request_id");
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, tenant).BindText(2, subject).BindText(3, PhaseName(phase));
  return Collect(s);
}

Result<std::vector<Conversation>> ListDue(SqlConnection& connection, TimePoint now, int limit) {
  auto statement = connection.Prepare(std::string("SELECT ") + kColumns +
                                      " FROM conversations WHERE step <> 'none' AND step_due <= ?1 "
                                      "ORDER BY step_due LIMIT ?2");
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindInt64(1, ToUnixMillis(now)).BindInt64(2, limit);
  return Collect(s);
}

Result<std::optional<TimePoint>> NextDue(SqlConnection& connection) {
  auto statement =
      connection.Prepare("SELECT MIN(step_due) FROM conversations WHERE step <> 'none'");
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  auto row = s.Step();
  if (!row.ok()) return std::move(row).error();
  if (!*row || s.ColumnIsNull(0)) return std::optional<TimePoint>();
  return std::optional<TimePoint>(FromUnixMillis(s.ColumnInt64(0)));
}

Result<bool> AppendMessage(SqlConnection& connection, ConversationMessage& message) {
  if (!message.external_id.empty()) {
    auto statement = connection.Prepare(
        "SELECT 1 FROM conversation_messages WHERE request_id = ?1 AND external_id = ?2");
    if (!statement.ok()) return std::move(statement).error();
    auto& s = **statement;
    s.BindText(1, message.request_id).BindText(2, message.external_id);
    auto row = s.Step();
    if (!row.ok()) return std::move(row).error();
    if (*row) return false;
  }
  auto statement = connection.Prepare(
      "INSERT INTO conversation_messages (request_id, seq, role, author, text, at, external_id) "
      "VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM conversation_messages "
      "WHERE request_id = ?1), ?2, ?3, ?4, ?5, ?6) RETURNING seq");
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, message.request_id)
      .BindText(2, MessageRoleName(message.role))
      .BindText(3, message.author)
      .BindText(4, message.text)
      .BindInt64(5, ToUnixMillis(message.at));
  if (message.external_id.empty()) {
    s.BindNull(6);
  } else {
    s.BindText(6, message.external_id);
  }
  auto row = s.Step();
  if (!row.ok()) return std::move(row).error();
  if (!*row) return Error::Internal("appending a message returned no seq");
  message.seq = s.ColumnInt64(0);
  // Finish the statement so its row is written before anything else uses the connection.
  auto done = s.Step();
  if (!done.ok()) return std::move(done).error();
  return true;
}

Result<std::vector<ConversationMessage>> ListMessages(SqlConnection& connection,
                                                      std::string_view request_id, int64_t since,
                                                      int limit) {
  auto statement = connection.Prepare(
      "SELECT seq, role, author, text, at, external_id FROM conversation_messages "
      "WHERE request_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3");
  if (!statement.ok()) return std::move(statement).error();
  auto& s = **statement;
  s.BindText(1, request_id).BindInt64(2, since).BindInt64(3, limit);
  std::vector<ConversationMessage> out;
  for (;;) {
    auto row = s.Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return out;
    ConversationMessage m;
    m.request_id = std::string(request_id);
    m.seq = s.ColumnInt64(0);
    auto role = ParseMessageRole(s.ColumnText(1));
    if (!role) {
      return Error::Internal("conversation_messages.role of " + m.request_id + " #" +
                             std::to_string(m.seq) + " is unknown");
    }
    m.role = *role;
    m.author = std::string(s.ColumnText(2));
    m.text = std::string(s.ColumnText(3));
    m.at = FromUnixMillis(s.ColumnInt64(4));
    if (!s.ColumnIsNull(5)) m.external_id = std::string(s.ColumnText(5));
    out.push_back(std::move(m));
  }
}

}  // namespace countersign::sql_conversations
