#include "engine/new_alert.hpp"

#include "engine/field_reader.hpp"
#include "engine/field_rules.hpp"

namespace countersign {
namespace {

constexpr size_t kMaxNameBytes = 200;
constexpr size_t kMaxDescriptionBytes = 4000;
constexpr size_t kMaxQuestionBytes = 1000;
constexpr size_t kMaxPropertyKeyBytes = 128;
constexpr size_t kMaxPropertyValueBytes = 1000;

Status ReadAlert(const boost::json::object& o, Alert& alert) {
  FieldReader r(o);
  CS_RETURN_IF_ERROR(r.String("id", alert.id));
  CS_RETURN_IF_ERROR(r.String("name", alert.name));
  CS_RETURN_IF_ERROR(r.String("description", alert.description));
  CS_RETURN_IF_ERROR(r.Object("properties", alert.properties));
  for (const auto& [key, value] : alert.properties) {
    if (!value.is_string() && !value.is_number() && !value.is_bool()) {
      return Error::Malformed("alert property '" + std::string(key) +
                              "' must be a string, a number or a boolean");
    }
  }
  return Ok();
}

bool IsDigit(char ch) { return ch >= '0' && ch <= '9'; }
bool IsUpper(char ch) { return ch >= 'A' && ch <= 'Z'; }
bool IsLower(char ch) { return ch >= 'a' && ch <= 'z'; }

bool IsSlackUserId(std::string_view id) {
  if (id.size() < 2 || id.size() > 32 || (id[0] != 'U' && id[0] != 'W')) return false;
  for (char ch : id) {
    if (!IsUpper(ch) && !IsDigit(ch)) return false;
  }
  return true;
}

}  // namespace

Result<NewAlert> ParseNewAlert(const boost::json::value& body) {
  if (!body.is_object()) return Error::Malformed("the alert body must be a JSON object");
  const auto& o = body.get_object();
  FieldReader r(o);
  NewAlert in;
  if (o.contains("alert")) {
    boost::json::object nested;
    CS_RETURN_IF_ERROR(r.Object("alert", nested));
    CS_RETURN_IF_ERROR(ReadAlert(nested, in.alert));
    CS_RETURN_IF_ERROR(r.String("subject", in.subject));
  } else {
    // The seed bot's flat alert: its user_id is a Slack user.
    CS_RETURN_IF_ERROR(ReadAlert(o, in.alert));
    std::string user_id;
    CS_RETURN_IF_ERROR(r.String("user_id", user_id));
    CS_RETURN_IF_ERROR(r.String("subject", in.subject));
    if (in.subject.empty() && !user_id.empty()) in.subject = "slack:" + user_id;
  }
  CS_RETURN_IF_ERROR(r.String("question", in.question));
  CS_RETURN_IF_ERROR(r.Strings("approvers", in.approvers));
  CS_RETURN_IF_ERROR(r.Integer("timeout_seconds", in.timeout_seconds));
  CS_RETURN_IF_ERROR(r.Integer("max_nudges", in.max_nudges));
  CS_RETURN_IF_ERROR(r.String("channel", in.channel));
  CS_RETURN_IF_ERROR(r.Strings("notify", in.notify));
  CS_RETURN_IF_ERROR(r.String("callback_url", in.callback_url));
  CS_RETURN_IF_ERROR(r.String("idempotency_key", in.idempotency_key));
  CS_RETURN_IF_ERROR(r.String("requester", in.requester));
  return in;
}

Status CheckNewAlert(const NewAlert& in) {
  if (in.subject.empty()) {
    return Error::Invalid("subject is required: a chat identity such as slack:U123 (or user_id)");
  }
  if (!in.subject.starts_with("slack:") || !IsSlackUserId(in.subject.substr(6))) {
    return Error::Invalid(
        "subject must be a Slack user, slack:U followed by letters and digits "
        "(got '" +
        Echo(in.subject) + "')");
  }
  const Alert& a = in.alert;
  if (a.name.empty()) return Error::Invalid("alert name is required");
  if (a.name.size() > kMaxNameBytes || HasControlChars(a.name)) {
    return Error::Invalid("alert name must be at most 200 printable bytes");
  }
  if (a.id.size() > kMaxShortText || HasControlChars(a.id)) {
    return Error::Invalid("alert id must be at most 128 printable bytes");
  }
  if (a.description.size() > kMaxDescriptionBytes) {
    return Error::Invalid("alert description is longer than 4000 bytes");
  }
  if (a.properties.size() > kMaxAlertProperties) {
    return Error::Invalid("an alert has at most 50 properties");
  }
  for (const auto& [key, value] : a.properties) {
    if (key.empty() || key.size() > kMaxPropertyKeyBytes || HasControlChars(key)) {
      return Error::Invalid("each alert property name must be 1 to 128 printable bytes");
    }
    if (value.is_string() && value.get_string().size() > kMaxPropertyValueBytes) {
      return Error::Invalid("alert property '" + std::string(key) + "' is longer than 1000 bytes");
    }
  }
  if (in.question.size() > kMaxQuestionBytes) {
    return Error::Invalid("question is longer than 1000 bytes");
  }
  if (in.max_nudges && (*in.max_nudges < 0 || *in.max_nudges > kMaxNudgesLimit)) {
    return Error::Invalid("max_nudges must be between 0 and 10");
  }
  if (in.channel.size() > kMaxShortText || HasControlChars(in.channel)) {
    return Error::Invalid("channel must be at most 128 printable bytes");
  }
  return Ok();
}

std::string AlertAction(const std::string& name) {
  std::string slug;
  bool gap = false;
  for (char ch : name) {
    const char lower = IsUpper(ch) ? static_cast<char>(ch - 'A' + 'a') : ch;
    if (IsLower(lower) || IsDigit(lower)) {
      if (gap && !slug.empty()) slug += '_';
      slug += lower;
      gap = false;
    } else {
      gap = true;
    }
    if (slug.size() >= 100) break;
  }
  return "alert." + (slug.empty() ? std::string("unnamed") : slug.substr(0, 100));
}

NewRequest NewAlert::ToNewRequest() const {
  NewRequest r;
  r.kind = "conversation";
  r.from_alert = true;
  r.action = AlertAction(alert.name);
  r.title = alert.name;
  r.details = {{"alert", boost::json::object{{"id", alert.id},
                                             {"name", alert.name},
                                             {"description", alert.description},
                                             {"properties", alert.properties}}},
               {"subject", subject},
               {"question", question.empty() ? std::string(kDefaultQuestion) : question}};
  r.approvers = approvers;
  r.timeout_seconds = timeout_seconds;
  r.notify = notify;
  r.callback_url = callback_url;
  r.idempotency_key = idempotency_key;
  r.requester = requester;
  r.body_sha256 = body_sha256;
  return r;
}

Conversation NewAlert::ToConversation(const std::string& request_id, const std::string& tenant,
                                      TimePoint now) const {
  Conversation c;
  c.request_id = request_id;
  c.tenant = tenant;
  c.subject = subject;
  c.channel = channel;
  c.alert = alert;
  c.question = question.empty() ? std::string(kDefaultQuestion) : question;
  c.max_nudges = static_cast<int>(max_nudges.value_or(kDefaultMaxNudges));
  c.phase = ConversationPhase::kPosted;
  // The worker posts the alert to the feed channel as its first delivery.
  c.parent_version = 1;
  c.step_due = now;
  c.updated_at = now;
  return c;
}

}  // namespace countersign
