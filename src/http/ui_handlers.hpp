// UiHandlers: the web inbox at /ui/ (docs/inbox.md), and `/`.
//
//   GET  /                    a browser (Accept: text/html) is sent to the inbox (303); any
//                             other client gets a short JSON index of the API
//   GET  /ui                  308 to /ui/
//   GET  /ui/login            the sign-in form
//   POST /ui/login            token=…: a valid token starts a session (cookie cs_ui_session:
//                             HttpOnly, SameSite=Lax, Path=<public path>/ui/, Secure under
//                             https) and goes to the inbox (303); a bad one is the form again,
//                             401, saying so
//                             (at most 20 refused sign-ins a minute from one client address;
//                             then 429 with Retry-After)
//   POST /ui/logout           ends the session, back to the sign-in form (303)
//   GET  /ui/                 the inbox: pending requests the viewer may decide and has not
//                             decided yet, soonest deadline first (an agent: its own pending
//                             requests)
//   POST /ui/batch            choice=approve|deny, comment, pick.<id>=1 for each selected
//                             request (at most 100): decides each as the API would and shows
//                             the inbox saying what was decided and what was not, and why;
//                             high-risk requests and requests with a form are never approved
//                             in a batch, and a batch never grants
//   GET  /ui/requests         all requests the viewer may see, newest first, 50 a page
//                             (?cursor= for older ones), filtered by status, action,
//                             requester and session, and searched by id or title words (q=,
//                             over at most 1,000 requests per page shown)
//   GET  /ui/requests.csv     the same filters, exported (at most 1,000 requests); .json too
//   GET  /ui/requests/{id}    a request's page, with the decision form when the viewer may
//                             decide it; 404 when it does not exist or the viewer may not
//                             read it (another tenant, another agent's)
//   GET  /ui/events           the session's live stream (Server-Sent Events) of the request
//                             events the viewer may see, which the inbox follows to refresh
//                             itself; it ends when the session does (signed out, expired, its
//                             token revoked)
//   GET  /ui/ui.js            the pages' script: the live inbox and keyboard shortcuts
//   POST /ui/requests/{id}    choice=…, comment/answer, the response form's fields, and with
//                             an approval `arguments` (JSON: an edit when it differs from the
//                             request's) and `grant`: one of the request's grant_options by its
//                             value ("session:3600", "requester:2592000"; empty: approve once;
//                             anything else is 422 and decides nothing):
//                             decides through Gateway::Decide exactly like the API, then 303 back
//                             to the request's page saying what was recorded and granted; a
//                             refusal is the page again with the engine's reason (403, 409, 422)
//
// Every /ui/ page but the sign-in form needs a session; without one (none, unknown, expired,
// or its token revoked since: each page re-authenticates the session's token) it is 303 to
// the sign-in form. Every POST passes the anti-CSRF check of the link pages (FormGuard: a
// double-submit cookie cs_ui_csrf, Origin and Sec-Fetch-Site), or is 403 and changes nothing.
// Pages may run this server's own scripts and connect back to it, nothing else (CSP).
// Thread-safe; everything passed in must outlive the handlers.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "auth/authenticator.hpp"
#include "core/public_url.hpp"
#include "engine/event_bus.hpp"
#include "engine/gateway.hpp"
#include "engine/rate_limiter.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"
#include "http/ui_gate.hpp"
#include "web/ui_pages.hpp"

namespace countersign {

class UiHandlers {
 public:
  UiHandlers(Gateway& gateway, EventBus& bus, Authenticator& authenticator, UiGate& gate,
             Metrics& metrics);

  void Register(Router& router);

 private:
  using SignedIn = UiGate::SignedIn;

  asio::awaitable<HttpResponse> Root(RequestContext& ctx);
  asio::awaitable<HttpResponse> ToInbox(RequestContext& ctx);
  asio::awaitable<HttpResponse> ShowLogin(RequestContext& ctx);
  asio::awaitable<HttpResponse> SignIn(RequestContext& ctx);
  asio::awaitable<HttpResponse> SignOut(RequestContext& ctx);
  // The pages behind sign-in, each given the viewer by the gate.
  using SignedInHandler = asio::awaitable<HttpResponse> (UiHandlers::*)(RequestContext&,
                                                                        const SignedIn&);
  asio::awaitable<HttpResponse> Signed(RequestContext& ctx, SignedInHandler handler);
  asio::awaitable<HttpResponse> Inbox(RequestContext& ctx, const SignedIn& who);
  asio::awaitable<HttpResponse> ShowRequest(RequestContext& ctx, const SignedIn& who);
  asio::awaitable<HttpResponse> Decide(RequestContext& ctx, const SignedIn& who);
  asio::awaitable<HttpResponse> Batch(RequestContext& ctx, const SignedIn& who);
  asio::awaitable<HttpResponse> AllRequests(RequestContext& ctx, const SignedIn& who);
  asio::awaitable<HttpResponse> ExportCsv(RequestContext& ctx, const SignedIn& who);
  asio::awaitable<HttpResponse> ExportJson(RequestContext& ctx, const SignedIn& who);
  asio::awaitable<HttpResponse> Export(RequestContext& ctx, const SignedIn& who, bool csv);
  asio::awaitable<HttpResponse> Script(RequestContext& ctx);
  // The inbox of `who`, with `notice` (what a batch did) above it.
  asio::awaitable<HttpResponse> InboxPage(const SignedIn& who, const HttpRequest& request,
                                          std::string notice, std::string tone);
  asio::awaitable<Result<StreamUpgrade>> Events(RequestContext& ctx);

  // The page for a request that could not be read: 404 when it does not exist or the viewer
  // may not see it, else the error's status.
  HttpResponse ReadFailedPage(const SignedIn& who, const HttpRequest& request,
                              const Error& error) const;
  // Why `actor` has no decision form on `r`; empty when it may decide.
  std::string WhyNot(const Actor& actor, const Request& r) const;
  // The audit trail and the decoded receipt of `r` (an unreadable trail is left out).
  asio::awaitable<UiRequestExtras> ExtrasOf(const Actor& actor, const Request& r);
  HttpResponse RequestPage(const SignedIn& who, const Request& r, const UiRequestExtras& extras,
                           const HttpRequest& request, http::status status, std::string_view notice,
                           std::string_view tone) const;

  Gateway& gateway_;
  EventBus& bus_;
  Authenticator& authenticator_;
  UiGate& gate_;
  const UiPages& pages_;
  Metrics& metrics_;
  RateLimiter sign_ins_;  // refused sign-ins, per client address
};

}  // namespace countersign
