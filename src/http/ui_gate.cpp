#include "http/ui_gate.hpp"

#include <spdlog/spdlog.h>

#include "core/sha256.hpp"
#include "http/cookies.hpp"
#include "http/engine_call.hpp"

namespace countersign {
namespace {

// As HtmlPageResponse's, and the pages' own script and their event stream.
constexpr const char* kPageSecurityPolicy =
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

}  // namespace

UiGate::UiGate(Gateway& gateway, Authenticator& authenticator, UiSessionTable& sessions,
               const UiPages& pages, PublicUrl public_url, bool oidc_sign_in)
    : gateway_(gateway),
      authenticator_(authenticator),
      sessions_(sessions),
      pages_(pages),
      public_url_(std::move(public_url)),
      form_guard_(public_url_, kCsrfCookie, "/ui/", "inbox POST"),
      oidc_sign_in_(oidc_sign_in) {}

asio::awaitable<UiGate::Viewer> UiGate::ViewerOf(const HttpRequest& request) {
  Viewer out;
  auto cookie = FindCookie(request, kSessionCookie);
  std::optional<UiSession> session;
  if (cookie) session = sessions_.Find(*cookie);
  if (!session) {
    // A session cookie this server no longer knows: the session expired, was ended when its
    // token was revoked, or the server restarted. Say so, rather than a bare sign-in form.
    out.instead = SeeOther(cookie ? "/ui/login?expired=1" : "/ui/login");
    co_return out;
  }
  if (session->actor) {
    // Signed in by the identity provider: no token to check again.
    Actor actor = *session->actor;
    out.signed_in = SignedIn{std::move(actor), std::move(*session)};
    co_return out;
  }
  auto actor =
      co_await AuthenticateOffThread(authenticator_, &gateway_, "Bearer " + session->token);
  if (!actor.ok()) {
    if (actor.error().code == ErrorCode::kUnauthorized) {
      // Revoked or expired since sign-in: the session ends with it.
      sessions_.Remove(session->id);
      spdlog::info("inbox: the session of {} ended: {}", session->principal, actor.error().message);
      out.instead = SeeOther("/ui/login?ended=1");
    } else {
      out.instead = HtmlPageResponse(HttpStatusFor(actor.error().code),
                                     pages_.Login("",
                                                  "The server cannot check your sign-in "
                                                  "right now. Try again in a moment.",
                                                  "", oidc_sign_in_));
    }
    co_return out;
  }
  out.signed_in = SignedIn{std::move(actor).value(), std::move(*session)};
  co_return out;
}

std::optional<FormData> UiGate::GuardedForm(const HttpRequest& request) const {
  if (!FormGuard::IsForm(request)) return std::nullopt;
  auto form = ParseFormData(request.body());
  if (!form.ok() || !form_guard_.Passes(request, FormField(form.value(), FormGuard::kField))) {
    return std::nullopt;
  }
  return std::move(form).value();
}

UiViewer UiGate::ForPage(const SignedIn& who, const std::string& csrf) const {
  return UiViewer{who.actor.name, RoleName(who.actor.role), csrf};
}

HttpResponse UiGate::Page(http::status status, std::string html, const std::string& csrf) const {
  HttpResponse res = HtmlPageResponse(status, std::move(html));
  res.set("Content-Security-Policy", kPageSecurityPolicy);
  res.set(http::field::set_cookie, form_guard_.SetCookie(csrf));
  return res;
}

HttpResponse UiGate::CurrentPage(const HttpRequest& request, std::string html,
                                 const std::string& csrf) const {
  const std::string etag = "\"" + Sha256Hex(html).substr(0, 32) + "\"";
  if (request[http::field::if_none_match] == etag) {
    HttpResponse res{http::status::not_modified, 11};
    res.set(http::field::etag, etag);
    res.set(http::field::cache_control, "no-store");
    return res;
  }
  HttpResponse res = Page(http::status::ok, std::move(html), csrf);
  res.set(http::field::etag, etag);
  return res;
}

HttpResponse UiGate::MessagePage(http::status status, const SignedIn& who,
                                 const HttpRequest& request, std::string_view heading,
                                 std::string_view tone, std::string_view message) const {
  const std::string csrf = CsrfFor(request);
  return Page(status, pages_.Message(ForPage(who, csrf), heading, tone, message), csrf);
}

HttpResponse UiGate::LoginPage(http::status status, const HttpRequest& request,
                               std::string_view error, std::string_view notice) const {
  const std::string csrf = CsrfFor(request);
  return Page(status, pages_.Login(csrf, error, notice, oidc_sign_in_), csrf);
}

HttpResponse UiGate::SeeOther(std::string_view path) const {
  HttpResponse res{http::status::see_other, 11};
  res.set(http::field::location, public_url_.path() + std::string(path));
  res.set(http::field::cache_control, "no-store");
  res.content_length(0);
  return res;
}

std::string UiGate::SessionCookie(std::string_view id) const {
  std::string cookie = std::string(kSessionCookie) + "=" + std::string(id) +
                       "; Path=" + public_url_.path() + "/ui/; HttpOnly; SameSite=Lax";
  if (id.empty()) cookie += "; Max-Age=0";
  if (public_url_.https()) cookie += "; Secure";
  return cookie;
}

}  // namespace countersign
