#include "core/conversation_json.hpp"

#include <charconv>

#include <boost/json/serialize.hpp>

#include "core/time_format.hpp"

namespace countersign {
namespace {

Error Bad(const char* field) {
  return Error::Internal(std::string("stored conversation has a bad ") + field);
}

// Readers of one field of a stored object: false when it is there with the wrong type.
bool ReadString(const boost::json::object& o, const char* key, std::string& out) {
  const auto* v = o.if_contains(key);
  if (!v) return true;
  if (!v->is_string()) return false;
  out = std::string(v->as_string());
  return true;
}

bool ReadInt(const boost::json::object& o, const char* key, int64_t& out) {
  const auto* v = o.if_contains(key);
  if (!v) return true;
  if (!v->is_int64()) return false;
  out = v->as_int64();
  return true;
}

bool ReadTime(const boost::json::object& o, const char* key, TimePoint& out) {
  int64_t ms = ToUnixMillis(out);
  if (!ReadInt(o, key, ms)) return false;
  out = FromUnixMillis(ms);
  return true;
}

Result<ConversationResult> ResultFromJson(const boost::json::object& o) {
  ConversationResult r;
  if (const auto* v = o.if_contains("has_answered"); v && v->is_bool())
    r.has_answered = v->as_bool();
  if (const auto* v = o.if_contains("is_aware"); v && v->is_bool()) r.is_aware = v->as_bool();
  if (const auto* v = o.if_contains("confidence"); v && v->is_number()) {
    r.confidence = v->to_number<double>();
  }
  if (!ReadString(o, "reason", r.reason) || !ReadString(o, "summary", r.summary)) {
    return Bad("result");
  }
  return r;
}

}  // namespace

std::string PropertyText(const boost::json::value& value) {
  if (value.is_string()) return std::string(value.get_string());
  if (value.is_double()) {
    char buffer[32];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value.get_double());
    if (ec == std::errc()) return std::string(buffer, end);
  }
  return boost::json::serialize(value);
}

boost::json::object AlertToJson(const Alert& alert) {
  boost::json::object o{
      {"name", alert.name}, {"description", alert.description}, {"properties", alert.properties}};
  if (!alert.id.empty()) o["id"] = alert.id;
  return o;
}

boost::json::object ResultToJson(const ConversationResult& result) {
  boost::json::object o{{"has_answered", result.has_answered},
                        {"confidence", result.confidence},
                        {"reason", result.reason},
                        {"summary", result.summary}};
  o["is_aware"] = result.is_aware ? boost::json::value(*result.is_aware) : nullptr;
  return o;
}

boost::json::object ConversationToJson(const Conversation& c) {
  boost::json::object o{{"request_id", c.request_id},
                        {"tenant", c.tenant},
                        {"subject", c.subject},
                        {"channel", c.channel},
                        {"alert", AlertToJson(c.alert)},
                        {"question", c.question},
                        {"phase", PhaseName(c.phase)},
                        {"step", StepName(c.step)},
                        {"step_due", ToUnixMillis(c.step_due)},
                        {"step_attempts", c.step_attempts},
                        {"delivery_failures", c.delivery_failures},
                        {"nudges", c.nudges},
                        {"max_nudges", c.max_nudges},
                        {"feed_channel", c.feed_channel},
                        {"feed_ts", c.feed_ts},
                        {"dm_channel", c.dm_channel},
                        {"started_by", c.started_by},
                        {"closed_by", c.closed_by},
                        {"judged_through", c.judged_through},
                        {"needs_analyst", c.needs_analyst},
                        {"delivered_through", c.delivered_through},
                        {"last_seq", c.last_seq},
                        {"sent_through", c.sent_through},
                        {"parent_version", c.parent_version},
                        {"parent_shown", c.parent_shown},
                        {"result", ResultToJson(c.result)},
                        {"updated_at", ToUnixMillis(c.updated_at)}};
  if (c.closing_status) o["closing_status"] = *c.closing_status;
  return o;
}

