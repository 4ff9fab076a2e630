#include "auth/discord_verifier.hpp"

#include <cctype>

#include <gtest/gtest.h>

#include "testing/ed25519_test_key.hpp"

namespace countersign {
namespace {

using testing::Ed25519TestKey;

constexpr char kBody[] = R"({"type":1,"id":"1","application_id":"2","token":"t","version":1})";
constexpr char kTimestamp[] = "1795255200";
const TimePoint kNow = FromUnixMillis(1795255200000);  // 2026-11-21T10:00:00Z

bool IsUnauthorized(const Status& s) {
  return !s.ok() && s.error().code == ErrorCode::kUnauthorized;
}

class DiscordVerifierTest : public ::testing::Test {
 protected:
  DiscordVerifier Make() {
    auto made = DiscordVerifier::Create(key_.public_key_hex());
    EXPECT_TRUE(made.ok()) << made.error().message;
    return std::move(made).value();
  }
  std::string Sign(std::string_view timestamp, std::string_view body) {
    return key_.SignHex(std::string(timestamp) + std::string(body));
  }

  Ed25519TestKey key_;
};

TEST_F(DiscordVerifierTest, ASignatureOverTimestampAndBodyVerifies) {
  Status s = Make().Verify(kTimestamp, Sign(kTimestamp, kBody), kBody, kNow);
  EXPECT_TRUE(s.ok()) << s.error().message;
}

TEST_F(DiscordVerifierTest, UpperCaseHexIsAcceptedForKeyAndSignature) {
  std::string upper_key = key_.public_key_hex();
  for (char& c : upper_key) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto verifier = DiscordVerifier::Create(upper_key);
  ASSERT_TRUE(verifier.ok());
  std::string signature = Sign(kTimestamp, kBody);
  for (char& c : signature) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(verifier->Verify(kTimestamp, signature, kBody, kNow).ok());
}

TEST_F(DiscordVerifierTest, ABadSignatureIsUnauthorized) {
  std::string signature = Sign(kTimestamp, kBody);
  signature[10] = signature[10] == '0' ? '1' : '0';
  EXPECT_TRUE(IsUnauthorized(Make().Verify(kTimestamp, signature, kBody, kNow)));
}

TEST_F(DiscordVerifierTest, AnotherKeysSignatureIsUnauthorized) {
  Ed25519TestKey other;
  const std::string signature = other.SignHex(std::string(kTimestamp) + kBody);
  EXPECT_TRUE(IsUnauthorized(Make().Verify(kTimestamp, signature, kBody, kNow)));
}

TEST_F(DiscordVerifierTest, AChangedBodyOrTimestampIsUnauthorized) {
  const std::string signature = Sign(kTimestamp, kBody);
  std::string body = kBody;
  body[9] = '3';
  EXPECT_TRUE(IsUnauthorized(Make().Verify(kTimestamp, signature, body, kNow)));
  EXPECT_TRUE(IsUnauthorized(Make().Verify("1795255201", signature, kBody, kNow)));
}

TEST_F(DiscordVerifierTest, ATimestampMoreThanFiveMinutesAwayIsUnauthorized) {
  const DiscordVerifier verifier = Make();
  const TimePoint sent = kNow;
  EXPECT_TRUE(
      verifier.Verify(kTimestamp, Sign(kTimestamp, kBody), kBody, sent + std::chrono::seconds(300))
          .ok());
  EXPECT_TRUE(IsUnauthorized(verifier.Verify(kTimestamp, Sign(kTimestamp, kBody), kBody,
                                             sent + std::chrono::seconds(301))));
  EXPECT_TRUE(IsUnauthorized(verifier.Verify(kTimestamp, Sign(kTimestamp, kBody), kBody,
                                             sent - std::chrono::seconds(301))));
}

TEST_F(DiscordVerifierTest, MissingOrMalformedHeadersAreUnauthorized) {
  const DiscordVerifier verifier = Make();
  const std::string signature = Sign(kTimestamp, kBody);
  EXPECT_TRUE(IsUnauthorized(verifier.Verify("", signature, kBody, kNow)));
  EXPECT_TRUE(IsUnauthorized(verifier.Verify(kTimestamp, "", kBody, kNow)));
  EXPECT_TRUE(IsUnauthorized(verifier.Verify("17952552OO", signature, kBody, kNow)));
  EXPECT_TRUE(IsUnauthorized(verifier.Verify("-1", signature, kBody, kNow)));
  EXPECT_TRUE(IsUnauthorized(verifier.Verify(kTimestamp, signature.substr(2), kBody, kNow)));
  EXPECT_TRUE(IsUnauthorized(verifier.Verify(kTimestamp, "zz" + signature.substr(2), kBody, kNow)));
  EXPECT_TRUE(IsUnauthorized(verifier.Verify(kTimestamp, signature + "00", kBody, kNow)));
}

TEST(DiscordVerifierCreateTest, APublicKeyMustBe64HexCharacters) {
  EXPECT_FALSE(DiscordVerifier::Create("").ok());
  EXPECT_FALSE(DiscordVerifier::Create(std::string(62, 'a')).ok());
  EXPECT_FALSE(DiscordVerifier::Create(std::string(64, 'g')).ok());
  EXPECT_FALSE(DiscordVerifier::Create(std::string(66, 'a')).ok());
  auto made = DiscordVerifier::Create(std::string(63, 'a') + "x");
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.error().code, ErrorCode::kInvalid);
}

}  // namespace
}  // namespace countersign
