#include "auth/id_token_verifier.hpp"

#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include "auth/base64url.hpp"
#include "testing/fake_clock.hpp"
#include "testing/jose_test_key.hpp"

namespace countersign {
namespace {

namespace json = boost::json;

constexpr const char* kIssuer = "https://idp.example.com";
constexpr const char* kClient = "countersign-inbox";

using testing::JoseTestKey;

std::string Encode(const json::object& o) { return Base64UrlEncode(json::serialize(o)); }

class IdTokenVerifierTest : public ::testing::Test {
 protected:
  IdTokenVerifierTest()
      : rsa_(JoseTestKey::Rsa("rsa-1")),
        ec_(JoseTestKey::Ec("ec-1")),
        verifier_(clock_, IdTokenRules{kIssuer, kClient, std::chrono::seconds(60)}) {
    json::object set{{"keys", json::array{rsa_.Jwk(), ec_.Jwk()}}};
    auto keys = Jwks::Parse(json::serialize(set));
    EXPECT_TRUE(keys.ok()) << keys.error().message;
    keys_ = std::move(keys).value();
  }

  int64_t Now() const { return ToUnixMillis(clock_.Now()) / 1000; }

  json::object Claims() const {
    return {{"iss", kIssuer},
            {"aud", kClient},
            {"sub", "248289761001"},
            {"exp", Now() + 300},
            {"iat", Now()},
            {"nonce", "n-0S6_WzA2Mj"},
            {"email", "alice@example.com"}};
  }

  std::string Token(const JoseTestKey& key, const json::object& claims,
                    std::string alg = "") const {
    return key.Token(claims, std::move(alg));
  }

  std::string Why(const std::string& token, std::string_view nonce = "n-0S6_WzA2Mj") const {
    auto verified = verifier_.Verify(token, keys_, nonce);
    if (verified.ok()) return "";
    EXPECT_EQ(verified.error().code, ErrorCode::kUnauthorized);
    return verified.error().message;
  }

