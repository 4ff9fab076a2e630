// UiAdminHandlers: the web inbox's Admin pages (docs/inbox.md "Admin pages"), for admins only.
//
//   GET  /ui/admin                      counts (tokens, active grants, outbox pending and
//                                       failed) and each configured channel's and webhook's
//                                       health, derived from its newest outbox rows
//   GET  /ui/admin/tokens               the tokens GET /v1/tokens lists (never a secret or
//                                       hash), and the create form
//   POST /ui/admin/tokens               name, role, groups (commas or spaces), tenant (the
//                                       operator's admins): creates as POST /v1/tokens does and
//                                       shows the secret once (Cache-Control: no-store)
//   POST /ui/admin/tokens/{id}/revoke   confirm=1: revokes as DELETE /v1/tokens/{id}; revoking
//                                       the token the admin signed in with signs them out
//   GET  /ui/admin/grants               the active grants, each with a revoke button
//   POST /ui/admin/grants/{id}/revoke   revokes as DELETE /v1/grants/{id}
//   GET  /ui/admin/outbox               ?state=pending|failed|delivered &destination=NAME:
//                                       the newest rows, with "retry now" on pending and failed
//   POST /ui/admin/outbox/{id}/retry    as POST /v1/outbox/{id}/retry, then wakes the dispatcher
//   GET  /ui/admin/policies             the policies in force, the groups, the high-risk
//                                       actions, and the test form
//   POST /ui/admin/policies/test        action, requester, tenant, risk: what `countersign policy
//                                       test` prints for that request, from PolicySet::Evaluate
//
// Every page needs a session (UiGate::Signed) of an admin: an approver or agent gets a 403
// page and nothing changes. Every POST passes UiGate::GuardedForm or is 403 and changes
// nothing; a POST that is refused (bounds, the engine's rules) says why and changes nothing.
// A successful change answers 303 back to its page, which says what was done.
// Thread-safe; everything passed in must outlive the handlers.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "engine/gateway.hpp"
#include "engine/token_registry.hpp"
#include "http/router.hpp"
#include "http/ui_gate.hpp"
#include "notify/channel_set.hpp"
#include "web/ui_admin_pages.hpp"

namespace countersign {

struct UiAdminOptions {
  // The built-in policy's timeout ([server] default_timeout_seconds), as the gateway applies it.
  std::chrono::seconds default_timeout{300};
  // Tells the dispatcher that an outbox row may be due now; callable from any thread.
  std::function<void()> wake_dispatcher;
};

class UiAdminHandlers {
 public:
  UiAdminHandlers(Gateway& gateway, TokenRegistry& tokens, UiGate& gate, const ChannelSet& channels,
                  Clock& clock, UiAdminPages pages, UiAdminOptions options);

  void Register(Router& router);

 private:
  using SignedIn = UiGate::SignedIn;
  using AdminHandler = asio::awaitable<HttpResponse> (UiAdminHandlers::*)(RequestContext&,
                                                                          const SignedIn&);

  // Runs `handler` for a signed-in admin; the sign-in form without a session, a 403 page for
  // anyone else.
  asio::awaitable<HttpResponse> Admin(RequestContext& ctx, AdminHandler handler);
  asio::awaitable<HttpResponse> AdminOnly(RequestContext& ctx, const SignedIn& who,
                                          AdminHandler handler);

  asio::awaitable<HttpResponse> Overview(RequestContext& ctx, const SignedIn& who);
  asio::awaitable<HttpResponse> Tokens(RequestContext& ctx, const SignedIn& who);
  asio::awaitable<HttpResponse> CreateToken(RequestContext& ctx, const SignedIn& who);
  asio::awaitable<HttpResponse> RevokeToken(RequestContext& ctx, const SignedIn& who);
  asio::awaitable<HttpResponse> Grants(RequestContext& ctx, const SignedIn& who);
  asio::awaitable<HttpResponse> RevokeGrant(RequestContext& ctx, const SignedIn& who);
  asio::awaitable<HttpResponse> Outbox(RequestContext& ctx, const SignedIn& who);
  asio::awaitable<HttpResponse> RetryOutbox(RequestContext& ctx, const SignedIn& who);
  asio::awaitable<HttpResponse> Policies(RequestContext& ctx, const SignedIn& who);
  asio::awaitable<HttpResponse> TestPolicy(RequestContext& ctx, const SignedIn& who);

  // The tokens page with `notice` (and the create form refilled with `form`), at `status`.
  asio::awaitable<HttpResponse> TokensPage(const SignedIn& who, const HttpRequest& request,
                                           http::status status, UiNotice notice, UiTokenForm form);
  asio::awaitable<HttpResponse> GrantsPage(const SignedIn& who, const HttpRequest& request,
                                           http::status status, UiNotice notice);
  asio::awaitable<HttpResponse> OutboxPage(const SignedIn& who, const HttpRequest& request,
                                           http::status status, std::string state,
                                           std::string destination, UiNotice notice);
  HttpResponse PoliciesPage(const SignedIn& who, const HttpRequest& request, http::status status,
                            const UiPolicyTestInput& input, const UiPolicyTestReport& report,
                            const UiNotice& notice) const;
  // A 403 page saying the form expired and nothing changed: a POST that failed the check.
  HttpResponse FormExpired(const SignedIn& who, const HttpRequest& request) const;
  // The page for a read that failed.
  HttpResponse Unavailable(const SignedIn& who, const HttpRequest& request,
                           const Error& error) const;
  // The page's viewer and its anti-CSRF value, and the page answered with them.
  HttpResponse Answer(const SignedIn& who, const HttpRequest& request, http::status status,
                      const std::function<std::string(const UiViewer&)>& render) const;

  Gateway& gateway_;
  TokenRegistry& tokens_;
  UiGate& gate_;
  const ChannelSet& channels_;
  Clock& clock_;
  const UiAdminPages pages_;
  const UiAdminOptions options_;
};

}  // namespace countersign
