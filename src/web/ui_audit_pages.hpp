// UiAuditPages: the web inbox's Audit pages (/ui/audit), rendered from the embedded templates
// ui_audit*.html inside the inbox's header (UiPages::Framed): the event log with its filters,
// and the verification of the hash chain with its progress. Every value is escaped by the
// templates; nothing needs JavaScript (ui.js moves the progress bar between the page's own
// refreshes). Thread-safe after Load() (const rendering only).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/event.hpp"
#include "core/result.hpp"
#include "engine/audit_verify_job.hpp"
#include "web/page_template.hpp"
#include "web/ui_pages.hpp"

namespace countersign {

// The filters of the Audit page, as the person gave them (shown back in its form).
struct UiAuditQuery {
  std::string request;
  std::string type;  // an event type or its start ("decision.")
  std::string actor;
  std::string from;  // a UTC day, YYYY-MM-DD
  std::string to;    // a UTC day, included
};

class UiAuditPages {
 public:
  // `pages` must outlive these.
  static Result<UiAuditPages> Load(const UiPages& pages);

  // The event log: `events` newest first, a link to older ones (`next`, a URL; empty on the
  // last page), the chain's state and, for the operator (`may_verify`), the buttons that
  // verify it. `error`: why the filters could not be used.
  std::string Log(const UiViewer& viewer, const UiAuditQuery& query,
                  const std::vector<Event>& events, std::string_view next, std::string_view error,
                  const AuditVerifyState& chain, bool may_verify) const;
  // The verification: its progress while it runs, else how the last one ended.
  std::string Verify(const UiViewer& viewer, const AuditVerifyState& chain, bool may_verify) const;

  // One sentence on the chain's state, and its tone ("ok", "error", "warn", "").
  static std::string Sentence(const AuditVerifyState& chain);
  static std::string Tone(const AuditVerifyState& chain);

 private:
  UiAuditPages(const UiPages& pages, std::vector<PageTemplate> templates);

  SafeHtml VerifyForm(const UiViewer& viewer) const;

  const UiPages* pages_;
  PageTemplate log_;
  PageTemplate row_;
  PageTemplate verify_;
  PageTemplate verify_form_;
  PageTemplate fact_;
};

}  // namespace countersign
