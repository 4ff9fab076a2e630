// WebhookSignature: how countersign signs the webhook and callback POSTs it sends.
//
// The signed bytes are "<timestamp>.<body>", the timestamp being whole Unix seconds sent as
// X-Countersign-Timestamp, so a receiver that checks the timestamp against its own clock (a
// few minutes either way) refuses a captured POST replayed later, or its body sent under
// another timestamp (as Slack and Stripe sign theirs). The signature is sent as
// X-Countersign-Signature: sha256=<lower-case hex of HMAC-SHA256(secret, signed bytes)>.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace countersign {

inline constexpr const char* kWebhookTimestampHeader = "X-Countersign-Timestamp";
inline constexpr const char* kWebhookSignatureHeader = "X-Countersign-Signature";

// The X-Countersign-Signature value of `body` sent at `timestamp` (Unix seconds).
std::string WebhookSignature(std::string_view secret, int64_t timestamp, std::string_view body);

}  // namespace countersign
