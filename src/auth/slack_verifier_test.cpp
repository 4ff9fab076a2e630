#include "auth/slack_verifier.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace countersign {
namespace {

using namespace std::chrono_literals;

// Slack's documented example (api.slack.com/authentication/verifying-requests-from-slack).
constexpr char kSecret[] = "8f742231b10e8888abcd99yyyzzz85a5";
constexpr char kTimestamp[] = "1531420618";
constexpr char kBody[] =
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
    "G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-"
    "collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%"
    "2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121."
    "803a0bc887a14d10d2c447fce8b6703c";
constexpr char kSignature[] = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

TimePoint At(int64_t unix_seconds) { return FromUnixMillis(unix_seconds * 1000); }

const TimePoint kSent = At(1531420618);

bool IsUnauthorized(const Status& s) {
  return !s.ok() && s.error().code == ErrorCode::kUnauthorized;
}

TEST(SlackVerifierTest, SlacksDocumentedTestVectorSignsAndVerifies) {
  EXPECT_EQ(SlackVerifier::Sign(kSecret, kTimestamp, kBody), kSignature);
  SlackVerifier verifier(kSecret);
  Status s = verifier.Verify(kTimestamp, kSignature, kBody, kSent);
  EXPECT_TRUE(s.ok()) << s.error().message;
}

TEST(SlackVerifierTest, AWrongSignatureIsUnauthorized) {
  SlackVerifier verifier(kSecret);
  std::string wrong = kSignature;
  wrong.back() = wrong.back() == '3' ? '4' : '3';
  EXPECT_TRUE(IsUnauthorized(verifier.Verify(kTimestamp, wrong, kBody, kSent)));
  SlackVerifier other_secret("another-secret");
  EXPECT_TRUE(IsUnauthorized(other_secret.Verify(kTimestamp, kSignature, kBody, kSent)));
  std::string tampered = kBody;
  tampered.replace(tampered.find("roadrunner"), 10, "coyote0000");
  EXPECT_TRUE(IsUnauthorized(verifier.Verify(kTimestamp, kSignature, tampered, kSent)));
  EXPECT_EQ(verifier.CachedForTest(), 0u);
}

TEST(SlackVerifierTest, ATimestamp301SecondsOldOrAheadIsUnauthorizedAnd300IsAccepted) {
  SlackVerifier verifier(kSecret);
  EXPECT_TRUE(IsUnauthorized(verifier.Verify(kTimestamp, kSignature, kBody, kSent + 301s)));
  EXPECT_TRUE(IsUnauthorized(verifier.Verify(kTimestamp, kSignature, kBody, kSent - 301s)));
  EXPECT_EQ(verifier.CachedForTest(), 0u);
  EXPECT_TRUE(verifier.Verify(kTimestamp, kSignature, kBody, kSent + 300s).ok());
}

TEST(SlackVerifierTest, TheSameSignedRequestTwiceIsAReplay) {
  SlackVerifier verifier(kSecret);
  ASSERT_TRUE(verifier.Verify(kTimestamp, kSignature, kBody, kSent).ok());
  Status replay = verifier.Verify(kTimestamp, kSignature, kBody, kSent + 10s);
  ASSERT_TRUE(IsUnauthorized(replay));
  EXPECT_NE(replay.error().message.find("already"), std::string::npos);
  // Still refused at the very edge of the window, when only the cache stops it.
  EXPECT_TRUE(IsUnauthorized(verifier.Verify(kTimestamp, kSignature, kBody, kSent + 300s)));
}

TEST(SlackVerifierTest, MissingOrMalformedHeadersAreUnauthorized) {
  SlackVerifier verifier(kSecret);
  const std::string hex = std::string(kSignature).substr(3);
  for (auto [ts, sig] : std::vector<std::pair<std::string, std::string>>{
           {"", kSignature},
           {kTimestamp, ""},
           {"15314206l8", kSignature},
           {"-1531420618", kSignature},
           {"1531420618 ", kSignature},
           {"0001531420618", kSignature},
           {kTimestamp, hex},
           {kTimestamp, "v1=" + hex},
           {kTimestamp, "v0=" + hex.substr(1)},
           {kTimestamp, "v0=" + hex + "00"},
           {kTimestamp, "v0=" + std::string(64, 'A')},
       }) {
    EXPECT_TRUE(IsUnauthorized(verifier.Verify(ts, sig, kBody, kSent))) << ts << " " << sig;
  }
}

TEST(SlackVerifierTest, TheReplayCacheForgetsRequestsOutsideTheWindowAndStaysBounded) {
  SlackVerifier verifier(kSecret, /*capacity=*/3);
  int64_t t = 1531420618;
  auto sign_and_verify = [&](int64_t ts, const std::string& body, TimePoint now) {
    const std::string stamp = std::to_string(ts);
    return verifier.Verify(stamp, SlackVerifier::Sign(kSecret, stamp, body), body, now);
  };
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(sign_and_verify(t, "b" + std::to_string(i), At(t)).ok());
  EXPECT_EQ(verifier.CachedForTest(), 3u);
  // Later, the old entries are gone once their timestamps leave the window.
  EXPECT_TRUE(sign_and_verify(t + 400, "later", At(t + 400)).ok());
  EXPECT_EQ(verifier.CachedForTest(), 1u);
}

TEST(SlackVerifierTest, ConcurrentCopiesOfOneRequestAreAcceptedExactlyOnce) {
  SlackVerifier verifier(kSecret);
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      if (verifier.Verify(kTimestamp, kSignature, kBody, kSent).ok()) ++accepted;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(accepted.load(), 1);
}

}  // namespace
}  // namespace countersign
