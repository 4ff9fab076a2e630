#include "auth/receipt_verifier.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "auth/base64url.hpp"
#include "auth/ed25519_receipt_signer.hpp"
#include "testing/temp_dir.hpp"

namespace countersign {
namespace {

using namespace std::chrono_literals;

constexpr int64_t kDecidedAt = 1795253359;  // Unix seconds
constexpr int64_t kExp = kDecidedAt + 900;
constexpr char kArgumentsSha256[] =
    "a2578fe60ff2789048626f36128d2ce39996eb00ec6ecda4e7deae0bf182a48f";

class ReceiptVerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto signer = Ed25519ReceiptSigner::LoadOrCreate(dir_.path());
    ASSERT_TRUE(signer.ok()) << signer.error().message;
    signer_ = std::move(signer).value();
    auto verifier = ReceiptVerifier::FromJwks(signer_->Jwks());
    ASSERT_TRUE(verifier.ok()) << verifier.error().message;
    verifier_ = std::move(verifier).value();
    claims_.request_id = "req_01M7YQ0KET0372EXW812BTE32A";
    claims_.tenant = "default";
    claims_.action = "deploy_production";
    claims_.arguments_sha256 = kArgumentsSha256;
    claims_.outcome = "approved";
    claims_.approvers = {"alice"};
    claims_.decided_at = FromUnixMillis(kDecidedAt * 1000 + 358);
    claims_.exp = FromUnixMillis(kExp * 1000 + 358);
  }

  ReceiptExpectations Now() const {
    ReceiptExpectations e;
    e.now_unix_seconds = kDecidedAt + 10;
    return e;
  }

  // A token with this payload and header, signed by another key than the JWKS's.
  static std::string ForeignToken(const std::string& header, const std::string& payload) {
    testing::TempDir other;
    auto signer = Ed25519ReceiptSigner::LoadOrCreate(other.path());
    std::string token = signer.ok() ? (*signer)->Sign(ReceiptClaims{}) : "";
    const size_t last = token.rfind('.');
    return Base64UrlEncode(header) + "." + Base64UrlEncode(payload) + token.substr(last);
  }

  testing::TempDir dir_;
  std::unique_ptr<Ed25519ReceiptSigner> signer_;
  std::optional<ReceiptVerifier> verifier_;
  ReceiptClaims claims_;
};

TEST_F(ReceiptVerifierTest, AFreshReceiptIsValidAndCarriesItsClaims) {
  ReceiptExpectations expect = Now();
  expect.action = "deploy_production";
  expect.arguments_sha256 = kArgumentsSha256;
  const ReceiptVerdict verdict = verifier_->Verify(signer_->Sign(claims_), expect);
  ASSERT_TRUE(verdict.valid()) << verdict.reason;
  EXPECT_EQ(verdict.kid, signer_->kid());
  ASSERT_TRUE(verdict.claims.has_value());
  EXPECT_EQ(verdict.claims->at("request_id"), "req_01M7YQ0KET0372EXW812BTE32A");
  EXPECT_EQ(verdict.claims->at("exp"), kExp);
}

TEST_F(ReceiptVerifierTest, AFlippedCharacterAnywhereIsInvalid) {
  const std::string token = signer_->Sign(claims_);
  for (size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '.') continue;
    std::string bad = token;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    const ReceiptVerdict verdict = verifier_->Verify(bad, Now());
    EXPECT_FALSE(verdict.valid()) << "character " << i;
  }
}

TEST_F(ReceiptVerifierTest, ATamperedPayloadIsABadSignature) {
  const std::string token = signer_->Sign(claims_);
  const size_t a = token.find('.');
  const size_t b = token.find('.', a + 1);
  std::string payload = Base64UrlDecode(token.substr(a + 1, b - a - 1)).value();
  payload.replace(payload.find("deploy_production"), 6, "delete");
  const std::string forged = token.substr(0, a + 1) + Base64UrlEncode(payload) + token.substr(b);
  const ReceiptVerdict verdict = verifier_->Verify(forged, Now());
  ASSERT_EQ(verdict.fault, ReceiptFault::kBadSignature);
  EXPECT_FALSE(verdict.claims.has_value());
}

TEST_F(ReceiptVerifierTest, AReceiptIsExpiredFromTheSecondOfItsExp) {
  const std::string token = signer_->Sign(claims_);
  ReceiptExpectations expect = Now();
  expect.now_unix_seconds = kExp - 1;
  EXPECT_TRUE(verifier_->Verify(token, expect).valid());
  expect.now_unix_seconds = kExp;
  const ReceiptVerdict verdict = verifier_->Verify(token, expect);
  EXPECT_EQ(verdict.fault, ReceiptFault::kExpired);
  EXPECT_NE(verdict.reason.find("expired at"), std::string::npos) << verdict.reason;
  EXPECT_TRUE(verdict.claims.has_value());
}

