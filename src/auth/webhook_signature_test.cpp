#include "auth/webhook_signature.hpp"

#include <gtest/gtest.h>

#include "core/sha256.hpp"

namespace countersign {
namespace {

constexpr std::string_view kSecret = "it-is-a-webhook-secret";
constexpr std::string_view kBody = R"({"event":"request.created"})";

// The vector docs/api.md's receivers are checked against: Python's
// hmac.new(b"it-is-a-webhook-secret", b'1764000000.{"event":"request.created"}', sha256).
TEST(WebhookSignatureTest, SignsTheTimestampADotAndTheBody) {
  EXPECT_EQ(WebhookSignature(kSecret, 1764000000, kBody),
            "sha256=b87aaf868ad130662cfc608c6bf7535cfd66421b29b0ad330087412a02c45a25");
}

TEST(WebhookSignatureTest, AnotherTimestampGivesAnotherSignature) {
  EXPECT_NE(WebhookSignature(kSecret, 1764000000, kBody),
            WebhookSignature(kSecret, 1764000001, kBody));
}

TEST(WebhookSignatureTest, IsNotTheHmacOfTheBodyAlone) {
  // A receiver still checking the old scheme must fail loudly rather than accept anything.
  EXPECT_NE(WebhookSignature(kSecret, 1764000000, kBody),
            "sha256=" + HmacSha256Hex(kSecret, kBody));
}

}  // namespace
}  // namespace countersign
