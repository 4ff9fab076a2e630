#include "compat/aisoc_timeline.hpp"

#include "core/choice_meaning.hpp"
#include "core/time_format.hpp"

namespace countersign {
namespace {

namespace json = boost::json;

std::string StringAt(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

json::object Entry(std::string_view type, const Event& e, std::string content,
                   json::object metadata) {
  return {{"type", type},
          {"at", FormatTime(e.at)},
          {"content", std::move(content)},
          {"metadata", std::move(metadata)}};
}

json::object Responded(const Request& r, const Event& e) {
  const std::string choice = StringAt(e.data, "choice");
  const Choice* c = r.FindChoice(choice);
  const std::string label = c ? ChoiceMeaning::Caption(*c) : choice;
  std::string via = "api";
  if (const auto* v = e.data.if_contains("via"); v && v->is_object()) {
    via = StringAt(v->get_object(), "channel");
  } else if (e.actor == StringAt(r.details, "user_ref")) {
    via = "chatops_callback";
  }
  json::object metadata{{"action_id", r.id},
                        {"verification_id", r.id},
                        {"choice", choice},
                        {"label", label},
                        {"outcome", StringAt(e.data, "outcome")},
                        {"who", e.actor},
                        {"via", via}};
  if (std::string comment = StringAt(e.data, "comment"); !comment.empty()) {
    metadata["comment"] = std::move(comment);
  }
  return Entry(kRespondedEvent, e, e.actor + " answered the ChatOps verification: " + label + ".",
               std::move(metadata));
}

}  // namespace

std::string CaseSession(std::string_view case_id) { return "case:" + std::string(case_id); }

std::optional<json::object> TimelineEntry(const Request& r, const Event& e) {
  if (e.type == "decision.recorded") return Responded(r, e);
  if (e.type != kPromptedEvent) return std::nullopt;
  const auto* metadata = e.data.if_contains("metadata");
  return Entry(kPromptedEvent, e, StringAt(e.data, "content"),
               metadata && metadata->is_object() ? metadata->get_object() : json::object());
}

}  // namespace countersign
