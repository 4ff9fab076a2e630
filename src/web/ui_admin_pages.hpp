// UiAdminPages: the web inbox's Admin pages (/ui/admin/...; docs/inbox.md "Admin pages"):
// the overview with channel health, tokens (and the page that shows a new token's secret
// once), grants, the outbox, and the policies with their test form. Rendered from the
// embedded templates ui_admin_*.html inside the inbox's header and layout (UiPages::Framed);
// every value is escaped by the templates, and no page needs JavaScript.
//
// The handlers (http/UiAdminHandlers) turn what the engine holds into the plain views below,
// so this library needs neither the store nor the policy types. Thread-safe after Load()
// (const rendering only).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/grant.hpp"
#include "core/principal.hpp"
#include "core/result.hpp"
#include "web/page_template.hpp"
#include "web/ui_pages.hpp"

namespace countersign {

// A notice above a page's content: what a POST just did, or why it did nothing.
struct UiNotice {
  std::string text;
  std::string tone;  // "ok", "warn", "error"
};

// One configured destination and what its outbox rows say of it.
struct UiChannelHealth {
  std::string kind;         // "slack", "webhook", "callback", ...
  std::string name;         // as configured
  std::string destination;  // what outbox rows name: the name, "webhook:NAME" or "callback"
  std::string tenant;       // "" for every tenant
  std::optional<TimePoint> last_delivered;
  std::optional<TimePoint> last_failed;  // given up
  std::string last_error;                // of the newest row with an error
  int pending = 0;                       // rows waiting, retries included
  int retrying = 0;                      // pending rows with an error: an attempt failed
};

struct UiAdminOverview {
  int tokens_active = 0;
  int tokens_revoked = 0;
  int grants_active = 0;
  // The outbox rows counted, and whether the count stopped at the read's limit ("1000+").
  int outbox_pending = 0;
  int outbox_failed = 0;
  bool outbox_capped = false;
  int rows_read = 0;  // the newest rows channel health is derived from
  std::vector<UiChannelHealth> channels;
};

// The token create form's fields, as given (refilled after a refusal).
struct UiTokenForm {
  std::string name;
  std::string role = "agent";
  std::string groups;  // comma- or space-separated
  std::string tenant;
};

// One outbox row as the outbox page shows it (never its payload or target).
struct UiOutboxItem {
  std::string delivery_id;
  std::string tenant;
  std::string request_id;
  std::string destination;
  std::string kind;
  std::string event;
  std::string state;
  int attempts = 0;
  TimePoint next_attempt_at;
  std::string last_error;
  TimePoint created_at;
};

// One policy as loaded, in words.
struct UiPolicyView {
  std::string name;
  std::string source;
  std::string match;  // "action deploy_* · requester * · tenant * · risk any"
  std::string approvers;
  std::string quorum;
  std::string timeout;  // "15m, then expire"
  std::string risk;
  std::string decision;  // "ask people", "approve automatically", ...
  std::string escalation;
  std::string notify;
  std::string reminders;
};

struct UiPoliciesView {
  std::vector<UiPolicyView> policies;  // in file order, then the built-in default
  std::vector<std::pair<std::string, std::string>> groups;  // name, members
  std::string high_risk_actions;
};

// The policy test form's fields, as given (shown back in the form).
struct UiPolicyTestInput {
  std::string action;
  std::string requester;
  std::string tenant;
  std::string risk;  // "", "normal" or "high"
};

// What `countersign policy test` prints, one labelled line each, in its order.
using UiPolicyTestReport = std::vector<std::pair<std::string, std::string>>;

class UiAdminPages {
 public:
  // `ui` must outlive the pages.
  static Result<UiAdminPages> Load(const UiPages& ui);

  std::string Overview(const UiViewer& viewer, const UiAdminOverview& overview) const;
  // The tokens of the admin's reach, and the create form. `self_id` is the token the viewer
  // is signed in with (its row says so). `form` refills the create form after a refusal;
  // `operator_admin` offers the tenant field.
  std::string Tokens(const UiViewer& viewer, const std::vector<Principal>& tokens,
                     const std::string& self_id, bool operator_admin, const UiNotice& notice,
                     const UiTokenForm& form) const;
  // The secret of a token just created, shown once.
  std::string TokenCreated(const UiViewer& viewer, const Principal& token,
                           const std::string& secret) const;
  std::string Grants(const UiViewer& viewer, const std::vector<Grant>& active,
                     const UiNotice& notice) const;
  // `state` and `destination`: the filters in force ("" any); `limit`: the most rows shown.
  std::string Outbox(const UiViewer& viewer, const std::vector<UiOutboxItem>& rows,
                     std::string_view state, std::string_view destination, int limit,
                     const UiNotice& notice) const;
  // `report`: the test form's result (empty: not tested yet).
  std::string Policies(const UiViewer& viewer, const UiPoliciesView& view,
                       const UiPolicyTestInput& input, const UiPolicyTestReport& report,
                       const UiNotice& notice) const;

 private:
  UiAdminPages(const UiPages& ui, std::vector<PageTemplate> templates);

  // The Admin pages' own links, `current` marked ("overview", "tokens", ...).
  SafeHtml Tabs(std::string_view current) const;
  std::string Page(const UiViewer& viewer, std::string_view title, std::string_view current,
                   const PageTemplate& body, PageTemplate::Values& values) const;

  const UiPages* ui_;
  PageTemplate tabs_;
  PageTemplate overview_;
  PageTemplate channel_row_;
  PageTemplate tokens_;
  PageTemplate token_row_;
  PageTemplate token_created_;
  PageTemplate grants_;
  PageTemplate grant_row_;
  PageTemplate outbox_;
  PageTemplate outbox_row_;
  PageTemplate policies_;
  PageTemplate policy_row_;
  PageTemplate pair_row_;
  PageTemplate filter_link_;
};

}  // namespace countersign
