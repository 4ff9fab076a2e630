// UiGate: what every /ui/ page shares — the session cookie that says who is signed in, the
// anti-CSRF check of POSTs, and how a page is answered (its CSP, the anti-CSRF cookie, a
// redirect under the public path). The inbox (UiHandlers) and the other /ui/ handler classes
// each hold one.
//
// A session is looked up from cookie cs_ui_session and its token authenticated again on every
// page, so a token revoked since sign-in ends the session at its next request. A session
// begun without a token (OpenID Connect) carries its Actor, which is used as it is. A page that
// needs a session and has none answers 303 to the sign-in form.
// Thread-safe; everything passed in must outlive the gate.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "auth/authenticator.hpp"
#include "core/public_url.hpp"
#include "engine/gateway.hpp"
#include "http/form_data.hpp"
#include "http/form_guard.hpp"
#include "http/request_context.hpp"
#include "http/responses.hpp"
#include "http/ui_session_table.hpp"
#include "web/ui_pages.hpp"

namespace countersign {

class UiGate {
 public:
  static constexpr const char* kSessionCookie = "cs_ui_session";
  static constexpr const char* kCsrfCookie = "cs_ui_csrf";

  struct SignedIn {
    Actor actor;
    UiSession session;
  };
  // The viewer of a /ui/ request, or the answer to give instead (the sign-in form, 503).
  struct Viewer {
    std::optional<SignedIn> signed_in;
    HttpResponse instead;
  };

  // `oidc_sign_in`: the sign-in form offers "Sign in with your identity provider" too.
  UiGate(Gateway& gateway, Authenticator& authenticator, UiSessionTable& sessions,
         const UiPages& pages, PublicUrl public_url, bool oidc_sign_in = false);

  asio::awaitable<Viewer> ViewerOf(const HttpRequest& request);
  // Runs `handler(ctx, signed_in)` (returning asio::awaitable<HttpResponse>) for the session's
  // viewer, or answers what ViewerOf() says instead.
  template <typename Handler>
  asio::awaitable<HttpResponse> Signed(RequestContext& ctx, Handler handler) {
    Viewer viewer = co_await ViewerOf(ctx.request);
    if (!viewer.signed_in) co_return std::move(viewer.instead);
    co_return co_await handler(ctx, *viewer.signed_in);
  }

  // The POSTed form when it is a form that passes the anti-CSRF check; nullopt otherwise.
  std::optional<FormData> GuardedForm(const HttpRequest& request) const;
  // The anti-CSRF value a page for `request` carries in its forms (and sets as a cookie).
  std::string CsrfFor(const HttpRequest& request) const { return form_guard_.ValueFor(request); }
  // The page header's viewer, with the anti-CSRF value the page's forms carry.
  UiViewer ForPage(const SignedIn& who, const std::string& csrf) const;
  // An HTML page with the pages' CSP and the anti-CSRF cookie set.
  HttpResponse Page(http::status status, std::string html, const std::string& csrf) const;
  // As Page() with status 200, tagged with an ETag of its HTML: 304 without a body when the
  // request's If-None-Match already names it (the live pages' script asks so, and skips the
  // refresh when nothing it shows has changed).
  HttpResponse CurrentPage(const HttpRequest& request, std::string html,
                           const std::string& csrf) const;
  // A page saying `message` under `heading` (tone "error", "warn", "ok").
  HttpResponse MessagePage(http::status status, const SignedIn& who, const HttpRequest& request,
                           std::string_view heading, std::string_view tone,
                           std::string_view message) const;
  HttpResponse LoginPage(http::status status, const HttpRequest& request, std::string_view error,
                         std::string_view notice) const;
  // 303 to `path` under the public URL's path ("/ui/" → "/approvals/ui/").
  HttpResponse SeeOther(std::string_view path) const;
  // The Set-Cookie value that starts (or, with an empty id, ends) a session.
  std::string SessionCookie(std::string_view id) const;

  UiSessionTable& sessions() { return sessions_; }
  const UiPages& pages() const { return pages_; }
  const PublicUrl& public_url() const { return public_url_; }

 private:
  Gateway& gateway_;
  Authenticator& authenticator_;
  UiSessionTable& sessions_;
  const UiPages& pages_;
  const PublicUrl public_url_;
  const FormGuard form_guard_;
  const bool oidc_sign_in_;
};

}  // namespace countersign
