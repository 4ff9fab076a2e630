// AppendRequestJson: a request's JSON written straight into a string, member by member, without
// building a boost::json::object first. RequestToJson (request_json.cpp) reads it back; the
// test keeps the object the API answered with before, to compare both with.
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/serializer.hpp>

#include "core/canonical_json.hpp"
#include "core/request_json.hpp"
#include "core/time_format.hpp"

namespace countersign {

namespace {

// Appends `items` as a JSON array, each item written by `append(item, out)`.
template <typename T, typename Append>
void AppendArray(const std::vector<T>& items, std::string& out, Append append) {
  out.push_back('[');
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out.push_back(',');
    append(items[i], out);
  }
  out.push_back(']');
}

// Writes one JSON object's members: "key":value pairs with the commas between them.
class MemberWriter {
 public:
  explicit MemberWriter(std::string& out) : out_(out) { out_.push_back('{'); }
  void End() { out_.push_back('}'); }

  void String(std::string_view key, std::string_view value) {
    Key(key);
    AppendJsonString(value, out_);
  }
  // A null when `value` is empty.
  void StringOrNull(std::string_view key, std::string_view value) {
    if (value.empty()) {
      Null(key);
    } else {
      String(key, value);
    }
  }
  void Int(std::string_view key, int64_t value) {
    Key(key);
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    out_.append(digits, end);
  }
  void Time(std::string_view key, TimePoint value) {
    Key(key);
    AppendJsonTime(value, out_);
  }
  void Null(std::string_view key) {
    Key(key);
    out_.append("null");
  }
  void Json(std::string_view key, const boost::json::object& value) {
    Key(key);
    AppendSerialized(value);
  }
  void Strings(std::string_view key, const std::vector<std::string>& values) {
    Key(key);
    AppendArray(values, out_, AppendJsonString);
  }
  // The key of a member whose value the caller writes. Keys are this file's own names, none
  // of which needs an escape.
  void Key(std::string_view key) {
    if (any_) out_.push_back(',');
    any_ = true;
    out_.push_back('"');
    out_.append(key);
    out_.append("\":");
  }

 private:
  void AppendSerialized(const boost::json::object& value) {
    boost::json::serializer serializer;
    serializer.reset(&value);
    char buffer[1024];
    while (!serializer.done()) {
      const std::string_view part = serializer.read(buffer);
      out_.append(part.data(), part.size());
    }
  }

  std::string& out_;
  bool any_ = false;
};

void AppendChoice(const Choice& c, std::string& out) {
  MemberWriter o(out);
  o.String("id", c.id);
  o.String("label", c.label);
  o.String("style", c.style);
  o.String("outcome", OutcomeName(c.outcome));
  o.End();
}

void AppendDecision(const Decision& d, std::string& out) {
  MemberWriter o(out);
  o.String("id", d.id);
  o.String("by", d.principal);
  o.String("choice", d.choice);
  o.String("outcome", OutcomeName(d.outcome));
  o.String("comment", d.comment);
  o.Time("at", d.at);
  if (!d.answer.empty()) o.String("answer", d.answer);
  if (d.arguments) o.Json("arguments", *d.arguments);
  if (d.response) o.Json("response", *d.response);
  o.End();
}

}  // namespace

void AppendRequestJson(const Request& r, std::string& out) {
  MemberWriter o(out);
  o.String("id", r.id);
  o.String("tenant", r.tenant);
  o.String("kind", KindName(r.kind));
  o.String("action", r.action);
  o.String("title", r.title);
  o.Json("details", r.details);
  o.Json("arguments", r.arguments);
  o.String("arguments_sha256", r.arguments_sha256);
  o.String("requester", r.requester);
  o.String("session", r.session);
  o.String("status", StatusName(r.status));
  o.Key("choices");
  AppendArray(r.choices, out, AppendChoice);
  o.Strings("approvers", r.approvers);
  o.Int("quorum", r.quorum);
  o.String("policy", r.policy);
  o.String("policy_reason", r.policy_reason);
  o.String("risk", r.risk);
  o.Int("deny_threshold", r.deny_threshold);
  o.Time("created_at", r.created_at);
  o.Time("deadline_at", r.deadline_at);
  o.String("on_timeout", OnTimeoutName(r.on_timeout));
  o.Int("escalation_level", r.escalation_level);
  o.Strings("notify", r.notify);
  o.StringOrNull("callback_url", r.callback_url);
  o.Key("decisions");
  AppendArray(r.decisions, out, AppendDecision);
  if (r.resolved_at) {
    o.Time("resolved_at", *r.resolved_at);
  } else {
    o.Null("resolved_at");
  }
  o.Strings("resolved_by", r.resolved_by);
  if (r.kind == Kind::kQuestion) o.StringOrNull("answer", r.answer);
  if (r.response_schema) {
    o.Json("response_schema", *r.response_schema);
    if (const boost::json::object* response = r.ResolvedResponse()) {
      o.Json("response", *response);
    } else {
      o.Null("response");
    }
  }
  o.StringOrNull("receipt", r.receipt);
  if (r.reason_code == ReasonCode::kNone) {
    o.Null("reason_code");
  } else {
    o.String("reason_code", ReasonCodeName(r.reason_code));
  }
  o.Key("grant_options");
  AppendArray(r.grant_options, out, [](const GrantOption& g, std::string& text) {
    MemberWriter option(text);
    option.String("scope", g.scope);
    option.Int("ttl_seconds", g.ttl.count());
    option.End();
  });
  o.String("receipt_use", r.receipt_use);
  if (r.report_within.count() > 0) {
    o.Int("report_within_seconds", r.report_within.count());
  } else {
    o.Null("report_within_seconds");
  }
  if (r.execution) {
    o.Json("execution", ExecutionToJson(*r.execution));
  } else {
    o.Null("execution");
  }
  o.End();
}

}  // namespace countersign
