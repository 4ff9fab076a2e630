// MoleculeHandlers: the Molecule platform's approvals API (seeds 002 and 003), a thin layer
// over the same Gateway as /v1.
//
//   POST /workspaces/{ws}/approvals          {action, reason} -> 201 {"approval_id"}
//   GET  /workspaces/{ws}/approvals          -> 200 [{id, action, reason, status, decided_by,
//                                               created_at}], newest first (?limit=, ?status=)
//   POST /workspaces/{ws}/approvals/{id}/approve|deny
//        JSON {decided_by?, comment?}        -> 200 {"approval_id", "status", "decided_by"}
//        the confirm page's form             -> an HTML page
//   GET  /workspaces/{ws}/approvals/{id}/approve|deny   the confirm page; never decides
//   GET  /ws  (WebSocket, X-Workspace-ID: ws)  {"event": "APPROVAL_DECIDED", ...} per resolution
//
// Workspaces: `ws` maps to options.workspaces[ws], else default_tenant, else 404. A
// workspace's requests are made in session "molecule:<ws>" (action "molecule.<slug>", the
// original text as title, reason in details.reason); an anonymous call acts as agent
// "molecule:<ws>" of that tenant, so workspaces sharing a tenant stay apart, and every route
// shows only requests of that session. A bearer token is authenticated as on /v1 and must
// belong to the workspace's tenant (404 otherwise).
//
// Deciding needs an approver or admin while auth is on (no token: 401, an agent's: 403) and
// the decider is the token's principal; with auth off the body's decided_by names the decider
// ("dashboard" by default). The confirm page's form carries the token (auth on) or name (auth
// off) in a field, and the anti-CSRF pair of FormGuard. The page is read as the caller
// (anonymous: the workspace's own agent), so with anonymous = false it answers 401.
//
// /ws replays the workspace's resolutions of the last options.replay_window, then streams
// live ones, with no gap and no duplicate between the two (EventFeed, from
// EventFeed::PositionAt); heartbeats, the slow-consumer limit and shutdown are /v1/ws's.
//
// Errors are {"error": "message"} with the status of the error's code; the /ws handshake's
// refusals (400 without X-Workspace-ID) use the router's v1 error shape. A disabled adapter
// registers every route and answers each with 404 saying how to enable it.
// Thread-safe: no mutable state; everything referenced must outlive the handlers.
#pragma once

#include <string>
#include <string_view>

#include "auth/authenticator.hpp"
#include "compat/compat_options.hpp"
#include "compat/molecule_pages.hpp"
#include "engine/event_bus.hpp"
#include "engine/gateway.hpp"
#include "http/form_guard.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"

namespace countersign {

class MoleculeHandlers {
 public:
  // `auth_on`: tokens are checked (else every caller may decide, naming itself).
  MoleculeHandlers(Gateway& gateway, const Clock& clock, EventBus& bus,
                   Authenticator& authenticator, const MoleculePages& pages, Metrics& metrics,
                   PublicUrl public_url, MoleculeOptions options, bool auth_on);

  // Logs what is on; `loopback`: the server listens on loopback only (anonymous calls from
  // elsewhere get a warning).
  void Register(Router& router, bool loopback);

  asio::awaitable<HttpResponse> Create(RequestContext& ctx);
  asio::awaitable<HttpResponse> List(RequestContext& ctx);
  asio::awaitable<HttpResponse> Decide(RequestContext& ctx, const std::string& choice);
  asio::awaitable<HttpResponse> ShowConfirm(RequestContext& ctx, const std::string& choice);
  asio::awaitable<Result<StreamUpgrade>> Stream(RequestContext& ctx);

 private:
  using RequestPtr = Gateway::RequestPtr;

  // The tenant of workspace `ws`: kMalformed for an unusable id, kNotFound for an unknown one.
  Result<std::string> TenantOf(std::string_view ws) const;
  // Who the call acts as in `ws` (CompatCaller), checked to belong to the workspace's tenant.
  asio::awaitable<Result<Actor>> CallerIn(const HttpRequest& request, std::string ws) const;
  // The request `id` of workspace `ws` as `actor` sees it; kNotFound when it is not one.
  asio::awaitable<Result<RequestPtr>> FindApproval(const Actor& actor, std::string ws,
                                                   std::string id) const;
  // Decides through the Gateway, as the API does.
  asio::awaitable<Result<RequestPtr>> Record(const Actor& decider, std::string ws, std::string id,
                                             std::string choice, std::string comment);
  // POST of the confirm page's form.
  asio::awaitable<HttpResponse> SubmitForm(RequestContext& ctx, const std::string& choice);
  // The confirm page of pending `r`, with `error` above the form; sets the anti-CSRF cookie.
  HttpResponse ConfirmPage(http::status status, const Request& r, std::string_view ws,
                           const std::string& choice, const HttpRequest& request,
                           std::string error) const;
  // The page for a failure to find the caller or the request.
  HttpResponse LookupFailedPage(const Error& error) const;

  Gateway& gateway_;
  const Clock& clock_;
  EventBus& bus_;
  Authenticator& authenticator_;
  const MoleculePages& pages_;
  Metrics& metrics_;
  const FormGuard form_guard_;
  const MoleculeOptions options_;
  const bool auth_on_;
};

}  // namespace countersign
