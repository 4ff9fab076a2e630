#include "web/ui_pages.hpp"

#include "core/choice_meaning.hpp"
#include "core/time_format.hpp"
#include "web/page_text.hpp"

namespace countersign {
namespace {

bool Fills(const Choice& c) {
  return c.outcome == Outcome::kApproved || c.outcome == Outcome::kAnswered;
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
      message_(std::move(templates[6])) {}

Result<UiPages> UiPages::Load(const LinkPages& links, std::string base) {
  const char* names[] = {"ui_nav.html",       "ui_login.html",   "ui_inbox.html",
                         "ui_inbox_row.html", "ui_request.html", "ui_choice_button.html",
                         "ui_message.html"};
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
      .Text("csrf", viewer.csrf);
  return nav_.Render(v);
}

std::string UiPages::Login(std::string_view csrf, std::string_view error,
                           std::string_view notice) const {
  PageTemplate::Values v;
  v.Text("base", base_)
      .Text("csrf", std::string(csrf))
      .Text("error", std::string(error))
      .Text("notice", std::string(notice));
  return links_->Document("Sign in", login_.Render(v));
}

std::string UiPages::Inbox(const UiViewer& viewer, const std::vector<Request>& requests,
                           bool mine) const {
  SafeHtml rows;
  for (const Request& r : requests) {
    PageTemplate::Values row;
    row.Text("base", base_)
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
      .Text("heading", heading)
      .Text("count_sentence", count)
      .Html("rows", std::move(rows))
      .Text("empty", mine ? "None of your requests is pending." : "Nothing is waiting for you.");
  const std::string title = n == 0 ? heading : "(" + std::to_string(n) + ") " + heading;
  return links_->Document(title, inbox_.Render(v));
}

std::string UiPages::RequestPage(const UiViewer& viewer, const Request& r, bool may_decide,
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
  PageTemplate::Values v;
  v.Html("nav", Nav(viewer))
      .Text("base", base_)
      .Text("id", r.id)
      .Text("heading", r.pending() ? "Decide: " + r.title : r.title)
      .Text("notice", std::string(notice))
      .Text("tone", std::string(tone))
      .Flag("high_risk", r.pending() && r.risk == "high")
      .Html("summary", links_->Summary(r))
      .Flag("decide", may_decide)
      .Text("why_not", std::string(why_not))
      .Text("csrf", viewer.csrf)
      .Text("principal", viewer.principal)
      .Html("decision_fields", links_->DecisionFields(r, any_fills, answer_mode, "h3"))
      .Html("buttons", std::move(buttons));
  return links_->Document(r.title, request_.Render(v));
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
