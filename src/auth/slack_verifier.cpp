#include "auth/slack_verifier.hpp"

#include <charconv>

#include "core/sha256.hpp"

namespace countersign {
namespace {

constexpr std::string_view kPrefix = "v0=";
constexpr size_t kHexChars = 64;
// Unix seconds stay below 12 digits until the year 33658; anything longer is not a timestamp.
constexpr size_t kMaxTimestampDigits = 12;

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

SlackVerifier::SlackVerifier(std::string signing_secret, size_t capacity)
    : secret_(std::move(signing_secret)), replays_(kWindow, capacity == 0 ? 1 : capacity) {}

std::string SlackVerifier::Sign(std::string_view signing_secret, std::string_view timestamp,
                                std::string_view body) {
  std::string base;
  base.reserve(4 + timestamp.size() + body.size());
  base.append("v0:").append(timestamp).append(":").append(body);
  return std::string(kPrefix) + HmacSha256Hex(signing_secret, base);
}

Status SlackVerifier::Verify(std::string_view timestamp, std::string_view signature,
                             std::string_view body, TimePoint now) {
  if (timestamp.empty() || signature.empty()) {
    return Error::Unauthorized("missing X-Slack-Request-Timestamp or X-Slack-Signature");
  }
  int64_t ts = 0;
  auto [end, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), ts);
  if (ec != std::errc() || end != timestamp.data() + timestamp.size() || ts < 0 ||
      timestamp.size() > kMaxTimestampDigits) {
    return Error::Unauthorized("X-Slack-Request-Timestamp is not Unix seconds");
  }
  if (signature.size() != kPrefix.size() + kHexChars || signature.substr(0, 3) != kPrefix ||
      !IsLowerHex(signature.substr(kPrefix.size()))) {
    return Error::Unauthorized("X-Slack-Signature is not v0=<hex>");
  }
  const int64_t now_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const int64_t skew = now_seconds > ts ? now_seconds - ts : ts - now_seconds;
  if (skew > kWindow.count()) {
    return Error::Unauthorized("X-Slack-Request-Timestamp is more than 300 s from now");
  }
  // The timestamp check comes first, so a stale request costs no HMAC.
  if (!ConstantTimeEquals(Sign(secret_, timestamp, body), signature)) {
    return Error::Unauthorized("X-Slack-Signature does not match");
  }

  return replays_.Admit(std::string(signature.substr(kPrefix.size())), ts, now_seconds);
}

}  // namespace countersign
