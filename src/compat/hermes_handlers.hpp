// HermesHandlers: the Hermes confirmation daemon's wire API (seeds/004) over the Gateway.
//
//   POST /confirm               submit (202 pending, 200 auto_approved, 429 over the limit)
//   POST /confirm/{id}/approve  {"approver"} optional
//   POST /confirm/{id}/deny     {"denier", "reason"} optional
//   GET  /confirm/{id}          the daemon's to_dict()
//   GET  /audit?limit=N         one row per request, newest first
//   GET  /health                {"status": "ok", "pending_count", "timestamp"}
//
// A confirmation is an ordinary countersign request of the adapter's tenant: it survives a
// restart, expires at its deadline without anyone polling, and every change is on the audit
// chain. Handlers find the caller with CompatCaller, parse the daemon's shape, call the
// Gateway and render the daemon's shape (hermes_view.hpp); errors are the daemon's
// {"error": "..."}. Approving and denying need an approver or admin while auth is on. POSTs
// that a browser sends from another site (Origin, Sec-Fetch-Site) are refused, since these
// routes take no cookie and no form token. The one piece of state of its own is the
// per-action submission limiter, in memory like the daemon's: it counts only submissions that
// will ask a person (a grant or a policy that decides at once does not use up the limit).
// Thread-safe.
#pragma once

#include "auth/authenticator.hpp"
#include "compat/compat_caller.hpp"
#include "compat/compat_options.hpp"
#include "core/public_url.hpp"
#include "engine/gateway.hpp"
#include "engine/rate_limiter.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"

namespace countersign {

class HermesHandlers {
 public:
  HermesHandlers(Gateway& gateway, const Clock& clock, Authenticator& authenticator,
                 Metrics& metrics, const HermesOptions& options, bool auth_on,
                 PublicUrl public_url);

  // Adds the routes, all answering 404 with how to enable the adapter while it is off, and
  // logs what it serves; `loopback` says whether the listener is on a loopback address only
  // (anonymous calls from elsewhere get a warning).
  void Register(Router& router, bool loopback);

  asio::awaitable<HttpResponse> Submit(RequestContext& ctx);
  asio::awaitable<HttpResponse> Approve(RequestContext& ctx);
  asio::awaitable<HttpResponse> Deny(RequestContext& ctx);
  asio::awaitable<HttpResponse> Show(RequestContext& ctx);
  asio::awaitable<HttpResponse> Audit(RequestContext& ctx);
  asio::awaitable<HttpResponse> Health(RequestContext& ctx);

 private:
  // Approve and Deny: `outcome` picks the request's first choice leading to it.
  asio::awaitable<HttpResponse> Resolve(RequestContext& ctx, Outcome outcome);
  // Whether a browser sent this from a page of another site.
  bool FromAnotherSite(const HttpRequest& request) const;

  Gateway& gateway_;
  const Clock& clock_;
  Authenticator& authenticator_;
  Metrics& metrics_;
  HermesOptions options_;
  CompatIdentity identity_;
  PublicUrl public_url_;
  RateLimiter limiter_;  // per tenant and action, over one hour
};

}  // namespace countersign
