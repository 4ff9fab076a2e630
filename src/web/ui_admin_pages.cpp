#include "web/ui_admin_pages.hpp"

#include "core/time_format.hpp"
#include "web/page_text.hpp"

namespace countersign {
namespace {

// Groups a token may carry, as the create form says.
constexpr int kMaxGroups = 20;

std::string Joined(const std::vector<std::string>& items, std::string_view none) {
  if (items.empty()) return std::string(none);
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::string Counted(size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

void SetNotice(PageTemplate::Values& v, const UiNotice& notice) {
  v.Text("notice", notice.text).Text("tone", notice.tone);
}

void SetTime(PageTemplate::Values& v, const std::string& name, std::optional<TimePoint> at) {
  if (!at) return;
  v.Text(name, HumanTime(*at)).Text(name + "_iso", FormatTime(*at));
}

// A channel's health in a word, from what its rows say: failing when its newest news is a
// failure (a row given up, or a retry pending), ok when it is a delivery.
std::pair<std::string, std::string> Health(const UiChannelHealth& c) {
  const bool failed_last =
      c.last_failed && (!c.last_delivered || *c.last_failed > *c.last_delivered);
  if (failed_last) return {"failing: a delivery was given up", "failing"};
  if (c.retrying > 0)
    return {"retrying: " + Counted(c.retrying, "delivery", "deliveries"), "failing"};
  if (c.last_delivered) return {"ok", "ok"};
  return {"no deliveries yet", "idle"};
}

}  // namespace

UiAdminPages::UiAdminPages(const UiPages& ui, std::vector<PageTemplate> templates)
    : ui_(&ui),
      tabs_(std::move(templates[0])),
      overview_(std::move(templates[1])),
      channel_row_(std::move(templates[2])),
      tokens_(std::move(templates[3])),
      token_row_(std::move(templates[4])),
      token_created_(std::move(templates[5])),
      grants_(std::move(templates[6])),
      grant_row_(std::move(templates[7])),
      outbox_(std::move(templates[8])),
      outbox_row_(std::move(templates[9])),
      policies_(std::move(templates[10])),
      policy_row_(std::move(templates[11])),
      pair_row_(std::move(templates[12])),
      filter_link_(std::move(templates[13])) {}

Result<UiAdminPages> UiAdminPages::Load(const UiPages& ui) {
  const char* names[] = {
      "ui_admin_tabs.html",       "ui_admin_overview.html",   "ui_admin_channel_row.html",
      "ui_admin_tokens.html",     "ui_admin_token_row.html",  "ui_admin_token_created.html",
      "ui_admin_grants.html",     "ui_admin_grant_row.html",  "ui_admin_outbox.html",
      "ui_admin_outbox_row.html", "ui_admin_policies.html",   "ui_admin_policy_row.html",
      "ui_admin_pair_row.html",   "ui_admin_filter_link.html"};
  std::vector<PageTemplate> parsed;
  for (const char* name : names) {
    auto loaded = LoadEmbeddedTemplate(name);
    if (!loaded.ok()) return std::move(loaded).error();
    parsed.push_back(std::move(loaded).value());
  }
  return UiAdminPages(ui, std::move(parsed));
}

SafeHtml UiAdminPages::Tabs(std::string_view current) const {
  PageTemplate::Values v;
  v.Text("base", ui_->base()).Flag(std::string(current), true);
  return tabs_.Render(v);
}

std::string UiAdminPages::Page(const UiViewer& viewer, std::string_view title,
                               std::string_view current, const PageTemplate& body,
                               PageTemplate::Values& values) const {
  values.Html("tabs", Tabs(current)).Text("base", ui_->base()).Text("csrf", viewer.csrf);
  return ui_->Framed(viewer, title, body.Render(values));
}

std::string UiAdminPages::Overview(const UiViewer& viewer, const UiAdminOverview& overview) const {
  SafeHtml rows;
  for (const UiChannelHealth& c : overview.channels) {
    const auto [health, health_class] = Health(c);
    PageTemplate::Values row;
    row.Text("base", ui_->base())
        .Text("name", c.name)
        .Text("kind", c.kind)
        .Text("destination", c.destination)
        .Text("tenant", c.tenant)
        .Text("health", health)
        .Text("health_class", health_class)
        .Text("last_error", c.last_error)
        .Text("pending", std::to_string(c.pending));
    SetTime(row, "delivered", c.last_delivered);
    SetTime(row, "failed", c.last_failed);
    rows.Append(channel_row_.Render(row));
  }
  const std::string more = overview.outbox_capped ? "+" : "";
  PageTemplate::Values v;
  v.Text("tokens_active", std::to_string(overview.tokens_active))
      .Text("tokens_revoked", std::to_string(overview.tokens_revoked))
      .Text("grants_active", std::to_string(overview.grants_active))
      .Text("outbox_pending", std::to_string(overview.outbox_pending) + more)
      .Text("outbox_failed", std::to_string(overview.outbox_failed) + more)
      .Text("rows_read", std::to_string(overview.rows_read))
      .Html("channels", std::move(rows));
  return Page(viewer, "Admin", "overview", overview_, v);
}

std::string UiAdminPages::Tokens(const UiViewer& viewer, const std::vector<Principal>& tokens,
                                 const std::string& self_id, bool operator_admin,
                                 const UiNotice& notice, const UiTokenForm& form) const {
  SafeHtml rows;
  size_t active = 0;
  for (const Principal& p : tokens) {
    if (!p.revoked_at) ++active;
    PageTemplate::Values row;
    row.Text("base", ui_->base())
        .Text("csrf", viewer.csrf)
        .Text("id", p.id)
        .Text("name", p.name)
        .Text("role", RoleName(p.role))
        .Text("groups", Joined(p.groups, ""))
        .Text("tenant", p.tenant)
        .Flag("operator", operator_admin)
        .Flag("self", p.id == self_id);
    SetTime(row, "created", p.created_at);
    SetTime(row, "revoked", p.revoked_at);
    rows.Append(token_row_.Render(row));
  }
  PageTemplate::Values v;
  SetNotice(v, notice);
  v.Text("count_sentence", Counted(active, "active token", "active tokens") + ", " +
                               Counted(tokens.size() - active, "revoked.", "revoked."))
      .Html("rows", std::move(rows))
      .Flag("operator", operator_admin)
      .Text("name", form.name)
      .Flag("role_agent", form.role == "agent")
      .Flag("role_approver", form.role == "approver")
      .Flag("role_admin", form.role == "admin")
      .Text("groups", form.groups)
      .Text("tenant", form.tenant)
      .Text("max_groups", std::to_string(kMaxGroups));
  return Page(viewer, "Tokens", "tokens", tokens_, v);
}

std::string UiAdminPages::TokenCreated(const UiViewer& viewer, const Principal& token,
                                       const std::string& secret) const {
  PageTemplate::Values v;
  v.Text("id", token.id)
      .Text("name", token.name)
      .Text("role", RoleName(token.role))
      .Text("groups", Joined(token.groups, ""))
      .Text("secret", secret);
  return Page(viewer, "Token created", "tokens", token_created_, v);
}

std::string UiAdminPages::Grants(const UiViewer& viewer, const std::vector<Grant>& active,
                                 const UiNotice& notice) const {
  SafeHtml rows;
  for (const Grant& g : active) {
    PageTemplate::Values row;
    row.Text("base", ui_->base())
        .Text("csrf", viewer.csrf)
        .Text("id", g.id)
        .Text("action", g.action)
        .Text("session", g.scope == "session" ? g.session : "")
        .Text("requester", g.scope == "requester" ? g.requester : "")
        .Text("created_by", g.created_by)
        .Text("request_id", g.request_id);
    SetTime(row, "created", g.created_at);
    SetTime(row, "expires", g.expires_at);
    rows.Append(grant_row_.Render(row));
  }
  PageTemplate::Values v;
  SetNotice(v, notice);
  v.Text("count_sentence",
         active.empty() ? std::string("No grant is active.")
                        : Counted(active.size(), "active grant.", "active grants, newest first."))
      .Html("rows", std::move(rows));
  return Page(viewer, "Grants", "grants", grants_, v);
}

std::string UiAdminPages::Outbox(const UiViewer& viewer, const std::vector<UiOutboxItem>& rows,
                                 std::string_view state, std::string_view destination, int limit,
                                 const UiNotice& notice) const {
  // The filter links, the one in force marked aria-current.
  SafeHtml filters;
  const char* states[] = {"", "pending", "failed", "delivered"};
  for (const char* s : states) {
    PageTemplate::Values link;
    link.Text("base", ui_->base())
        .Flag("separator", *s != '\0')
        .Text("value", s)
        .Text("label", *s == '\0' ? "all" : s)
        .Flag("current", state == s);
    filters.Append(filter_link_.Render(link));
  }
  SafeHtml body_rows;
  for (const UiOutboxItem& r : rows) {
    PageTemplate::Values row;
    row.Text("base", ui_->base())
        .Text("csrf", viewer.csrf)
        .Text("delivery_id", r.delivery_id)
        .Text("request_id", r.request_id)
        .Text("tenant", r.tenant)
        .Text("destination", r.destination)
        .Text("kind", r.kind)
        .Text("event", r.event)
        .Text("state", r.state)
        .Text("attempts", std::to_string(r.attempts))
        .Flag("pending", r.state == "pending")
        .Text("next", HumanTime(r.next_attempt_at))
        .Text("next_iso", FormatTime(r.next_attempt_at))
        .Text("last_error", r.last_error)
        .Flag("retryable", r.state == "pending" || r.state == "failed")
        .Text("filter", std::string(state));
    body_rows.Append(outbox_row_.Render(row));
  }
  std::string count = rows.empty()
                          ? std::string("No delivery")
                          : Counted(rows.size(), "delivery", "deliveries") + ", newest first";
  if (!state.empty()) count += " (" + std::string(state) + ")";
  if (!destination.empty()) count += " to " + std::string(destination);
  count += static_cast<int>(rows.size()) >= limit
               ? "; the newest " + std::to_string(limit) + " are shown."
               : ".";
  PageTemplate::Values v;
  SetNotice(v, notice);
  v.Html("filters", filters).Text("count_sentence", count).Html("rows", std::move(body_rows));
  return Page(viewer, "Outbox", "outbox", outbox_, v);
}

std::string UiAdminPages::Policies(const UiViewer& viewer, const UiPoliciesView& view,
                                   const UiPolicyTestInput& input, const UiPolicyTestReport& report,
                                   const UiNotice& notice) const {
  SafeHtml policies;
  for (const UiPolicyView& p : view.policies) {
    PageTemplate::Values row;
    row.Text("name", p.name)
        .Text("source", p.source)
        .Text("match", p.match)
        .Text("approvers", p.approvers)
        .Text("quorum", p.quorum)
        .Text("timeout", p.timeout)
        .Text("escalation", p.escalation)
        .Text("reminders", p.reminders)
        .Text("risk", p.risk)
        .Text("decision", p.decision)
        .Text("notify", p.notify);
    policies.Append(policy_row_.Render(row));
  }
  auto pairs = [this](const std::vector<std::pair<std::string, std::string>>& items) {
    SafeHtml out;
    for (const auto& [label, value] : items) {
      PageTemplate::Values row;
      row.Text("label", label).Text("value", value);
      out.Append(pair_row_.Render(row));
    }
    return out;
  };
  PageTemplate::Values v;
  SetNotice(v, notice);
  v.Html("policies", std::move(policies))
      .Html("groups", pairs(view.groups))
      .Text("high_risk", view.high_risk_actions)
      .Text("action", input.action)
      .Text("requester", input.requester)
      .Text("tenant", input.tenant)
      .Flag("risk_none", input.risk.empty())
      .Flag("risk_normal", input.risk == "normal")
      .Flag("risk_high", input.risk == "high")
      .Html("report", pairs(report));
  return Page(viewer, "Policies", "policies", policies_, v);
}

}  // namespace countersign
