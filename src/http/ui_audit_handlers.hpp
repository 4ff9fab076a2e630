// UiAuditHandlers: the web inbox's Audit pages (docs/inbox.md), behind the inbox's sign-in.
//
//   GET  /ui/audit               the audit log of the viewer's tenant, newest first, 100 a page
//                                (?before=SEQ for older ones), filtered by request id, event
//                                type or its start ("decision."), who acted, and UTC days
//                                (from, to); above it, the hash chain's state. Approvers and
//                                admins; an agent gets 403.
//   GET  /ui/audit/verify        the chain's verification: a progress bar while one runs (the
//                                page refreshes itself, Refresh: 2, and ui.js moves the bar in
//                                between), else how the last one ended
//   GET  /ui/audit/verify.json   the same as JSON, for ui.js: running, checked, total, ok
//   POST /ui/audit/verify        full=0 (the events since the last verification) or 1 (the
//                                whole chain): starts a verification, unless one runs, and
//                                goes to its page (303). The operator only (an admin of the
//                                default tenant: one chain spans every tenant); anyone else
//                                gets 403 and nothing starts.
// Every POST passes the inbox's anti-CSRF check or is 403. Thread-safe; everything passed in
// must outlive the handlers.
#pragma once

#include "engine/audit_verify_job.hpp"
#include "engine/gateway.hpp"
#include "http/router.hpp"
#include "http/ui_gate.hpp"
#include "web/ui_audit_pages.hpp"

namespace countersign {

class UiAuditHandlers {
 public:
  UiAuditHandlers(Gateway& gateway, UiGate& gate, const UiAuditPages& pages, AuditVerifyJob& job);

  void Register(Router& router);

 private:
  using SignedIn = UiGate::SignedIn;
  using SignedInHandler = asio::awaitable<HttpResponse> (UiAuditHandlers::*)(RequestContext&,
                                                                             const SignedIn&);
  asio::awaitable<HttpResponse> Signed(RequestContext& ctx, SignedInHandler handler);
  asio::awaitable<HttpResponse> Log(RequestContext& ctx, const SignedIn& who);
  asio::awaitable<HttpResponse> ShowVerify(RequestContext& ctx, const SignedIn& who);
  asio::awaitable<HttpResponse> VerifyJson(RequestContext& ctx, const SignedIn& who);
  asio::awaitable<HttpResponse> StartVerify(RequestContext& ctx, const SignedIn& who);

  // An agent may not read the audit log: the 403 page saying so.
  HttpResponse Refused(const SignedIn& who, const HttpRequest& request,
                       std::string_view message) const;

  Gateway& gateway_;
  UiGate& gate_;
  const UiAuditPages& pages_;
  AuditVerifyJob& job_;
};

}  // namespace countersign
