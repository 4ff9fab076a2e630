#include "web/link_pages.hpp"

#include <algorithm>

#include <boost/json/serialize.hpp>

#include "core/choice_meaning.hpp"
#include "core/grant_option_text.hpp"
#include "core/time_format.hpp"
#include "web/page_text.hpp"
#include "web/pretty_json.hpp"

namespace countersign {
namespace {

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

std::string ChoiceLabel(const Request& r, std::string_view choice) {
  const Choice* c = r.FindChoice(choice);
  return c != nullptr ? ChoiceMeaning::Caption(*c) : std::string(choice);
}

std::string StatusSentence(const Request& r) {
  if (r.pending()) {
    return "The request is still pending: " + ApprovalProgress(r) + ".";
  }
  std::string sentence = "The request is " + std::string(StatusName(r.status));
  if (!r.resolved_by.empty()) sentence += " (decided by " + Join(r.resolved_by) + ")";
  return sentence + ".";
}

// "in 13 min", "in 2 h 5 min", "in 3 days": how long is left until `until`, rounded down, so
// the page never promises more time than there is.
std::string TimeLeft(TimePoint until, TimePoint now) {
  if (until <= now) return "passed";
  const int64_t minutes = std::chrono::floor<std::chrono::minutes>(until - now).count();
  if (minutes < 1) return "in less than a minute";
  if (minutes < 60) return "in " + std::to_string(minutes) + " min";
  const int64_t hours = minutes / 60;
  if (hours < 48) {
    return "in " + std::to_string(hours) + " h" +
           (minutes % 60 != 0 ? " " + std::to_string(minutes % 60) + " min" : "");
  }
  return "in " + std::to_string(hours / 24) + " days";
}

// Whether detail `key` only repeats the argument of the same name (`countersign exec` sends
// argv in both): shown once, with the arguments.
bool RepeatsAnArgument(const Request& r, std::string_view key, const boost::json::value& value) {
  const auto* argument = r.arguments.if_contains(key);
  return argument != nullptr && *argument == value;
}

}  // namespace

LinkPages::LinkPages(PageTemplate layout, PageTemplate summary, PageTemplate detail_row,
                     PageTemplate decision_item, PageTemplate confirm, PageTemplate recorded,
                     PageTemplate state, PageTemplate decision_fields, PageTemplate other_choice,
                     PageTemplate grant_button, ResponseForm response_form)
    : layout_(std::move(layout)),
      summary_(std::move(summary)),
      detail_row_(std::move(detail_row)),
      decision_item_(std::move(decision_item)),
      confirm_(std::move(confirm)),
      recorded_(std::move(recorded)),
      state_(std::move(state)),
      decision_fields_(std::move(decision_fields)),
      other_choice_(std::move(other_choice)),
      grant_button_(std::move(grant_button)),
      response_form_(std::move(response_form)) {}

Result<LinkPages> LinkPages::Load() {
  const char* names[] = {"layout.html",        "request_summary.html", "detail_row.html",
                         "decision_item.html", "link_confirm.html",    "link_recorded.html",
                         "link_state.html",    "decision_fields.html", "other_choice.html",
                         "grant_button.html"};
  std::vector<PageTemplate> parsed;
  for (const char* name : names) {
    auto loaded = LoadEmbeddedTemplate(name);
    if (!loaded.ok()) return std::move(loaded).error();
    parsed.push_back(std::move(loaded).value());
  }
  auto response_form = ResponseForm::Load();
  if (!response_form.ok()) return std::move(response_form).error();
  return LinkPages(std::move(parsed[0]), std::move(parsed[1]), std::move(parsed[2]),
                   std::move(parsed[3]), std::move(parsed[4]), std::move(parsed[5]),
                   std::move(parsed[6]), std::move(parsed[7]), std::move(parsed[8]),
                   std::move(parsed[9]), std::move(response_form).value());
}

SafeHtml LinkPages::Summary(const Request& r) const {
  PageTemplate::Values v;
  v.Text("title", r.title)
      .Text("action", r.action)
      .Text("requester", r.requester)
      .Text("status", StatusName(r.status))
      .Text("id", r.id)
      .Text("deadline_label", r.pending() ? "Deadline" : "Was due")
      .Text("deadline", HumanTime(r.deadline_at))
      .Text("deadline_iso", FormatTime(r.deadline_at));
  if (r.pending() && r.kind != Kind::kQuestion) {
    v.Text("progress", ApprovalProgress(r));
  }
  if (!r.resolved_by.empty()) v.Text("resolved_by", Join(r.resolved_by));
  v.Html("details", DetailRows(r));
  if (!r.arguments.empty()) v.Text("arguments", PrettyJson(r.arguments));
  v.Html("decisions", DecisionItems(r));
  v.Text("decisions_heading", r.pending() ? "Decisions so far" : "Decisions");
  return summary_.Render(v);
}

SafeHtml LinkPages::DetailRows(const Request& r) const {
  SafeHtml details;
  for (const auto& member : r.details) {
    const auto& value = member.value();
    if (RepeatsAnArgument(r, member.key(), value)) continue;
    PageTemplate::Values row;
    row.Text("key", std::string(member.key()));
    row.Text("value",
             value.is_string() ? std::string(value.get_string()) : boost::json::serialize(value));
    details.Append(detail_row_.Render(row));
  }
  return details;
}

SafeHtml LinkPages::DecisionItems(const Request& r) const {
  SafeHtml decisions;
  for (const auto& d : r.decisions) {
    PageTemplate::Values item;
    item.Text("principal", d.principal)
        .Text("choice", ChoiceLabel(r, d.choice))
        .Text("at", HumanTime(d.at))
        .Text("at_iso", FormatTime(d.at))
        .Text("comment", d.comment)
        .Text("answer", d.answer);
    if (d.response) item.Text("response", PrettyJson(*d.response));
    decisions.Append(decision_item_.Render(item));
  }
  return decisions;
}

std::string LinkPages::Document(std::string_view title, SafeHtml content) const {
  PageTemplate::Values v;
  v.Text("page_title", std::string(title)).Html("content", std::move(content));
  return layout_.Render(v).str();
}

std::string LinkPages::Confirm(const Request& r, const LinkOffer& offer, std::string_view csrf,
                               TimePoint now, const std::vector<OtherChoice>& others) const {
  const Choice* choice = r.FindChoice(offer.choice);
  const std::string label = choice != nullptr ? ChoiceMeaning::Caption(*choice) : offer.choice;
  const bool fills = choice != nullptr && (choice->outcome == Outcome::kApproved ||
                                           choice->outcome == Outcome::kAnswered);
  SafeHtml other_links;
  for (const auto& other : others) {
    if (!other_links.empty()) other_links.Append(HtmlEscape(" · "));
    PageTemplate::Values link;
    link.Text("href", other.href).Text("label", ChoiceLabel(r, other.choice));
    other_links.Append(other_choice_.Render(link));
  }
  // Approving may come with a standing grant: one button per way, "once" first, so that
  // Enter in a form field approves once, the choice that grants the least. Only the approval
  // that completes the request gives a grant, so earlier approvals of a quorum are offered
  // none (as in chat, notify/grant_buttons.hpp).
  SafeHtml grant_buttons;
  if (choice != nullptr && choice->outcome == Outcome::kApproved && !r.grant_options.empty() &&
      DistinctApprovals(r) + 1 >= r.quorum) {
    PageTemplate::Values once;
    once.Text("value", "")
        .Text("label", std::string(kApproveOnceLabel))
        .Text("style", ChoiceMeaning::Style(*choice));
    grant_buttons.Append(grant_button_.Render(once));
    for (const GrantOption& option : r.grant_options) {
      PageTemplate::Values b;
      b.Text("value", GrantOptionValue(option))
          .Text("label", GrantOptionLabel(r, option))
          .Text("style", "default");
      grant_buttons.Append(grant_button_.Render(b));
    }
  }
  PageTemplate::Values v;
  v.Text("heading", "Confirm your choice: " + label)
      .Flag("high_risk", r.risk == "high")
      .Text("title", r.title)
      .Text("action", r.action)
      .Text("requester", r.requester)
      .Text("deadline", HumanTime(r.deadline_at))
      .Text("deadline_iso", FormatTime(r.deadline_at))
      .Text("time_left", TimeLeft(r.deadline_at, now))
      .Text("progress", r.kind != Kind::kQuestion ? ApprovalProgress(r) : "")
      .Text("arguments", r.arguments.empty() ? "" : PrettyJson(r.arguments))
      .Html("details", DetailRows(r))
      .Html("decisions", DecisionItems(r))
      .Html("others", std::move(other_links))
      .Html("grant_buttons", std::move(grant_buttons))
      .Text("csrf", std::string(csrf))
      .Text("recipient", offer.recipient)
      .Text("id", r.id)
      .Html("decision_fields",
            DecisionFields(r, fills, choice != nullptr && choice->outcome == Outcome::kAnswered,
                           "h2"))
      .Text("choice_style", choice != nullptr ? ChoiceMeaning::Style(*choice) : "default")
      .Text("choice_label", label)
      .Text("expires_at", HumanTime(offer.expires_at));
  return Document(label + ": " + r.title, confirm_.Render(v));
}

SafeHtml LinkPages::DecisionFields(const Request& r, bool with_form, bool answer_mode,
                                   std::string_view heading_tag) const {
  SafeHtml fields;
  if (with_form && r.response_schema) {
    auto schema = ResponseSchema::Parse(*r.response_schema);
    if (schema.ok()) fields = response_form_.Render(schema.value());
  }
  PageTemplate::Values v;
  v.Flag("has_fields", !fields.empty())
      .Html("fields", std::move(fields))
      .Text("heading_tag", std::string(heading_tag))
      .Flag("answer_mode", answer_mode)
      .Flag("answer_required", answer_mode && !r.response_schema);
  return decision_fields_.Render(v);
}

std::string LinkPages::Recorded(const Request& r, const LinkOffer& offer, std::string_view granted,
                                bool granted_ok) const {
  const Choice* choice = r.FindChoice(offer.choice);
  std::string outcome = StatusSentence(r);
  if (r.pending() && choice != nullptr && choice->outcome == Outcome::kEscalate) {
    outcome = "The request was escalated to the next approvers and is still pending.";
  }
  PageTemplate::Values v;
  v.Text("heading", "Your decision was recorded")
      .Text("choice_label", ChoiceLabel(r, offer.choice))
      .Text("recipient", offer.recipient)
      .Text("outcome", outcome)
      .Text("granted", std::string(granted))
      .Text("granted_tone", granted_ok ? "ok" : "warn")
      .Text("id", r.id)
      .Html("summary", Summary(r));
  return Document("Recorded: " + r.title, recorded_.Render(v));
}

std::string LinkPages::State(std::string_view heading, std::string_view tone,
                             std::string_view message, std::string_view reason,
                             std::string_view hint, const Request* r) const {
  PageTemplate::Values v;
  v.Text("heading", std::string(heading))
      .Text("tone", std::string(tone))
      .Text("message", std::string(message))
      .Text("reason", std::string(reason))
      .Text("hint", std::string(hint));
  if (r != nullptr) v.Html("summary", Summary(*r));
  return Document(heading, state_.Render(v));
}

std::string LinkPages::InvalidLink() const {
  return State("This link is not valid", "error",
               "This link is not one this server issued, or it was changed or cut short on "
               "the way (some mail programs break long links).",
               "", "Nothing was recorded. Ask for a new link, or decide in another way.", nullptr);
}

std::string LinkPages::UnknownChoice(const Request& r, const LinkOffer& offer) const {
  return State(
      "This link is not valid", "error",
      "This link offers the choice '" + offer.choice + "', which this request does not have.", "",
      "Nothing was recorded. Ask for a new link.", &r);
}

std::string LinkPages::UnknownRequest() const {
  return State("Request not found", "error",
               "This link points to a request this server does not know.", "",
               "Nothing was recorded.", nullptr);
}

std::string LinkPages::ExpiredLink(const Request& r, const LinkOffer& offer) const {
  return State(
      "This link has expired", "warn",
      "This link stopped working at " + HumanTime(offer.expires_at) + ". " + StatusSentence(r), "",
      "Nothing was recorded. Ask for a new link if you still need to decide.", &r);
}

std::string LinkPages::AlreadyResolved(const Request& r) const {
  return State("This request has already been decided", "warn",
               StatusSentence(r) + " There is nothing left to decide.", "", "Nothing was recorded.",
               &r);
}

std::string LinkPages::NotAllowed(const Request& r, std::string_view reason) const {
  return State("You cannot decide this request", "error",
               "Your choice was refused and does not count towards this request.", reason, "", &r);
}

std::string LinkPages::NotRecorded(const Request& r, std::string_view reason) const {
  return State("Your decision was not recorded", "error",
               "The server could not accept this decision.", reason,
               "Go back, correct it and try again.", &r);
}

std::string LinkPages::GrantNotOffered(const Request& r, std::string_view reason) const {
  return State("This choice is not offered", "error",
               "Your decision was not recorded: the form asked for a standing approval that "
               "this request does not offer.",
               reason, "Nothing was recorded. Open the link again and press one of its buttons.",
               &r);
}

std::string LinkPages::FormExpired() const {
  return State("This form has expired, open the link again", "warn",
               "This form has expired, open the link again. For your protection the form only "
               "works in the browser tab that opened the link, and only from this server's "
               "own page.",
               "", "Nothing was recorded.", nullptr);
}

std::string LinkPages::Unavailable() const {
  return State("Please try again", "error",
               "The server could not handle this just now. Nothing was recorded.", "",
               "Try again in a minute.", nullptr);
}

}  // namespace countersign
