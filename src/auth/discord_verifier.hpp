// DiscordVerifier: checks that a POST to the interactions endpoint really comes from Discord.
//
// Discord signs every interaction with the application's Ed25519 key: header
// `X-Signature-Ed25519` is the hex signature over `X-Signature-Timestamp` + the raw body, and
// the application's public key (hex, on the Developer Portal's General Information page)
// verifies it. Verify() accepts a request only when the signature verifies and the timestamp
// (Unix seconds) is within kWindow of `now` either way. Nothing of the body is interpreted:
// callers verify first and parse only what passed. Discord deliberately sends badly signed
// requests and disables endpoints that accept them.
//
// There is no replay cache: a replayed click can only repeat a vote the engine has already
// counted (a principal votes once; a resolved request refuses more), and the window bounds it.
//
// Thread-safe: immutable after Create(); each Verify() uses its own OpenSSL context.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/result.hpp"

namespace countersign {

class DiscordVerifier {
 public:
  static constexpr std::chrono::seconds kWindow{300};

  // `public_key_hex`: the application's public key, 64 hex characters (32 bytes). kInvalid
  // otherwise.
  static Result<DiscordVerifier> Create(std::string_view public_key_hex);

  // `timestamp` and `signature_hex` are the raw header values (empty when absent). Ok, or
  // kUnauthorized with the reason: missing or malformed headers, a timestamp outside the
  // window, or a signature that does not verify.
  Status Verify(std::string_view timestamp, std::string_view signature_hex, std::string_view body,
                TimePoint now) const;

 private:
  struct Key;
  explicit DiscordVerifier(std::shared_ptr<const Key> key) : key_(std::move(key)) {}

  std::shared_ptr<const Key> key_;
};

}  // namespace countersign
