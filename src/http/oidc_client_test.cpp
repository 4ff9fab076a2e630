#include "http/oidc_client.hpp"

#include <functional>
#include <map>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <boost/json/serialize.hpp>

#include "auth/base64url.hpp"
#include "testing/fake_clock.hpp"
#include "testing/jose_test_key.hpp"

namespace countersign {
namespace {

namespace json = boost::json;
using testing::FakeClock;
using testing::JoseTestKey;

constexpr const char* kIssuer = "https://idp.example.com";
constexpr const char* kDiscovery = "https://idp.example.com/.well-known/openid-configuration";
constexpr const char* kJwks = "https://idp.example.com/jwks";
constexpr const char* kToken = "https://idp.example.com/token";
constexpr const char* kRedirect = "https://cs.example.com/ui/oidc/callback";

// Answers each URL from a table (the token endpoint from `id_token`), recording every call.
class ScriptedTransport final : public HttpTransport {
 public:
  OutboundReply Send(const OutboundCall& call, std::chrono::milliseconds) override {
    calls.push_back(call);
    OutboundReply reply;
    if (call.url == kToken) {
      reply.status = token_status;
      reply.body = json::serialize(json::object{{"id_token", id_token}});
      return reply;
    }
    auto it = bodies.find(call.url);
    if (it == bodies.end()) {
      reply.error = "connection refused";
      return reply;
    }
    reply.status = 200;
    reply.body = it->second;
    return reply;
  }
  const OutboundCall& LastCallTo(const std::string& url) const {
    for (auto it = calls.rbegin(); it != calls.rend(); ++it) {
      if (it->url == url) return *it;
    }
    static const OutboundCall none;
    return none;
  }
  int CallsTo(const std::string& url) const {
    int n = 0;
    for (const auto& c : calls) n += c.url == url;
    return n;
  }

  std::map<std::string, std::string> bodies;
  std::string id_token;
  int token_status = 200;
  std::vector<OutboundCall> calls;
};

class OidcClientTest : public ::testing::Test {
 protected:
  OidcClientTest() : rsa_(JoseTestKey::Rsa("rsa-1")), rotated_(JoseTestKey::Rsa("rsa-2")) {
    transport_.bodies[kDiscovery] = json::serialize(
        json::object{{"issuer", kIssuer},
                     {"authorization_endpoint", "https://idp.example.com/authorize?tenant=x"},
                     {"token_endpoint", kToken},
                     {"jwks_uri", kJwks}});
    Publish({rsa_});
    settings_.issuer = kIssuer;
    settings_.client_id = "cs";
    settings_.client_secret = "s3cret:with/odd chars";
  }

  void Publish(std::vector<std::reference_wrapper<const JoseTestKey>> keys) {
    json::array jwks;
    for (const JoseTestKey& k : keys) jwks.push_back(k.Jwk());
    transport_.bodies[kJwks] = json::serialize(json::object{{"keys", jwks}});
  }

  json::object Claims(const OidcPending& pending) const {
    const int64_t now = ToUnixMillis(clock_.Now()) / 1000;
    return {{"iss", kIssuer},
            {"aud", "cs"},
            {"sub", "u1"},
            {"exp", now + 300},
            {"iat", now},
            {"nonce", pending.nonce},
            {"email", "alice@example.com"},
            {"groups", json::array{"deployers", "readers"}}};
  }

  OidcOutcome SignIn(OidcClient& client, const JoseTestKey& key,
                     std::function<void(json::object&)> edit = nullptr) {
    const OidcPending pending = pending_.Begin();
    json::object claims = Claims(pending);
    if (edit) edit(claims);
    transport_.id_token = key.Token(claims);
    return client.Complete("the-code", pending);
  }

  OidcClient Client() { return OidcClient(settings_, kRedirect, transport_, clock_); }

