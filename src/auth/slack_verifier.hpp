// SlackVerifier: checks that an inbound request really comes from Slack (the v0 signing
// scheme) and has not been seen before.
//
// Slack signs every request with headers `X-Slack-Request-Timestamp` (Unix seconds) and
// `X-Slack-Signature: v0=<hex>`, hex = HMAC-SHA256(signing_secret, "v0:" ts ":" raw_body).
// Verify() accepts a request only when the signature matches (compared in constant time),
// the timestamp is within kWindow of `now` either way, and the same signature has not been
// accepted before within that window. Nothing of the body is interpreted: callers verify
// first and parse only what passed.
//
// The replay cache (auth/ReplayCache) holds the signatures accepted in the last kWindow, at
// most `capacity` of them.
//
// Thread-safe: Verify() takes an internal lock around the replay cache.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/replay_cache.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"

namespace countersign {

class SlackVerifier {
 public:
  static constexpr std::chrono::seconds kWindow{300};
  static constexpr size_t kDefaultCapacity = 10000;

  explicit SlackVerifier(std::string signing_secret, size_t capacity = kDefaultCapacity);

  // `timestamp` and `signature` are the raw header values (empty when absent). Ok, or
  // kUnauthorized with the reason: missing or malformed headers, a timestamp outside the
  // window, a signature that does not match, or a replay.
  Status Verify(std::string_view timestamp, std::string_view signature, std::string_view body,
                TimePoint now);

  // "v0=<hex>" for `timestamp` and `body` under `signing_secret`: what Slack sends.
  static std::string Sign(std::string_view signing_secret, std::string_view timestamp,
                          std::string_view body);

  size_t CachedForTest() const { return replays_.size(); }

 private:
  const std::string secret_;
  ReplayCache replays_;
};

}  // namespace countersign
