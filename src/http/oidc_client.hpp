// OidcClient: the web inbox's calls to its OpenID Connect provider ([ui.oidc]): discovery
// (GET {issuer}/.well-known/openid-configuration), the key set (jwks_uri) and the code
// exchange at the token endpoint, then the ID token's checks (IdTokenVerifier) and who it
// names.
//
// Every call goes through the server's one HttpTransport, so the [outbound] rules apply (a
// provider on an internal or loopback address must be allowed there), with `timeout` and the
// transport's reply limit. Calls block: run them off the network threads. Discovery is
// fetched at the first sign-in and kept; a failed one is tried again at the next. The key set
// is kept too, and fetched again when a token names a key it does not hold, at most once per
// `jwks_refetch_interval` on the injected clock (a provider rotating its keys is followed; a
// stream of made-up kids does not become a stream of fetches).
//
// Thread-safe; the transport and the clock must outlive the client.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/id_token_verifier.hpp"
#include "auth/jwks.hpp"
#include "auth/oidc_settings.hpp"
#include "core/clock.hpp"
#include "core/mutex.hpp"
#include "core/result.hpp"
#include "http/oidc_pending_table.hpp"
#include "notify/http_transport.hpp"

namespace countersign {

// The endpoints discovery names.
struct OidcProvider {
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string jwks_uri;
};

// Who a completed sign-in is.
struct OidcIdentity {
  std::string principal;
  std::vector<std::string> groups;
};

// Why a sign-in did not complete, by what the person is told.
enum class OidcFailure {
  kProviderUnavailable,  // 503: the provider could not be reached (or discovery is wrong)
  kProviderError,        // 502: it answered, but not with what a sign-in needs
  kTokenRefused,         // 401: the ID token fails a check
  kNotAllowed,           // 403: a valid person this server does not let in
};

struct OidcOutcome {
  std::optional<OidcIdentity> identity;  // set on success
  OidcFailure failure = OidcFailure::kProviderError;
  std::string detail;  // for the log: what exactly went wrong
};

struct OidcClientOptions {
  std::chrono::milliseconds timeout = std::chrono::seconds(10);
  Millis jwks_refetch_interval = std::chrono::seconds(30);
  size_t max_principal_bytes = 256;
  size_t max_groups = 200;
  size_t max_group_bytes = 256;
};

class OidcClient {
 public:
  // `redirect_uri`: <public_url>/ui/oidc/callback, as registered with the provider.
  OidcClient(OidcSettings settings, std::string redirect_uri, HttpTransport& transport,
             const Clock& clock, OidcClientOptions options = {});

  // The provider's endpoints, from memory after the first success. Error::Unavailable saying
  // what went wrong (unreachable, not JSON, another issuer, an endpoint missing).
  Result<OidcProvider> Provider();
  // The same, only from memory: nullopt before discovery has succeeded.
  std::optional<OidcProvider> KnownProvider() const;

  // Where to send the browser to sign in: the authorization endpoint with the request's
  // parameters (response_type=code, PKCE S256 from `pending`'s code_verifier, ...).
  std::string AuthorizationUrl(const OidcProvider& provider, const OidcPending& pending) const;

  // Exchanges `code`, checks the ID token against `pending`'s nonce, and answers who it is.
  OidcOutcome Complete(std::string_view code, const OidcPending& pending);

  const OidcSettings& settings() const { return settings_; }

 private:
  OidcOutcome Failed(OidcFailure failure, std::string detail) const;
  // The reply to a GET of `url` as a JSON object, or Error::Unavailable.
  Result<std::string> Get(const std::string& url, const char* what);
  // The key set holding `kid`, fetched (again) when the one held lacks it and the interval
  // allows; the one held otherwise. Error::Unavailable when none can be had.
  Result<std::shared_ptr<const Jwks>> KeysFor(const OidcProvider& provider, const std::string& kid);
  OidcOutcome IdentityOf(const boost::json::object& claims) const;

  const OidcSettings settings_;
  const std::string redirect_uri_;
  HttpTransport& transport_;
  const Clock& clock_;
  const OidcClientOptions options_;
  const IdTokenVerifier verifier_;
  mutable Mutex mu_;
  std::optional<OidcProvider> provider_ CS_GUARDED_BY(mu_);
  std::shared_ptr<const Jwks> keys_ CS_GUARDED_BY(mu_);
  std::optional<TimePoint> keys_fetched_ CS_GUARDED_BY(mu_);
};

}  // namespace countersign