  FakeClock clock_;
  ScriptedTransport transport_;
  OidcPendingTable pending_{clock_};
  OidcSettings settings_;
  JoseTestKey rsa_;
  JoseTestKey rotated_;
};

TEST_F(OidcClientTest, DiscoveryIsFetchedOnceAndKept) {
  OidcClient client = Client();
  EXPECT_FALSE(client.KnownProvider());
  auto provider = client.Provider();
  ASSERT_TRUE(provider.ok()) << provider.error().message;
  EXPECT_EQ(provider->token_endpoint, kToken);
  ASSERT_TRUE(client.Provider().ok());
  EXPECT_TRUE(client.KnownProvider());
  EXPECT_EQ(transport_.CallsTo(kDiscovery), 1);
}

TEST_F(OidcClientTest, DiscoveryNamingAnotherIssuerOrUnreachableIsUnavailableAndTriedAgain) {
  transport_.bodies[kDiscovery] = R"({"issuer":"https://idp.example.com/","token_endpoint":"x"})";
  OidcClient client = Client();
  auto provider = client.Provider();
  ASSERT_FALSE(provider.ok());
  EXPECT_EQ(provider.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(provider.error().message.find("names its issuer"), std::string::npos);
  transport_.bodies.erase(kDiscovery);
  EXPECT_NE(client.Provider().error().message.find("connection refused"), std::string::npos);
  EXPECT_EQ(transport_.CallsTo(kDiscovery), 2) << "a failure is not kept";
  const OidcOutcome outcome = SignIn(client, rsa_);
  EXPECT_FALSE(outcome.identity);
  EXPECT_EQ(outcome.failure, OidcFailure::kProviderUnavailable);
}

TEST_F(OidcClientTest, TheAuthorizationUrlCarriesPkceS256AndTheRequestParameters) {
  OidcClient client = Client();
  const OidcPending pending = pending_.Begin();
  const std::string url = client.AuthorizationUrl(client.Provider().value(), pending);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(pending.code_verifier.data()),
         pending.code_verifier.size(), digest);
  const std::string challenge =
      Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
  EXPECT_EQ(url.rfind("https://idp.example.com/authorize?tenant=x&response_type=code&", 0), 0u)
      << url;
  for (const std::string part :
       {"&client_id=cs&", "&redirect_uri=https%3A%2F%2Fcs.example.com%2Fui%2Foidc%2Fcallback&",
        "&scope=openid%20profile%20email&", "&code_challenge_method=S256"}) {
    EXPECT_NE(url.find(part), std::string::npos) << part << " in " << url;
  }
  EXPECT_NE(url.find("&state=" + pending.state + "&"), std::string::npos);
  EXPECT_NE(url.find("&nonce=" + pending.nonce + "&"), std::string::npos);
  EXPECT_NE(url.find("&code_challenge=" + challenge + "&"), std::string::npos);
  EXPECT_EQ(url.find(pending.code_verifier), std::string::npos) << "the verifier stays here";
}

TEST_F(OidcClientTest, TheCodeIsExchangedWithTheVerifierAndBasicAuthAndNamesThePerson) {
  OidcClient client = Client();
  const OidcOutcome outcome = SignIn(client, rsa_);
  ASSERT_TRUE(outcome.identity) << outcome.detail;
  EXPECT_EQ(outcome.identity->principal, "alice@example.com");
  EXPECT_EQ(outcome.identity->groups, (std::vector<std::string>{"deployers", "readers"}));
  const OutboundCall& call = transport_.LastCallTo(kToken);
  ASSERT_EQ(call.url, kToken);
  EXPECT_EQ(call.method, "POST");
  EXPECT_NE(call.body.find("grant_type=authorization_code&code=the-code&redirect_uri="),
            std::string::npos);
  EXPECT_NE(call.body.find("&code_verifier="), std::string::npos);
  EXPECT_EQ(call.body.find("client_secret"), std::string::npos);
  bool basic = false;
  for (const auto& [name, value] : call.headers) {
    // base64("cs:s3cret%3Awith%2Fodd%20chars"): each part form-encoded first (RFC 6749).
    if (name == "Authorization") {
      basic = value == "Basic Y3M6czNjcmV0JTNBd2l0aCUyRm9kZCUyMGNoYXJz";
    }
  }
  EXPECT_TRUE(basic);
  settings_.client_auth = OidcClientAuth::kSecretPost;
  OidcClient post = Client();
  ASSERT_TRUE(SignIn(post, rsa_).identity);
  EXPECT_NE(transport_.LastCallTo(kToken).body.find(
                "&client_id=cs&client_secret=s3cret%3Awith%2Fodd%20chars"),
            std::string::npos);
}

TEST_F(OidcClientTest, AnUnknownKidFetchesTheKeySetAgainAtMostOncePerInterval) {
  OidcClient client = Client();
  ASSERT_TRUE(SignIn(client, rsa_).identity);
  EXPECT_EQ(transport_.CallsTo(kJwks), 1);
  ASSERT_TRUE(SignIn(client, rsa_).identity);
  EXPECT_EQ(transport_.CallsTo(kJwks), 1) << "a known kid uses the kept set";
  // The provider rotates at once: the kept set was fetched a moment ago, so not yet.
  Publish({rsa_, rotated_});
  OidcOutcome outcome = SignIn(client, rotated_);
  EXPECT_EQ(outcome.failure, OidcFailure::kTokenRefused);
  EXPECT_NE(outcome.detail.find("no key with kid 'rsa-2'"), std::string::npos);
  clock_.Advance(std::chrono::seconds(30));
  outcome = SignIn(client, rotated_);
  ASSERT_TRUE(outcome.identity) << outcome.detail;
  EXPECT_EQ(transport_.CallsTo(kJwks), 2);
  // A made-up kid right after: no fetch.
  const JoseTestKey stranger = JoseTestKey::Rsa("rsa-9");
  EXPECT_EQ(SignIn(client, stranger).failure, OidcFailure::kTokenRefused);
  EXPECT_EQ(transport_.CallsTo(kJwks), 2);
}

TEST_F(OidcClientTest, TheClaimsMustNameSomeoneAllowed) {
  OidcClient client = Client();
  auto refused = [&](std::function<void(json::object&)> edit) {
    OidcOutcome outcome = SignIn(client, rsa_, std::move(edit));
    EXPECT_FALSE(outcome.identity);
    return outcome;
  };
  EXPECT_EQ(refused([](json::object& c) { c.erase("email"); }).failure, OidcFailure::kTokenRefused);
  EXPECT_EQ(refused([](json::object& c) { c["email"] = ""; }).failure, OidcFailure::kTokenRefused);
  EXPECT_EQ(refused([](json::object& c) { c["email"] = std::string(300, 'a'); }).failure,
            OidcFailure::kTokenRefused);
  EXPECT_EQ(refused([](json::object& c) { c["email"] = "a\nb"; }).failure,
            OidcFailure::kTokenRefused);
  EXPECT_EQ(refused([](json::object& c) { c["email_verified"] = false; }).failure,
            OidcFailure::kTokenRefused);
  EXPECT_EQ(refused([](json::object& c) { c["groups"] = "deployers"; }).failure,
            OidcFailure::kTokenRefused);
  EXPECT_EQ(refused([](json::object& c) { c["groups"] = json::array{1}; }).failure,
            OidcFailure::kTokenRefused);
  OidcOutcome none = SignIn(client, rsa_, [](json::object& c) { c.erase("groups"); });
  ASSERT_TRUE(none.identity);
  EXPECT_TRUE(none.identity->groups.empty());

  settings_.allowed_groups = {"sre", "deployers"};
  OidcClient gated = Client();
  EXPECT_TRUE(SignIn(gated, rsa_).identity);
  OidcOutcome outside =
      SignIn(gated, rsa_, [](json::object& c) { c["groups"] = json::array{"readers"}; });
  EXPECT_EQ(outside.failure, OidcFailure::kNotAllowed);
  EXPECT_EQ(SignIn(gated, rsa_, [](json::object& c) { c.erase("groups"); }).failure,
            OidcFailure::kNotAllowed);
}

TEST_F(OidcClientTest, ATokenEndpointErrorIsTheProvidersFault) {
  OidcClient client = Client();
  transport_.token_status = 500;
  OidcOutcome outcome = SignIn(client, rsa_);
  EXPECT_EQ(outcome.failure, OidcFailure::kProviderError);
  EXPECT_NE(outcome.detail.find("HTTP 500"), std::string::npos);
  transport_.token_status = 200;
  transport_.id_token = "";
  const OidcPending pending = pending_.Begin();
  EXPECT_EQ(client.Complete("code", pending).failure, OidcFailure::kProviderError);
}

}  // namespace
}  // namespace countersign
