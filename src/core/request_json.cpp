#include "core/request_json.hpp"

#include <string>
#include <utility>

#include <boost/json/parse.hpp>

#include "core/time_format.hpp"

namespace countersign {

boost::json::object ChoiceToJson(const Choice& choice) {
  return {{"id", choice.id},
          {"label", choice.label},
          {"style", choice.style},
          {"outcome", OutcomeName(choice.outcome)}};
}

boost::json::array ChoicesToJson(const std::vector<Choice>& choices) {
  boost::json::array out;
  out.reserve(choices.size());
  for (const auto& c : choices) out.emplace_back(ChoiceToJson(c));
  return out;
}

boost::json::array StringsToJson(const std::vector<std::string>& strings) {
  boost::json::array out;
  out.reserve(strings.size());
  for (const auto& s : strings) out.emplace_back(s);
  return out;
}

boost::json::array TiersToJson(const std::vector<EscalationTier>& tiers) {
  boost::json::array out;
  for (const auto& t : tiers) {
    out.emplace_back(boost::json::object{{"approvers", StringsToJson(t.approvers)},
                                         {"timeout_seconds", t.timeout.count()},
                                         {"notify", StringsToJson(t.notify)}});
  }
  return out;
}

Result<std::vector<EscalationTier>> TiersFromJson(const boost::json::value& value) {
  if (!value.is_array()) return Error::Malformed("escalation tiers must be an array");
  std::vector<EscalationTier> out;
  for (const auto& item : value.get_array()) {
    const auto* o = item.if_object();
    if (!o) return Error::Malformed("each escalation tier must be an object");
    EscalationTier tier;
    if (const auto* a = o->if_contains("approvers")) {
      auto approvers = StringsFromJson(*a, "approvers");
      if (!approvers.ok()) return std::move(approvers).error();
      tier.approvers = std::move(approvers).value();
    }
    if (const auto* t = o->if_contains("timeout_seconds"); t && t->is_int64()) {
      tier.timeout = std::chrono::seconds(t->get_int64());
    }
    if (const auto* n = o->if_contains("notify")) {
      auto notify = StringsFromJson(*n, "notify");
      if (!notify.ok()) return std::move(notify).error();
      tier.notify = std::move(notify).value();
    }
    out.push_back(std::move(tier));
  }
  return out;
}

boost::json::object RequestToJson(const Request& r) {
  // One rendering: AppendRequestJson's text, read back. The nesting it can hold is the
  // request body's (Boost.JSON's default limit of 32) plus the levels a decision adds.
  std::string text;
  text.reserve(2048);
  AppendRequestJson(r, text);
  boost::json::parse_options options;
  options.max_depth = 64;
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(text, ec, {}, options);
  if (ec || !value.is_object()) return {};  // cannot happen: the text is well-formed JSON
  return std::move(value.as_object());
}

boost::json::array GrantOptionsToJson(const std::vector<GrantOption>& options) {
  boost::json::array out;
  for (const auto& option : options) {
    out.push_back(
        boost::json::object{{"scope", option.scope}, {"ttl_seconds", option.ttl.count()}});
  }
  return out;
}

Result<std::vector<GrantOption>> GrantOptionsFromJson(const boost::json::value& value) {
  if (!value.is_array()) return Error::Malformed("grant_options must be an array");
  std::vector<GrantOption> out;
  for (const auto& item : value.get_array()) {
    const auto* o = item.if_object();
    const auto* scope = o ? o->if_contains("scope") : nullptr;
    const auto* ttl = o ? o->if_contains("ttl_seconds") : nullptr;
    if (!scope || !scope->is_string() || !ttl || !ttl->is_int64()) {
      return Error::Malformed("each grant option must be {scope, ttl_seconds}");
    }
    out.push_back({std::string(scope->get_string()), std::chrono::seconds(ttl->get_int64())});
  }
  return out;
}

boost::json::object ExecutionToJson(const ExecutionReport& report) {
  boost::json::object o{{"status", report.status}};
  if (report.exit_code) {
    o["exit_code"] = *report.exit_code;
  } else {
    o["exit_code"] = nullptr;
  }
  o["detail"] = report.detail;
  o["reported_by"] = report.reported_by;
  o["at"] = FormatTime(report.at);
  return o;
}

Result<ExecutionReport> ExecutionFromJson(const boost::json::value& value) {
  const auto* o = value.if_object();
  if (!o) return Error::Malformed("an execution report must be an object");
  ExecutionReport report;
  const auto text = [&](const char* key, std::string& into) {
    const auto* v = o->if_contains(key);
    if (!v || !v->is_string()) return false;
    into = std::string(v->get_string());
    return true;
  };
  std::string at;
  if (!text("status", report.status) || !text("detail", report.detail) ||
      !text("reported_by", report.reported_by) || !text("at", at)) {
    return Error::Malformed("an execution report needs status, detail, reported_by and at");
  }
  auto parsed = ParseTime(at);
  if (!parsed) return Error::Malformed("an execution report's at is not a time");
  report.at = *parsed;
  if (const auto* code = o->if_contains("exit_code"); code && code->is_int64()) {
    report.exit_code = static_cast<int>(code->get_int64());
  }
  return report;
}

boost::json::object EventToJson(const Event& e) {
  return {{"seq", e.seq},       {"at", FormatTime(e.at)},
          {"tenant", e.tenant}, {"request_id", e.request_id},
          {"type", e.type},     {"actor", e.actor},
          {"data", e.data},     {"prev_hash", e.prev_hash},
          {"hash", e.hash}};
}

boost::json::object GrantToJson(const Grant& g) {
  boost::json::object o{{"id", g.id},
                        {"tenant", g.tenant},
                        {"action", g.action},
                        {"scope", g.scope},
                        {"session", g.session},
                        {"requester", g.requester},
                        {"created_by", g.created_by},
                        {"created_at", FormatTime(g.created_at)},
                        {"expires_at", FormatTime(g.expires_at)}};
  if (g.revoked_at) {
    o["revoked_at"] = FormatTime(*g.revoked_at);
  } else {
    o["revoked_at"] = nullptr;
  }
  if (g.request_id.empty()) {
    o["request_id"] = nullptr;
  } else {
    o["request_id"] = g.request_id;
  }
  return o;
}

Result<std::vector<Choice>> ChoicesFromJson(const boost::json::value& value) {
  if (!value.is_array()) return Error::Malformed("choices must be an array");
  std::vector<Choice> out;
  for (const auto& item : value.get_array()) {
    if (!item.is_object()) return Error::Malformed("each choice must be an object");
    const auto& o = item.get_object();
    Choice c;
    const auto* id = o.if_contains("id");
    if (!id || !id->is_string()) return Error::Malformed("each choice needs a string id");
    c.id = id->get_string();
    const auto* label = o.if_contains("label");
    if (label && !label->is_string()) return Error::Malformed("choice label must be a string");
    c.label = label ? std::string(label->get_string()) : c.id;
    const auto* style = o.if_contains("style");
    if (style && !style->is_string()) return Error::Malformed("choice style must be a string");
    c.style = style ? std::string(style->get_string()) : "default";
    const auto* outcome = o.if_contains("outcome");
    if (!outcome || !outcome->is_string()) {
      return Error::Malformed("each choice needs an outcome");
    }
    auto parsed = ParseOutcome(outcome->get_string());
    if (!parsed) {
      return Error::Invalid("choice outcome must be approved, denied, escalate or answered");
    }
    c.outcome = *parsed;
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<std::string>> StringsFromJson(const boost::json::value& value,
                                                 const char* field) {
  if (!value.is_array()) return Error::Malformed(std::string(field) + " must be an array");
  std::vector<std::string> out;
  for (const auto& item : value.get_array()) {
    if (!item.is_string()) {
      return Error::Malformed(std::string(field) + " must be an array of strings");
    }
    out.emplace_back(item.get_string());
  }
  return out;
}

}  // namespace countersign