  testing::FakeClock clock_;
  JoseTestKey rsa_;
  JoseTestKey ec_;
  Jwks keys_;
  IdTokenVerifier verifier_;
};

TEST_F(IdTokenVerifierTest, AGoodRs256TokenGivesItsClaims) {
  auto claims = verifier_.Verify(Token(rsa_, Claims()), keys_, "n-0S6_WzA2Mj");
  ASSERT_TRUE(claims.ok()) << claims.error().message;
  EXPECT_EQ(claims->at("email").as_string(), "alice@example.com");
}

TEST_F(IdTokenVerifierTest, AGoodEs256TokenGivesItsClaims) {
  auto claims = verifier_.Verify(Token(ec_, Claims()), keys_, "n-0S6_WzA2Mj");
  ASSERT_TRUE(claims.ok()) << claims.error().message;
  EXPECT_EQ(claims->at("sub").as_string(), "248289761001");
}

TEST_F(IdTokenVerifierTest, ATamperedPayloadIsRefused) {
  const std::string token = Token(rsa_, Claims());
  json::object forged = Claims();
  forged["email"] = "mallory@example.com";
  const size_t first = token.find('.');
  const size_t second = token.find('.', first + 1);
  const std::string tampered = token.substr(0, first + 1) + Encode(forged) + token.substr(second);
  EXPECT_NE(Why(tampered).find("signature does not verify"), std::string::npos);
  const std::string ec_token = Token(ec_, Claims());
  const size_t ec_second = ec_token.find('.', ec_token.find('.') + 1);
  EXPECT_NE(
      Why(ec_token.substr(0, ec_token.find('.') + 1) + Encode(forged) + ec_token.substr(ec_second))
          .find("signature does not verify"),
      std::string::npos);
}

TEST_F(IdTokenVerifierTest, AKeyNotInTheSetIsRefused) {
  const JoseTestKey stranger = JoseTestKey::Rsa("rsa-2");
  EXPECT_NE(Why(Token(stranger, Claims())).find("no key with kid 'rsa-2'"), std::string::npos);
  auto kid = IdTokenVerifier::KeyIdOf(Token(stranger, Claims()));
  ASSERT_TRUE(kid.ok());
  EXPECT_EQ(kid.value(), "rsa-2");
  // The same kid as a known key, signed by another: the signature fails.
  const JoseTestKey impostor = JoseTestKey::Rsa("rsa-1");
  EXPECT_NE(Why(Token(impostor, Claims())).find("signature"), std::string::npos);
}

TEST_F(IdTokenVerifierTest, OnlyRs256AndEs256AreAccepted) {
  for (const char* alg : {"none", "HS256", "RS384", "PS256", "ES384", ""}) {
    const std::string text = Encode({{"alg", alg}, {"kid", "rsa-1"}}) + "." + Encode(Claims());
    // Signed or not, the header alone refuses it.
    EXPECT_NE(Why(text + ".").find("is not accepted"), std::string::npos) << alg;
    EXPECT_NE(Why(text + "." + Base64UrlEncode(rsa_.Sign(text))).find("is not accepted"),
              std::string::npos)
        << alg;
    EXPECT_FALSE(IdTokenVerifier::KeyIdOf(text + ".").ok()) << alg;
  }
  // An RSA key named by an ES256 header: refused before any signature check.
  EXPECT_NE(Why(Token(rsa_, Claims(), "ES256")).find("does not match"), std::string::npos);
}

TEST_F(IdTokenVerifierTest, MalformedTokensAreRefused) {
  EXPECT_NE(Why("").find("compact JWS"), std::string::npos);
  EXPECT_NE(Why("a.b").find("compact JWS"), std::string::npos);
  EXPECT_NE(Why("a.b.c.d").find("compact JWS"), std::string::npos);
  EXPECT_NE(Why("!!.e30.").find("base64url"), std::string::npos);
  EXPECT_NE(Why(std::string(20000, 'a')).find("over 16 KiB"), std::string::npos);
}

TEST_F(IdTokenVerifierTest, IssuerAudienceAndNonceMustMatch) {
  json::object c = Claims();
  c["iss"] = "https://idp.example.com/";
  EXPECT_NE(Why(Token(rsa_, c)).find("iss"), std::string::npos);
  c = Claims();
  c["aud"] = "someone-else";
  EXPECT_NE(Why(Token(rsa_, c)).find("aud"), std::string::npos);
  c["aud"] = json::array{"someone-else", kClient};
  EXPECT_NE(Why(Token(rsa_, c)).find("azp"), std::string::npos);
  c["azp"] = kClient;
  EXPECT_EQ(Why(Token(rsa_, c)), "");
  c["azp"] = "someone-else";
  EXPECT_NE(Why(Token(rsa_, c)).find("azp"), std::string::npos);
  EXPECT_NE(Why(Token(rsa_, Claims()), "another-nonce").find("nonce"), std::string::npos);
  c = Claims();
  c.erase("nonce");
  EXPECT_NE(Why(Token(rsa_, c), "").find("nonce"), std::string::npos);
}

TEST_F(IdTokenVerifierTest, ExpiryAllowsSixtySecondsOfSkewAndNoMore) {
  json::object c = Claims();
  c["exp"] = Now() - 59;
  EXPECT_EQ(Why(Token(rsa_, c)), "");
  c["exp"] = Now() - 60;
  EXPECT_NE(Why(Token(rsa_, c)).find("expired"), std::string::npos);
  // A good token expires as the clock moves past exp + skew.
  const std::string token = Token(rsa_, Claims());
  clock_.Advance(std::chrono::seconds(300 + 59));
  EXPECT_EQ(Why(token), "");
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_NE(Why(token).find("expired"), std::string::npos);
}

TEST_F(IdTokenVerifierTest, IssuedAtMayBeAtMostSixtySecondsAhead) {
  json::object c = Claims();
  c["iat"] = Now() + 60;
  EXPECT_EQ(Why(Token(rsa_, c)), "");
  c["iat"] = Now() + 61;
  EXPECT_NE(Why(Token(rsa_, c)).find("iat is in the future"), std::string::npos);
  c.erase("iat");
  EXPECT_NE(Why(Token(rsa_, c)).find("iat"), std::string::npos);
  c = Claims();
  c["exp"] = "tomorrow";
  EXPECT_NE(Why(Token(rsa_, c)).find("exp"), std::string::npos);
}

TEST(JwksTest, KeepsOnlyUsableSigningKeys) {
  const JoseTestKey rsa = JoseTestKey::Rsa("a");
  const JoseTestKey ec = JoseTestKey::Ec("b");
  json::object enc = rsa.Jwk();
  enc["kid"] = "enc";
  enc["use"] = "enc";
  json::object off_curve = ec.Jwk();
  off_curve["kid"] = "off";
  off_curve["y"] = off_curve["x"];
  json::object hmac{{"kty", "oct"}, {"kid", "h"}, {"k", "c2VjcmV0"}};
  json::object set{{"keys", json::array{rsa.Jwk(), ec.Jwk(), enc, off_curve, hmac}}};
  auto keys = Jwks::Parse(json::serialize(set));
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  EXPECT_EQ(keys->size(), 2u);
  ASSERT_NE(keys->Find("a"), nullptr);
  EXPECT_EQ(keys->Find("b")->type, JwkType::kEcP256);
  EXPECT_EQ(keys->Find("enc"), nullptr);
  EXPECT_EQ(keys->Find("off"), nullptr);
  EXPECT_EQ(keys->Find("h"), nullptr);
  EXPECT_FALSE(Jwks::Parse("[]").ok());
  EXPECT_FALSE(Jwks::Parse("{\"keys\": 1}").ok());
  EXPECT_FALSE(Jwks::Parse(std::string(Jwks::kMaxBytes + 1, ' ')).ok());
}

}  // namespace
}  // namespace countersign
