// UiPages: the web inbox's HTML pages (/ui/), rendered on the server from the embedded
// templates (ui_*.html) inside the same layout as the one-click link pages, whose request
// summary and response form they reuse. Every value is escaped by the templates; nothing here
// needs JavaScript. `base` is the public URL's path ("" or "/approvals"), for links and form
// actions. Thread-safe after Load() (const rendering only).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/event.hpp"
#include "core/request.hpp"
#include "core/result.hpp"
#include "web/link_pages.hpp"
#include "web/page_template.hpp"

namespace countersign {

// What a request's page shows beyond the request itself.
struct UiRequestExtras {
  std::vector<Event> events;   // its audit trail, oldest first
  std::string receipt_claims;  // the receipt's claims as JSON text; empty without one
  TimePoint now;               // for the "no execution report" flag (ExecutionOverdue)
};

// The filters of the All requests page, as the person gave them (shown back in its form).
struct UiRequestQuery {
  std::string q;  // an id, or words of the title
  std::string status;
  std::string action;
  std::string requester;
  std::string session;
  std::string from;     // created on or after this day (YYYY-MM-DD, UTC)
  std::string to;       // created on or before this day
  std::string encoded;  // the filters as a query string, for the export links
};

// Who is signed in, for the page header.
struct UiViewer {
  std::string principal;
  std::string role;  // "approver", "admin", "agent"
  std::string csrf;  // the anti-CSRF value every form of the page carries
};

class UiPages {
 public:
  // `links` must outlive the pages.
  static Result<UiPages> Load(const LinkPages& links, std::string base);

  // The sign-in form; `error` (a refused token) or `notice` (signed out) above it. With
  // `oidc`, a "Sign in with your identity provider" link (to /ui/oidc/start) above the form.
  std::string Login(std::string_view csrf, std::string_view error, std::string_view notice,
                    bool oidc = false) const;
  // The inbox: `requests` (pending, soonest deadline first) as a table, or a line saying there
  // is nothing to decide. `mine`: the viewer is an agent, and these are the requests it made
  // (no batch form); otherwise each row has a checkbox for the batch form under the table.
  // `notice`/`tone`: what came of a batch just posted.
  std::string Inbox(const UiViewer& viewer, const std::vector<Request>& requests, bool mine,
                    std::string_view notice = {}, std::string_view tone = {}) const;
  // A request's page: its summary, what ran after the approval ("ran: failed (exit 2)") or
  // a "no execution report" flag once that is overdue at `extras.now`, policy and approvers,
  // each approver's edit of the
  // arguments as a diff, the receipt's claims and the audit trail. `may_decide`: the decision
  // form with one button per choice (choices that do not fill the form skip the browser's
  // checks of its fields), the arguments to edit and, on a request with grant_options, a
  // select of them ("Approve once" first; labels and values as on the link page); otherwise
  // `why_not` says why there is no form. `notice`/`tone`: what came of a decision just posted.
  std::string RequestPage(const UiViewer& viewer, const Request& r, const UiRequestExtras& extras,
                          bool may_decide, std::string_view why_not, std::string_view notice,
                          std::string_view tone) const;
  // All requests the viewer may see that match `query`, newest first, with a link to the
  // older ones (`next`, a URL; empty on the last page) and to the export of the same filters.
  // `error`: why the filters could not be used. An approved request whose execution report is
  // overdue at `now` is flagged "no execution report" (ExecutionOverdue).
  std::string AllRequests(const UiViewer& viewer, const UiRequestQuery& query,
                          const std::vector<Request>& requests, std::string_view next,
                          std::string_view error, int export_limit, TimePoint now = {}) const;
  // The page header: the links (Audit for approvers and admins, Admin for admins), who is
  // signed in and the sign-out button.
  SafeHtml Nav(const UiViewer& viewer) const;
  // A whole page titled `title`: the header, then `body`. For the other /ui/ page classes.
  std::string Framed(const UiViewer& viewer, std::string_view title, SafeHtml body) const;
  const std::string& base() const { return base_; }

  // A page with a message (not found, unavailable) under the header.
  std::string Message(const UiViewer& viewer, std::string_view heading, std::string_view tone,
                      std::string_view message) const;

 private:
  UiPages(const LinkPages& links, std::string base, std::vector<PageTemplate> templates);

  // Each decision's edit of the arguments: the keys whose values changed, before and after.
  SafeHtml Edits(const Request& r) const;
  SafeHtml Events(const std::vector<Event>& events) const;

  const LinkPages* links_;
  std::string base_;
  PageTemplate nav_;
  PageTemplate login_;
  PageTemplate inbox_;
  PageTemplate inbox_row_;
  PageTemplate request_;
  PageTemplate choice_button_;
  PageTemplate message_;
  PageTemplate edit_;
  PageTemplate diff_row_;
  PageTemplate event_item_;
  PageTemplate requests_;
  PageTemplate request_row_;
  PageTemplate option_;
};

}  // namespace countersign