Result<Conversation> ConversationFromJson(const boost::json::value& value) {
  const auto* o = value.if_object();
  if (!o) return Bad("body (not an object)");
  Conversation c;
  if (!ReadString(*o, "request_id", c.request_id) || !ReadString(*o, "tenant", c.tenant) ||
      !ReadString(*o, "subject", c.subject) || !ReadString(*o, "channel", c.channel) ||
      !ReadString(*o, "question", c.question) || !ReadString(*o, "feed_channel", c.feed_channel) ||
      !ReadString(*o, "feed_ts", c.feed_ts) || !ReadString(*o, "dm_channel", c.dm_channel) ||
      !ReadString(*o, "started_by", c.started_by) || !ReadString(*o, "closed_by", c.closed_by)) {
    return Bad("text field");
  }
  const auto* alert = o->if_contains("alert");
  if (!alert || !alert->is_object()) return Bad("alert");
  const auto& a = alert->as_object();
  if (!ReadString(a, "id", c.alert.id) || !ReadString(a, "name", c.alert.name) ||
      !ReadString(a, "description", c.alert.description)) {
    return Bad("alert");
  }
  if (const auto* p = a.if_contains("properties"); p && p->is_object()) {
    c.alert.properties = p->as_object();
  }
  std::string phase, step;
  if (!ReadString(*o, "phase", phase) || !ReadString(*o, "step", step)) return Bad("phase");
  auto parsed_phase = ParsePhase(phase);
  auto parsed_step = ParseStep(step);
  if (!parsed_phase || !parsed_step) return Bad("phase or step");
  c.phase = *parsed_phase;
  c.step = *parsed_step;
  int64_t delivery_failures = 0;
  if (!ReadInt(*o, "delivery_failures", delivery_failures)) return Bad("delivery_failures");
  c.delivery_failures = static_cast<int>(delivery_failures);
  int64_t attempts = 0, nudges = 0, max_nudges = c.max_nudges, closing = -1;
  if (!ReadInt(*o, "step_attempts", attempts) || !ReadInt(*o, "nudges", nudges) ||
      !ReadInt(*o, "max_nudges", max_nudges) || !ReadInt(*o, "closing_status", closing) ||
      !ReadInt(*o, "judged_through", c.judged_through) || !ReadTime(*o, "step_due", c.step_due) ||
      !ReadTime(*o, "updated_at", c.updated_at)) {
    return Bad("number");
  }
  int64_t parent_version = 0, parent_shown = 0;
  if (!ReadInt(*o, "delivered_through", c.delivered_through) ||
      !ReadInt(*o, "last_seq", c.last_seq) || !ReadInt(*o, "sent_through", c.sent_through) ||
      !ReadInt(*o, "parent_version", parent_version) ||
      !ReadInt(*o, "parent_shown", parent_shown)) {
    return Bad("delivery");
  }
  c.parent_version = static_cast<int>(parent_version);
  c.parent_shown = static_cast<int>(parent_shown);
  if (const auto* v = o->if_contains("needs_analyst"); v && v->is_bool()) {
    c.needs_analyst = v->as_bool();
  }
  c.step_attempts = static_cast<int>(attempts);
  c.nudges = static_cast<int>(nudges);
  c.max_nudges = static_cast<int>(max_nudges);
  if (closing >= 0) c.closing_status = static_cast<int>(closing);
  if (const auto* r = o->if_contains("result"); r && r->is_object()) {
    auto result = ResultFromJson(r->as_object());
    if (!result.ok()) return std::move(result).error();
    c.result = std::move(result).value();
  }
  return c;
}

boost::json::object ConversationView(const Conversation& c) {
  boost::json::object o{{"subject", c.subject},          {"channel", c.channel},
                        {"alert", AlertToJson(c.alert)}, {"question", c.question},
                        {"phase", PhaseName(c.phase)},   {"nudges", c.nudges},
                        {"max_nudges", c.max_nudges}};
  o["started_by"] =
      c.started_by.empty() ? boost::json::value(nullptr) : boost::json::value(c.started_by);
  o["closed_by"] =
      c.closed_by.empty() ? boost::json::value(nullptr) : boost::json::value(c.closed_by);
  o["result"] = c.phase == ConversationPhase::kClosed || c.result.has_answered
                    ? boost::json::value(ResultToJson(c.result))
                    : nullptr;
  return o;
}

boost::json::object MessageToJson(const ConversationMessage& m) {
  return {{"seq", m.seq},
          {"role", MessageRoleName(m.role)},
          {"author", m.author},
          {"text", m.text},
          {"at", FormatTime(m.at)}};
}

}  // namespace countersign
