// UiOidcHandlers: signing in to the web inbox with an OpenID Connect provider ([ui.oidc];
// docs/inbox.md, "Sign in with OpenID Connect"). The authorization code flow with PKCE (S256):
//
//   GET /ui/oidc/start     makes the sign-in's state, nonce and code_verifier
//                          (OidcPendingTable), sets cookie cs_oidc_state (HttpOnly,
//                          SameSite=Lax, Path=<public path>/ui/oidc/, Secure under https, 10
//                          minutes) binding them to this browser, and 303s to the provider's
//                          authorization endpoint. The provider's discovery document is
//                          fetched at the first start and kept; when it cannot be had the
//                          sign-in form says so (503) and the next start tries again.
//   GET /ui/oidc/callback  ?code=…&state=… (or ?error=…): the state must be one this server
//                          made, under 10 minutes old, not used before (it is used up now,
//                          whatever happens), and match this browser's cookie; then the code is
//                          exchanged and the ID token checked (OidcClient). Success starts an
//                          inbox session for the person the token names (a session with no
//                          countersign token: UiSessionTable::CreateFor) and 303s to the inbox;
//                          any failure is the sign-in form saying what went wrong in plain
//                          words (401, 403, 502, 503), the technical reason in the log, and
//                          nobody signed in.
//
// The provider's calls block, so they run on a small pool of this class's own threads; a
// coroutine waits for them without holding a network thread. Thread-safe; the gate, the
// transport and the clock must outlive the handlers.
#pragma once

#include <string>
#include <string_view>

#include "auth/oidc_settings.hpp"
#include "core/clock.hpp"
#include "http/blocking_work_pool.hpp"
#include "http/oidc_client.hpp"
#include "http/oidc_pending_table.hpp"
#include "http/router.hpp"
#include "http/ui_gate.hpp"
#include "notify/http_transport.hpp"

namespace countersign {

class UiOidcHandlers {
 public:
  static constexpr const char* kStateCookie = "cs_oidc_state";

  UiOidcHandlers(UiGate& gate, OidcSettings settings, HttpTransport& transport, const Clock& clock,
                 OidcClientOptions options = {});

  void Register(Router& router);

 private:
  asio::awaitable<HttpResponse> Start(RequestContext& ctx);
  asio::awaitable<HttpResponse> Callback(RequestContext& ctx);
  // The client's blocking calls, on the pool.
  asio::awaitable<Result<OidcProvider>> ProviderOffThread();
  asio::awaitable<OidcOutcome> CompleteOffThread(std::string code, OidcPending pending);
  // The Set-Cookie value binding a sign-in to the browser (empty `value`: ending it).
  std::string StateCookie(std::string_view value) const;
  // The sign-in form saying `message`, the state cookie cleared.
  HttpResponse Refused(http::status status, const HttpRequest& request,
                       std::string_view message) const;

  UiGate& gate_;
  OidcClient client_;
  OidcPendingTable pending_;
  BlockingWorkPool pool_;  // last: joined first, while what its jobs use still exists
};

}  // namespace countersign
