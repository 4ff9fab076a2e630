// LinkSigner: mints and checks the tokens of one-click links (GET/POST /l/{token}).
//
// A token binds (tenant, request id, choice, recipient, expiry) with HMAC-SHA256 under a
// server secret; it is URL-safe (base64url, no padding) and checked in constant time. The
// recipient is the principal the decision is recorded as, so separation of duties and the
// approver rules apply to a link exactly as to an API call. Verify() checks only integrity:
// whether the link has expired is the caller's question (it has the clock and must still show
// the request's current state). Thread-safe (immutable after construction).
//
// Token format (version 1): `base64url(payload) "." base64url(mac)` where
//   payload = 0x01 ‖ str(tenant) ‖ str(request id) ‖ str(choice) ‖ str(recipient) ‖
//             uvarint(expiry, whole Unix seconds)
//   str(s)  = uvarint(byte length of s) ‖ s
//   mac     = the first 16 bytes of HMAC-SHA256(key, payload)
// uvarint is unsigned LEB128 (7 bits a byte, least significant group first), shortest form
// only. A typical token is about 100 characters.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/result.hpp"

namespace countersign {

struct LinkClaims {
  std::string tenant;
  std::string request_id;
  std::string choice;
  std::string recipient;
  TimePoint expires_at;  // whole seconds
};

class LinkSigner {
 public:
  static constexpr const char* kKeyFileName = "link_key";
  static constexpr size_t kKeyBytes = 32;         // what LoadOrCreate() generates
  static constexpr size_t kMacBytes = 16;         // the truncated HMAC in a token
  static constexpr size_t kMaxTokenChars = 1024;  // longer input is refused unread

  // `key` is the raw HMAC key (at least 32 bytes).
  explicit LinkSigner(std::string key);
  ~LinkSigner();
  // Not copyable, so the key lives in one place and is wiped when that object goes.
  LinkSigner(const LinkSigner&) = delete;
  LinkSigner& operator=(const LinkSigner&) = delete;
  LinkSigner(LinkSigner&&) = default;
  LinkSigner& operator=(LinkSigner&&) = default;

  // Reads `link_key` from `data_dir`, creating it (32 random bytes, mode 0600) on first use.
  // The file is published atomically (written under a staging name, fsynced, then linked into
  // place), so a crash never leaves a partial key. Errors name the file: Error::Unavailable
  // when it cannot be read or written, Error::Invalid when it holds fewer than 32 bytes.
  static Result<LinkSigner> LoadOrCreate(const std::filesystem::path& data_dir);
  // Like LoadOrCreate() but never creates: Error::NotFound when the file does not exist (for
  // offline tools, which must sign with the key the server already uses).
  static Result<LinkSigner> Load(const std::filesystem::path& data_dir);

  // Times before the Unix epoch are signed as the epoch; sub-second parts are dropped.
  std::string Sign(const LinkClaims& claims) const;
  // kUnauthorized when the token is malformed or its MAC does not match. Any input is safe.
  Result<LinkClaims> Verify(std::string_view token) const;

 private:
  std::string Mac(std::string_view payload) const;

  std::string key_;
};

}  // namespace countersign
