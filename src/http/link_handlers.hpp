// LinkHandlers: one-click links, GET and POST /l/{token} (public routes: the token is the
// credential), and POST /v1/requests/{id}/links, which hands a request's links out through the
// API (authenticated; who may is Gateway::GetForLinks).
//
// GET renders a confirm page and changes nothing: mail scanners and chat unfurlers fetch
// links before people do, so a GET reads the request and writes no event. The page's form
// POSTs back to the same URL, and only that POST decides, through Gateway::Decide exactly like
// the API, as Actor{name = the token's recipient, role approver, tenant = the token's tenant,
// groups = those of the tenant's active tokens with that name}. Separation of duties, the
// approver list and quorum therefore apply unchanged.
//
// Standing grants: the confirm page of an approving choice on a request with grant_options
// (a non-high-risk approval; the policy's `grant_options`) has one button per way of
// approving: "Approve once", "Approve for this session (1 h)", "Always approve <action> for
// <requester> (30 days)". The button pressed sends `grant` = the option's value
// ("session:3600"); the POST looks that value up among the stored request's options
// (AddGrantFromForm) and decides with that NewGrant, so a form never sets a ttl or scope of
// its own. The engine makes the grant in the decision's transaction when the approval
// completes the request; the recorded page says what was granted, or why nothing was.
//
// Status codes (every answer is an HTML page, never JSON or a stack trace):
//   200 confirm page (GET) / decision recorded (POST)
//   400 token malformed, tampered, signed with another key, or offering an unknown choice
//   403 the engine refused the recipient (not an approver, separation of duties), or the
//       POST failed the anti-CSRF check ("This form has expired, open the link again")
//   404 the token is authentic but its request does not exist
//   409 the request has already left pending (GET and POST alike: the link can no longer be
//       used; the page shows the status and who decided), or the recipient already voted
//   410 the link's expiry has passed (checked before the request's state; shows that state)
//   422 the decision was invalid (comment too long, empty answer), or the form asked for a
//       standing approval the request does not offer (nothing is decided)
//   500/503 the store failed; nothing was recorded
//
// Anti-CSRF: a double-submit cookie. GET sets `cs_link_csrf` (random, HttpOnly,
// SameSite=Strict, Path=<public path>/l/, Secure under https) and puts the same value in a
// hidden field; the POST must carry both, equal (constant-time compare). The POST is also
// refused when Origin is present and is neither `null` nor public_url's origin, or when
// Sec-Fetch-Site says cross-site or same-site. (`Origin: null` is what browsers send for a
// form on a page served with Referrer-Policy: no-referrer, so it cannot be refused.)
//
// POST /v1/requests/{id}/links answers {"request_id", "expires_at", "links": [{"recipient",
// "choice", "url"}, ...]} (LinkBuilder::LinksFor), 409 with the request once it has left pending,
// 403/404 as GetForLinks says; any body must be a JSON object and is ignored. Each answer is
// first recorded as a `links.issued` event on the request (actor: the caller; data: the
// recipients and how many links), so the audit trail says who could have used them.
//
// Thread-safe: no mutable state; gateway, signer, builder and pages must outlive the handlers.
#pragma once

#include <string>

#include "auth/link_signer.hpp"
#include "core/public_url.hpp"
#include "engine/gateway.hpp"
#include "http/form_guard.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"
#include "notify/link_builder.hpp"
#include "web/link_pages.hpp"

namespace countersign {

class LinkHandlers {
 public:
  static constexpr const char* kCsrfCookie = "cs_link_csrf";
  static constexpr const char* kCsrfField = FormGuard::kField;
  static constexpr const char* kLinksIssuedEvent = "links.issued";

  LinkHandlers(Gateway& gateway, const Clock& clock, const LinkSigner& signer,
               const LinkBuilder& builder, const LinkPages& pages, Metrics& metrics,
               PublicUrl public_url)
      : gateway_(gateway),
        clock_(clock),
        signer_(signer),
        builder_(builder),
        pages_(pages),
        metrics_(metrics),
        public_url_(std::move(public_url)),
        form_guard_(public_url_, kCsrfCookie, "/l/", "one-click link POST") {}

  void Register(Router& router);

  asio::awaitable<HttpResponse> Show(RequestContext& ctx);
  asio::awaitable<HttpResponse> Submit(RequestContext& ctx);
  asio::awaitable<HttpResponse> Issue(RequestContext& ctx);

 private:
  HttpResponse Page(http::status status, std::string html) const;
  HttpResponse ConfirmPage(const Request& r, const LinkOffer& offer,
                           const HttpRequest& request) const;

  Gateway& gateway_;
  const Clock& clock_;
  const LinkSigner& signer_;
  const LinkBuilder& builder_;
  const LinkPages& pages_;
  Metrics& metrics_;
  const PublicUrl public_url_;
  const FormGuard form_guard_;
};

}  // namespace countersign