TEST_F(ReceiptVerifierTest, TheConsumptionClaimsAreCarriedAndNotAfterExpiresItEarly) {
  claims_.jti = "rct_0123456789abcdef0123456789abcdef";
  claims_.receipt_use = "single_use";
  claims_.not_after = FromUnixMillis((kDecidedAt + 60) * 1000);
  claims_.max_uses = 3;
  const std::string token = signer_->Sign(claims_);
  ReceiptExpectations expect = Now();
  const ReceiptVerdict verdict = verifier_->Verify(token, expect);
  ASSERT_TRUE(verdict.valid()) << verdict.reason;
  EXPECT_EQ(verdict.claims->at("jti"), "rct_0123456789abcdef0123456789abcdef");
  EXPECT_EQ(verdict.claims->at("receipt_use"), "single_use");
  EXPECT_EQ(verdict.claims->at("not_after"), kDecidedAt + 60);
  EXPECT_EQ(verdict.claims->at("max_uses"), 3);
  expect.now_unix_seconds = kDecidedAt + 59;
  EXPECT_TRUE(verifier_->Verify(token, expect).valid());
  expect.now_unix_seconds = kDecidedAt + 60;  // well before exp
  const ReceiptVerdict late = verifier_->Verify(token, expect);
  EXPECT_EQ(late.fault, ReceiptFault::kExpired);
  EXPECT_NE(late.reason.find("not_after"), std::string::npos) << late.reason;
}

TEST_F(ReceiptVerifierTest, AReceiptWithoutTheConsumptionClaimsStillVerifies) {
  // What receipts looked like before jti: none of the four claims.
  const ReceiptVerdict verdict = verifier_->Verify(signer_->Sign(claims_), Now());
  ASSERT_TRUE(verdict.valid()) << verdict.reason;
  EXPECT_FALSE(verdict.claims->contains("jti"));
  EXPECT_FALSE(verdict.claims->contains("receipt_use"));
  EXPECT_FALSE(verdict.claims->contains("max_uses"));
}

TEST_F(ReceiptVerifierTest, AnotherActionOrOtherArgumentsAreMismatches) {
  const std::string token = signer_->Sign(claims_);
  ReceiptExpectations expect = Now();
  expect.action = "delete_database";
  EXPECT_EQ(verifier_->Verify(token, expect).fault, ReceiptFault::kActionMismatch);
  expect = Now();
  expect.arguments_sha256 = std::string(64, '0');
  EXPECT_EQ(verifier_->Verify(token, expect).fault, ReceiptFault::kArgumentsMismatch);
}

TEST_F(ReceiptVerifierTest, OnlyAnApprovedOutcomeIsValid) {
  claims_.outcome = "denied";
  EXPECT_EQ(verifier_->Verify(signer_->Sign(claims_), Now()).fault, ReceiptFault::kNotApproved);
}

TEST_F(ReceiptVerifierTest, AKeyNotInTheJwksIsAnUnknownKey) {
  testing::TempDir other;
  auto stranger = Ed25519ReceiptSigner::LoadOrCreate(other.path());
  ASSERT_TRUE(stranger.ok());
  const ReceiptVerdict verdict = verifier_->Verify((*stranger)->Sign(claims_), Now());
  EXPECT_EQ(verdict.fault, ReceiptFault::kUnknownKey);
  EXPECT_EQ(verdict.kid, (*stranger)->kid());
}

TEST_F(ReceiptVerifierTest, AnotherKeyClaimingOurKidIsABadSignature) {
  const std::string header = R"({"alg":"EdDSA","kid":")" + signer_->kid() + R"("})";
  EXPECT_EQ(verifier_->Verify(ForeignToken(header, "{}"), Now()).fault,
            ReceiptFault::kBadSignature);
}

TEST_F(ReceiptVerifierTest, TokensThatAreNotEdDsaCompactJwsAreMalformed) {
  const std::string kid = signer_->kid();
  for (const std::string& token : {
           std::string(""),
           std::string("abc"),
           std::string("a.b"),
           std::string("a.b.c.d"),
           ForeignToken(R"({"alg":"none","kid":")" + kid + "\"}", "{}"),
           ForeignToken(R"({"alg":"HS256","kid":")" + kid + "\"}", "{}"),
           ForeignToken(R"({"alg":"EdDSA"})", "{}"),
           ForeignToken(R"({"alg":"EdDSA","kid":")" + kid + R"(","crit":["x"]})", "{}"),
           ForeignToken("[1]", "{}"),
           "!!!." + signer_->Sign(claims_).substr(signer_->Sign(claims_).find('.') + 1),
       }) {
    EXPECT_EQ(verifier_->Verify(token, Now()).fault, ReceiptFault::kMalformed) << token;
  }
}

TEST(ReceiptVerifierJwksTest, KeepsOnlyEd25519SigningKeys) {
  testing::TempDir dir;
  auto signer = Ed25519ReceiptSigner::LoadOrCreate(dir.path());
  ASSERT_TRUE(signer.ok());
  boost::json::object jwks = (*signer)->Jwks();
  auto& keys = jwks["keys"].as_array();
  keys.push_back(boost::json::parse(R"({"kty":"RSA","kid":"r","n":"AQAB","e":"AQAB"})"));
  keys.push_back(boost::json::parse(
      R"({"kty":"OKP","crv":"Ed25519","kid":"enc","use":"enc","x":")" + (*signer)->x() + "\"}"));
  keys.push_back(boost::json::parse(R"({"kty":"OKP","crv":"Ed25519","kid":"short","x":"AAAA"})"));
  auto verifier = ReceiptVerifier::FromJwks(jwks);
  ASSERT_TRUE(verifier.ok()) << verifier.error().message;
  EXPECT_EQ(verifier->key_count(), 1u);

  EXPECT_FALSE(ReceiptVerifier::FromJwks(boost::json::parse(R"({"keys":[]})")).ok());
  EXPECT_FALSE(ReceiptVerifier::FromJwks(boost::json::parse(R"([1,2])")).ok());
  EXPECT_FALSE(ReceiptVerifier::FromJwks(boost::json::parse(R"({"keys":{}})")).ok());
}

}  // namespace
}  // namespace countersign
