#include "http/oidc_client.hpp"

#include <algorithm>

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <boost/json/parse.hpp>

#include "auth/base64url.hpp"
#include "core/mutex_lock.hpp"

namespace countersign {
namespace {

namespace json = boost::json;

// application/x-www-form-urlencoded and URL query encoding: unreserved characters as they
// are, everything else %XX.
std::string FormEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

std::string Form(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    out += FormEncode(name) + "=" + FormEncode(value);
  }
  return out;
}

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// PKCE S256 (RFC 7636 §4.2): base64url(SHA-256(code_verifier)).
std::string CodeChallenge(std::string_view verifier) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size(), digest);
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::string Text(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

bool IsHttpUrl(std::string_view url) {
  return url.starts_with("https://") || url.starts_with("http://");
}

// Printable text with no control characters: what a principal or group name may be.
bool IsPlainText(std::string_view text) {
  return std::none_of(text.begin(), text.end(),
                      [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

std::optional<json::object> ParseObject(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

}  // namespace

OidcClient::OidcClient(OidcSettings settings, std::string redirect_uri, HttpTransport& transport,
                       const Clock& clock, OidcClientOptions options)
    : settings_(std::move(settings)),
      redirect_uri_(std::move(redirect_uri)),
      transport_(transport),
      clock_(clock),
      options_(options),
      verifier_(clock,
                IdTokenRules{settings_.issuer, settings_.client_id, std::chrono::seconds(60)}) {}

OidcOutcome OidcClient::Failed(OidcFailure failure, std::string detail) const {
  OidcOutcome out;
  out.failure = failure;
  out.detail = std::move(detail);
  return out;
}

Result<std::string> OidcClient::Get(const std::string& url, const char* what) {
  OutboundCall call;
  call.method = "GET";
  call.url = url;
  call.headers = {{"Accept", "application/json"}};
  OutboundReply reply = transport_.Send(call, options_.timeout);
  if (reply.status == 0) {
    return Error::Unavailable(std::string(what) + " " + url + " failed: " + reply.error);
  }
  if (reply.status != 200) {
    return Error::Unavailable(std::string(what) + " " + url + " answered HTTP " +
                              std::to_string(reply.status));
  }
  return std::move(reply.body);
}

std::optional<OidcProvider> OidcClient::KnownProvider() const {
  MutexLock lock(mu_);
  return provider_;
}

Result<OidcProvider> OidcClient::Provider() {
  if (auto known = KnownProvider()) return *known;
  std::string_view base = settings_.issuer;
  if (base.ends_with('/')) base.remove_suffix(1);
  auto body = Get(std::string(base) + "/.well-known/openid-configuration", "discovery");
  if (!body.ok()) return std::move(body).error();
  auto doc = ParseObject(*body);
  if (!doc) return Error::Unavailable("discovery: the answer is not a JSON object");
  const std::string issuer = Text(*doc, "issuer");
  if (issuer != settings_.issuer) {
    return Error::Unavailable("discovery: the provider names its issuer '" + Echo(issuer, 200) +
                              "', not the configured " + settings_.issuer);
  }
  OidcProvider provider{Text(*doc, "authorization_endpoint"), Text(*doc, "token_endpoint"),
                        Text(*doc, "jwks_uri")};
  for (const auto& [name, url] :
       {std::pair{"authorization_endpoint", &provider.authorization_endpoint},
        std::pair{"token_endpoint", &provider.token_endpoint},
        std::pair{"jwks_uri", &provider.jwks_uri}}) {
    if (!IsHttpUrl(*url) || url->size() > 2048) {
      return Error::Unavailable(std::string("discovery: ") + name + " is missing or not a URL");
    }
  }
  MutexLock lock(mu_);
  provider_ = provider;
  return provider;
}

std::string OidcClient::AuthorizationUrl(const OidcProvider& provider,
                                         const OidcPending& pending) const {
  std::string scope;
  for (const auto& s : settings_.scopes) scope += (scope.empty() ? "" : " ") + s;
  const std::string query = Form({{"response_type", "code"},
                                  {"client_id", settings_.client_id},
                                  {"redirect_uri", redirect_uri_},
                                  {"scope", scope},
                                  {"state", pending.state},
                                  {"nonce", pending.nonce},
                                  {"code_challenge", CodeChallenge(pending.code_verifier)},
                                  {"code_challenge_method", "S256"}});
  const char joint = provider.authorization_endpoint.find('?') == std::string::npos ? '?' : '&';
  return provider.authorization_endpoint + joint + query;
}

Result<std::shared_ptr<const Jwks>> OidcClient::KeysFor(const OidcProvider& provider,
                                                        const std::string& kid) {
  std::shared_ptr<const Jwks> held;
  {
    MutexLock lock(mu_);
    held = keys_;
    if (held && held->Find(kid)) return held;
    const TimePoint now = clock_.Now();
    if (held && keys_fetched_ && now - *keys_fetched_ < options_.jwks_refetch_interval) {
      return held;  // fetched a moment ago: the kid is unknown, not new
    }
    keys_fetched_ = now;
  }
  auto body = Get(provider.jwks_uri, "the key set");
  if (!body.ok()) {
    if (held) return held;
    return std::move(body).error();
  }
  auto parsed = Jwks::Parse(*body);
  if (!parsed.ok()) {
    if (held) return held;
    return Error::Unavailable("the key set at " + provider.jwks_uri + ": " +
                              parsed.error().message);
  }
  auto keys = std::make_shared<const Jwks>(std::move(parsed).value());
  MutexLock lock(mu_);
  keys_ = keys;
  return keys;
}

OidcOutcome OidcClient::Complete(std::string_view code, const OidcPending& pending) {
  auto provider = Provider();
  if (!provider.ok()) return Failed(OidcFailure::kProviderUnavailable, provider.error().message);

  std::vector<std::pair<std::string, std::string>> fields = {
      {"grant_type", "authorization_code"},
      {"code", std::string(code)},
      {"redirect_uri", redirect_uri_},
      {"code_verifier", pending.code_verifier}};
  OutboundCall call;
  call.method = "POST";
  call.url = provider->token_endpoint;
  call.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                  {"Accept", "application/json"}};
  if (settings_.client_auth == OidcClientAuth::kSecretPost) {
    fields.emplace_back("client_id", settings_.client_id);
    fields.emplace_back("client_secret", settings_.client_secret);
  } else {
    // RFC 6749 §2.3.1: each form-encoded, then joined and base64 encoded.
    call.headers.emplace_back("Authorization",
                              "Basic " + Base64(FormEncode(settings_.client_id) + ":" +
                                                FormEncode(settings_.client_secret)));
  }
  call.body = Form(fields);
  OutboundReply reply = transport_.Send(call, options_.timeout);
  if (reply.status == 0) {
    return Failed(reply.refused ? OidcFailure::kProviderError : OidcFailure::kProviderUnavailable,
                  "the token endpoint " + call.url + " failed: " + reply.error);
  }
  auto answer = ParseObject(reply.body);
  if (reply.status != 200) {
    std::string why = answer ? Text(*answer, "error") : std::string();
    return Failed(OidcFailure::kProviderError,
                  "the token endpoint answered HTTP " + std::to_string(reply.status) +
                      (why.empty() ? std::string() : " (" + Echo(why, 100) + ")"));
  }
  const std::string id_token = answer ? Text(*answer, "id_token") : std::string();
  if (id_token.empty()) {
    return Failed(OidcFailure::kProviderError, "the token endpoint's answer has no id_token");
  }
  auto kid = IdTokenVerifier::KeyIdOf(id_token);
  if (!kid.ok()) return Failed(OidcFailure::kTokenRefused, kid.error().message);
  auto keys = KeysFor(*provider, *kid);
  if (!keys.ok()) return Failed(OidcFailure::kProviderUnavailable, keys.error().message);
  auto claims = verifier_.Verify(id_token, **keys, pending.nonce);
  if (!claims.ok()) return Failed(OidcFailure::kTokenRefused, claims.error().message);
  return IdentityOf(*claims);
}

OidcOutcome OidcClient::IdentityOf(const json::object& claims) const {
  const std::string& name_claim = settings_.principal_claim;
  const json::value* name = claims.if_contains(name_claim);
  if (!name || !name->is_string() || name->get_string().empty()) {
    return Failed(OidcFailure::kTokenRefused,
                  "the ID token has no non-empty string claim '" + name_claim + "'");
  }
  OidcIdentity who;
  who.principal = std::string(name->get_string());
  if (who.principal.size() > options_.max_principal_bytes || !IsPlainText(who.principal)) {
    return Failed(OidcFailure::kTokenRefused, "the ID token's claim '" + name_claim + "' is over " +
                                                  std::to_string(options_.max_principal_bytes) +
                                                  " bytes or holds control characters");
  }
  // An address the provider has not verified names nobody in particular.
  if (name_claim == "email") {
    const json::value* verified = claims.if_contains("email_verified");
    if (verified && verified->is_bool() && !verified->get_bool()) {
      return Failed(OidcFailure::kTokenRefused, "the ID token's email is not verified");
    }
  }
  if (const json::value* groups = claims.if_contains(settings_.groups_claim)) {
    if (!groups->is_array() || groups->get_array().size() > options_.max_groups) {
      return Failed(OidcFailure::kTokenRefused, "the ID token's claim '" + settings_.groups_claim +
                                                    "' is not an array of at most " +
                                                    std::to_string(options_.max_groups) +
                                                    " strings");
    }
    for (const json::value& g : groups->get_array()) {
      if (!g.is_string() || g.get_string().empty() ||
          g.get_string().size() > options_.max_group_bytes || !IsPlainText(g.get_string())) {
        return Failed(OidcFailure::kTokenRefused, "the ID token's claim '" +
                                                      settings_.groups_claim +
                                                      "' holds an item that is not a group name");
      }
      who.groups.emplace_back(g.get_string());
    }
  }
  if (!settings_.allowed_groups.empty() &&
      std::none_of(settings_.allowed_groups.begin(), settings_.allowed_groups.end(),
                   [&](const std::string& g) {
                     return std::find(who.groups.begin(), who.groups.end(), g) != who.groups.end();
                   })) {
    return Failed(OidcFailure::kNotAllowed,
                  who.principal + " is in none of [ui.oidc] allowed_groups");
  }
  OidcOutcome out;
  out.identity = std::move(who);
  return out;
}

}  // namespace countersign
