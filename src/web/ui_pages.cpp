#include "web/ui_pages.hpp"

#include <boost/json/serialize.hpp>

#include "core/choice_meaning.hpp"
#include "core/execution_summary.hpp"
#include "core/grant_option_text.hpp"
#include "core/time_format.hpp"
#include "web/page_text.hpp"
#include "web/pretty_json.hpp"

namespace countersign {
namespace {

bool Fills(const Choice& c) {
  return c.outcome == Outcome::kApproved || c.outcome == Outcome::kAnswered;
}

// A value as a diff cell shows it: objects and arrays laid out, scalars as JSON.
std::string Shown(const boost::json::value& value) {
  return value.is_object() || value.is_array() ? PrettyJson(value) : boost::json::serialize(value);
}

std::string Join(const std::vector<std::string>& items, std::string_view none) {
  if (items.empty()) return std::string(none);
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// What an audit event adds to its line: a reason, a choice, a comment.
std::string EventDetail(const Event& e) {
  for (const char* key : {"reason", "comment", "choice", "status"}) {
    const auto* value = e.data.if_contains(key);
    if (value != nullptr && value->is_string() && !value->get_string().empty()) {
      return std::string(value->get_string());
    }
  }
  return "";
}

}  // namespace

UiPages::UiPages(const LinkPages& links, std::string base, std::vector<PageTemplate> templates)
    : links_(&links),
      base_(std::move(base)),
      nav_(std::move(templates[0])),
      login_(std::move(templates[1])),
      inbox_(std::move(templates[2])),
      inbox_row_(std::move(templates[3])),
      request_(std::move(templates[4])),
      choice_button_(std::move(templates[5])),
      message_(std::move(templates[6])),
      edit_(std::move(templates[7])),
      diff_row_(std::move(templates[8])),
      event_item_(std::move(templates[9])),
      requests_(std::move(templates[10])),
      request_row_(std::move(templates[11])),
      option_(std::move(templates[12])) {}

Result<UiPages> UiPages::Load(const LinkPages& links, std::string base) {
  const char* names[] = {"ui_nav.html",        "ui_login.html",    "ui_inbox.html",
                         "ui_inbox_row.html",  "ui_request.html",  "ui_choice_button.html",
                         "ui_message.html",    "ui_edit.html",     "ui_diff_row.html",
                         "ui_event_item.html", "ui_requests.html", "ui_request_row.html",
                         "ui_option.html"};
  std::vector<PageTemplate> parsed;
  for (const char* name : names) {
    auto loaded = LoadEmbeddedTemplate(name);
    if (!loaded.ok()) return std::move(loaded).error();
    parsed.push_back(std::move(loaded).value());
  }
  return UiPages(links, std::move(base), std::move(parsed));
}

SafeHtml UiPages::Nav(const UiViewer& viewer) const {
  PageTemplate::Values v;
  v.Text("base", base_)
      .Text("principal", viewer.principal)
      .Text("role", viewer.role)
      .Text("csrf", viewer.csrf)
      .Flag("audit", viewer.role != "agent")
      .Flag("admin", viewer.role == "admin");
  return nav_.Render(v);
}

std::string UiPages::Framed(const UiViewer& viewer, std::string_view title, SafeHtml body) const {
  SafeHtml page = Nav(viewer);
  page.Append(body);
  return links_->Document(title, std::move(page));
}

std::string UiPages::Login(std::string_view csrf, std::string_view error, std::string_view notice,
                           bool oidc) const {
  PageTemplate::Values v;
  v.Text("base", base_)
      .Text("csrf", std::string(csrf))
      .Text("error", std::string(error))
      .Text("notice", std::string(notice))
      .Flag("oidc", oidc);
  return links_->Document("Sign in", login_.Render(v));
}

std::string UiPages::Inbox(const UiViewer& viewer, const std::vector<Request>& requests, bool mine,
                           std::string_view notice, std::string_view tone) const {
  SafeHtml rows;
  for (const Request& r : requests) {
    PageTemplate::Values row;
    row.Text("base", base_)
        .Flag("batch", !mine)
        .Text("id", r.id)
        .Text("title", r.title)
        .Text("action", r.action)
        .Text("requester", r.requester)
        .Text("risk", r.risk.empty() ? "normal" : r.risk)
        .Text("progress", r.kind == Kind::kQuestion ? "question" : ApprovalProgress(r))
        .Text("deadline", HumanTime(r.deadline_at))
        .Text("deadline_iso", FormatTime(r.deadline_at));
    rows.Append(inbox_row_.Render(row));
  }
  const std::string heading = mine ? "Your pending requests" : "Waiting for your decision";
  const size_t n = requests.size();
  std::string count = std::to_string(n) + (n == 1 ? " request" : " requests");
  count += mine ? " pending." : " waiting for you, soonest deadline first.";
  PageTemplate::Values v;
  v.Html("nav", Nav(viewer))
      .Text("base", base_)
      .Text("csrf", viewer.csrf)
      .Flag("batch", !mine)
      .Text("notice", std::string(notice))
      .Text("tone", std::string(tone))
      .Text("heading", heading)
      .Text("count_sentence", count)
      .Html("rows", std::move(rows))
      .Text("empty", mine ? "None of your requests is pending." : "Nothing is waiting for you.");
  const std::string title = n == 0 ? heading : "(" + std::to_string(n) + ") " + heading;
  return links_->Document(title, inbox_.Render(v));
}

SafeHtml UiPages::Edits(const Request& r) const {
  SafeHtml out;
  for (const Decision& d : r.decisions) {
    if (!d.arguments) continue;
    SafeHtml rows;
    auto row = [&](std::string_view key, const boost::json::value* before,
                   const boost::json::value* after) {
      if (before != nullptr && after != nullptr && *before == *after) return;
      PageTemplate::Values v;
      v.Text("key", std::string(key))
          .Text("kind", before == nullptr  ? "added"
                        : after == nullptr ? "removed"
                                           : "changed")
          .Text("before", before != nullptr ? Shown(*before) : "")
          .Text("after", after != nullptr ? Shown(*after) : "");
      rows.Append(diff_row_.Render(v));
    };
    for (const auto& member : r.arguments) {
      row(member.key(), &member.value(), d.arguments->if_contains(member.key()));
    }
    for (const auto& member : *d.arguments) {
      if (!r.arguments.contains(member.key())) row(member.key(), nullptr, &member.value());
    }
    PageTemplate::Values v;
    v.Text("by", d.principal)
        .Text("at", HumanTime(d.at))
        .Text("at_iso", FormatTime(d.at))
        .Html("rows", std::move(rows));
    out.Append(edit_.Render(v));
  }
  return out;
}

SafeHtml UiPages::Events(const std::vector<Event>& events) const {
  SafeHtml out;
  for (const Event& e : events) {
    PageTemplate::Values v;
    v.Text("at", HumanTime(e.at))
        .Text("at_iso", FormatTime(e.at))
        .Text("type", e.type)
        .Text("actor", e.actor)
        .Text("detail", EventDetail(e));
    out.Append(event_item_.Render(v));
  }
  return out;
}

std::string UiPages::RequestPage(const UiViewer& viewer, const Request& r,
                                 const UiRequestExtras& extras, bool may_decide,
                                 std::string_view why_not, std::string_view notice,
                                 std::string_view tone) const {
  SafeHtml buttons;
  bool answer_mode = false;
  bool any_fills = false;
  for (const Choice& c : r.choices) {
    PageTemplate::Values b;
    b.Text("value", c.id)
        .Text("label", ChoiceMeaning::Caption(c))
        .Text("style", ChoiceMeaning::Style(c))
        .Flag("skip_checks", !Fills(c));
    buttons.Append(choice_button_.Render(b));
    answer_mode = answer_mode || c.outcome == Outcome::kAnswered;
    any_fills = any_fills || Fills(c);
  }
  // The ways of approving this request offers (its grant_options), labelled as on the link
  // page; the server takes only these values. Only the approval that completes the request
  // gives a grant, so earlier approvals of a quorum are offered none.
  const bool can_grant = may_decide && r.kind == Kind::kApproval && r.risk != "high" &&
                         !r.grant_options.empty() && DistinctApprovals(r) + 1 >= r.quorum;
  SafeHtml grant_options;
  if (can_grant) {
    PageTemplate::Values once;
    once.Text("value", "").Text("label", std::string(kApproveOnceLabel));
    grant_options.Append(option_.Render(once));
    for (const GrantOption& option : r.grant_options) {
      PageTemplate::Values o;
      o.Text("value", GrantOptionValue(option)).Text("label", GrantOptionLabel(r, option));
      grant_options.Append(option_.Render(o));
    }
  }
  PageTemplate::Values v;
  v.Html("nav", Nav(viewer))
      .Text("base", base_)
      .Text("id", r.id)
      .Text("heading", r.pending() ? "Decide: " + r.title : r.title)
      .Text("notice", std::string(notice))
      .Text("tone", std::string(tone))
      .Flag("high_risk", r.pending() && r.risk == "high")
      .Flag("pending", r.pending())
      .Text("deadline_iso", FormatTime(r.deadline_at))
      .Html("summary", links_->Summary(r))
      .Flag("decide", may_decide)
      .Text("why_not", std::string(why_not))
      .Text("csrf", viewer.csrf)
      .Text("principal", viewer.principal)
      .Html("decision_fields", links_->DecisionFields(r, any_fills, answer_mode, "h3"))
      .Text("policy", r.policy)
      .Text("policy_reason", r.policy_reason)
      .Text("approvers", Join(r.approvers, "anyone who may decide"))
      .Text("quorum", std::to_string(r.quorum))
      .Text("risk", r.risk)
      .Text("on_timeout", OnTimeoutName(r.on_timeout))
      .Text("escalation",
            r.escalation_level > 0 ? "tier " + std::to_string(r.escalation_level) + " reached" : "")
      .Html("edits", Edits(r))
      .Flag("can_edit", may_decide && r.kind == Kind::kApproval)
      .Text("arguments_json", PrettyJson(r.arguments))
      .Flag("can_grant", can_grant)
      .Html("grant_options", std::move(grant_options))
      .Text("action", r.action)
      .Text("receipt", extras.receipt_claims)
      .Text("execution", r.execution ? ExecutionSummary(*r.execution) : "")
      .Text("execution_detail", r.execution ? r.execution->detail : "")
      .Text("execution_by", r.execution ? r.execution->reported_by : "")
      .Text("execution_at", r.execution ? HumanTime(r.execution->at) : "")
      .Text("execution_at_iso", r.execution ? FormatTime(r.execution->at) : "")
      .Flag("unreported", ExecutionOverdue(r, extras.now))
      .Text("report_due", r.resolved_at ? HumanTime(*r.resolved_at + r.report_within) : "")
      .Html("events", Events(extras.events))
      .Html("buttons", std::move(buttons));
  return links_->Document(r.title, request_.Render(v));
}

std::string UiPages::AllRequests(const UiViewer& viewer, const UiRequestQuery& query,
                                 const std::vector<Request>& requests, std::string_view next,
                                 std::string_view error, int export_limit, TimePoint now) const {
  SafeHtml options;
  const char* statuses[] = {"",        "pending",   "approved",  "denied", "answered",
                            "expired", "cancelled", "dismissed", "ended"};
  for (const char* status : statuses) {
    PageTemplate::Values o;
    o.Text("value", status)
        .Text("label", *status == '\0' ? "any" : status)
        .Flag("selected", query.status == status);
    options.Append(option_.Render(o));
  }
  SafeHtml rows;
  for (const Request& r : requests) {
    PageTemplate::Values row;
    row.Text("base", base_)
        .Text("id", r.id)
        .Text("title", r.title)
        .Text("status", StatusName(r.status))
        .Flag("unreported", ExecutionOverdue(r, now))
        .Text("action", r.action)
        .Text("requester", r.requester)
        .Text("created", HumanTime(r.created_at))
        .Text("created_iso", FormatTime(r.created_at));
    rows.Append(request_row_.Render(row));
  }
  const size_t n = requests.size();
  std::string count =
      n == 0 ? "No request matches."
             : std::to_string(n) + (n == 1 ? " request" : " requests") + ", newest first.";
  PageTemplate::Values v;
  v.Html("nav", Nav(viewer))
      .Text("base", base_)
      .Text("q", query.q)
      .Html("status_options", std::move(options))
      .Text("action", query.action)
      .Text("requester", query.requester)
      .Text("session", query.session)
      .Text("from", query.from)
      .Text("to", query.to)
      .Text("query", query.encoded)
      .Text("error", std::string(error))
      .Text("count_sentence", count)
      .Text("export_limit", std::to_string(export_limit))
      .Html("rows", std::move(rows))
      .Text("next", std::string(next));
  return links_->Document("All requests", requests_.Render(v));
}

std::string UiPages::Message(const UiViewer& viewer, std::string_view heading,
                             std::string_view tone, std::string_view message) const {
  PageTemplate::Values v;
  v.Html("nav", Nav(viewer))
      .Text("base", base_)
      .Text("heading", std::string(heading))
      .Text("tone", std::string(tone))
      .Text("message", std::string(message));
  return links_->Document(heading, message_.Render(v));
}

}  // namespace countersign
