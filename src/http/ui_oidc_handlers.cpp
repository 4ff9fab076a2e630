#include "http/ui_oidc_handlers.hpp"

#include <spdlog/spdlog.h>

#include "core/sha256.hpp"
#include "http/await_callback.hpp"
#include "http/cookies.hpp"
#include "http/responses.hpp"

namespace countersign {
namespace {

constexpr size_t kPoolThreads = 2;
constexpr size_t kPoolQueue = 64;
constexpr size_t kMaxStateBytes = 128;
constexpr size_t kMaxCodeBytes = 4096;
constexpr const char* kBusy = "the server has too many sign-ins in progress";

http::status StatusOf(OidcFailure failure) {
  switch (failure) {
    case OidcFailure::kProviderUnavailable:
      return http::status::service_unavailable;
    case OidcFailure::kProviderError:
      return http::status::bad_gateway;
    case OidcFailure::kTokenRefused:
      return http::status::unauthorized;
    case OidcFailure::kNotAllowed:
      return http::status::forbidden;
  }
  return http::status::bad_gateway;
}

const char* MessageOf(OidcFailure failure) {
  switch (failure) {
    case OidcFailure::kProviderUnavailable:
      return "The identity provider cannot be reached right now. Try again in a moment.";
    case OidcFailure::kProviderError:
      return "The identity provider did not complete the sign-in. Try again, or ask your "
             "administrator.";
    case OidcFailure::kTokenRefused:
      return "The identity provider's answer did not pass countersign's checks, so you are not "
             "signed in. Ask your administrator to look at the server's log.";
    case OidcFailure::kNotAllowed:
      return "Your identity provider knows you, but you are not in a group allowed to use "
             "countersign.";
  }
  return "";
}

}  // namespace

UiOidcHandlers::UiOidcHandlers(UiGate& gate, OidcSettings settings, HttpTransport& transport,
                               const Clock& clock, OidcClientOptions options)
    : gate_(gate),
      client_(std::move(settings), gate.public_url().text() + "/ui/oidc/callback", transport, clock,
              options),
      pending_(clock),
      pool_(kPoolThreads, kPoolQueue) {}

void UiOidcHandlers::Register(Router& router) {
  using A = Router::Access;
  router.Add(http::verb::get, "/ui/oidc/start", A::kPublic,
             [this](RequestContext& ctx) { return Start(ctx); });
  router.Add(http::verb::get, "/ui/oidc/callback", A::kPublic,
             [this](RequestContext& ctx) { return Callback(ctx); });
}

asio::awaitable<Result<OidcProvider>> UiOidcHandlers::ProviderOffThread() {
  if (auto known = client_.KnownProvider()) co_return *known;
  co_return co_await AwaitCallback<Result<OidcProvider>>([this](auto done) {
    if (!pool_.Post([this, done] { done(client_.Provider()); })) {
      done(Error::Unavailable(kBusy));
    }
  });
}

asio::awaitable<OidcOutcome> UiOidcHandlers::CompleteOffThread(std::string code,
                                                               OidcPending pending) {
  // The inputs stay in this coroutine's frame, which waits for the answer: the pool's thread
  // only reads them, and never frees memory this thread allocated for them (with mimalloc
  // 2.0.9, strings freed there left this network thread spinning at exit).
  const std::string* code_in = &code;
  const OidcPending* pending_in = &pending;
  co_return co_await AwaitCallback<OidcOutcome>([this, code_in, pending_in](auto done) {
    if (!pool_.Post(
            [this, code_in, pending_in, done] { done(client_.Complete(*code_in, *pending_in)); })) {
      OidcOutcome busy;
      busy.failure = OidcFailure::kProviderUnavailable;
      busy.detail = kBusy;
      done(std::move(busy));
    }
  });
}

std::string UiOidcHandlers::StateCookie(std::string_view value) const {
  std::string cookie =
      std::string(kStateCookie) + "=" + std::string(value) + "; Path=" + gate_.public_url().path() +
      "/ui/oidc/; HttpOnly; SameSite=Lax; Max-Age=" + (value.empty() ? "0" : "600");
  if (gate_.public_url().https()) cookie += "; Secure";
  return cookie;
}

HttpResponse UiOidcHandlers::Refused(http::status status, const HttpRequest& request,
                                     std::string_view message) const {
  HttpResponse res = gate_.LoginPage(status, request, message, "");
  res.insert(http::field::set_cookie, StateCookie(""));
  return res;
}

asio::awaitable<HttpResponse> UiOidcHandlers::Start(RequestContext& ctx) {
  auto provider = co_await ProviderOffThread();
  if (!provider.ok()) {
    spdlog::warn("inbox: OpenID Connect sign-in is unavailable: {}", provider.error().message);
    co_return gate_.LoginPage(http::status::service_unavailable, ctx.request,
                              "The identity provider cannot be reached right now. Try again in "
                              "a moment, or sign in with a token.",
                              "");
  }
  const OidcPending pending = pending_.Begin();
  HttpResponse res{http::status::see_other, 11};
  res.set(http::field::location, client_.AuthorizationUrl(*provider, pending));
  res.set(http::field::cache_control, "no-store");
  res.set(http::field::set_cookie, StateCookie(pending.browser));
  res.content_length(0);
  co_return res;
}

asio::awaitable<HttpResponse> UiOidcHandlers::Callback(RequestContext& ctx) {
  const std::string state(ctx.Query("state"));
  const std::string code(ctx.Query("code"));
  const std::string error(ctx.Query("error"));
  // Whatever the answer, its state is used up.
  std::optional<OidcPending> pending;
  if (!state.empty() && state.size() <= kMaxStateBytes) pending = pending_.Take(state);
  if (!error.empty()) {
    spdlog::info("inbox: the identity provider did not sign someone in: {} {}", Echo(error),
                 Echo(ctx.Query("error_description"), 200));
    co_return Refused(http::status::unauthorized, ctx.request,
                      "Your identity provider did not sign you in (" + Echo(error) + ").");
  }
  if (!pending) {
    spdlog::info("inbox: an OpenID Connect callback with an unknown, used or expired state");
    co_return Refused(http::status::unauthorized, ctx.request,
                      "This sign-in has expired or was already used. Start again.");
  }
  const auto cookie = FindCookie(ctx.request, kStateCookie);
  if (!cookie || !ConstantTimeEquals(*cookie, pending->browser)) {
    spdlog::info("inbox: an OpenID Connect callback without its browser's state cookie");
    co_return Refused(http::status::unauthorized, ctx.request,
                      "This sign-in was not started in this browser. Start again.");
  }
  if (code.empty() || code.size() > kMaxCodeBytes) {
    co_return Refused(http::status::unauthorized, ctx.request,
                      "Your identity provider sent no sign-in code. Start again.");
  }
  OidcOutcome outcome = co_await CompleteOffThread(code, std::move(*pending));
  if (!outcome.identity) {
    spdlog::warn("inbox: an OpenID Connect sign-in was refused: {}", outcome.detail);
    co_return Refused(StatusOf(outcome.failure), ctx.request, MessageOf(outcome.failure));
  }
  const OidcSettings& settings = client_.settings();
  Actor actor;
  actor.name = std::move(outcome.identity->principal);
  actor.role = settings.role;
  actor.tenant = settings.tenant;
  actor.groups = std::move(outcome.identity->groups);
  spdlog::info("inbox: {} ({}, tenant {}) signed in with OpenID Connect", actor.name,
               RoleName(actor.role), actor.tenant);
  const std::string id = gate_.sessions().CreateFor(std::move(actor));
  HttpResponse res = gate_.SeeOther("/ui/");
  res.set(http::field::set_cookie, gate_.SessionCookie(id));
  res.insert(http::field::set_cookie, StateCookie(""));
  co_return res;
}

}  // namespace countersign
