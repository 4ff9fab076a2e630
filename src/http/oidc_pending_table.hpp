// OidcPendingTable: the OpenID Connect sign-ins under way, between /ui/oidc/start sending a
// browser to the identity provider and /ui/oidc/callback bringing it back, keyed by their
// `state`.
//
// Begin() makes a sign-in's secrets, each 256 random bits in base64url: the `state` the
// provider hands back, the `browser` value the start sets as a cookie (the callback must
// carry it, so a state is good only in the browser that began it), the ID token's `nonce`
// and the PKCE `code_verifier`. They stay in this process's memory only. Take() answers a
// sign-in once and forgets it: an unknown state, one already taken and one older than `ttl`
// on the injected clock are all nullopt. At most `max_pending` are held: Begin() then drops
// the expired ones and, still full, the oldest (its browser can start again; starts are never
// refused). Pending sign-ins do not survive a restart. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/mutex.hpp"

namespace countersign {

struct OidcPending {
  std::string state;
  std::string browser;  // the value of the start's cookie
  std::string nonce;
  std::string code_verifier;
  TimePoint began;
};

struct OidcPendingLimits {
  size_t max_pending = 10'000;
  Millis ttl = std::chrono::minutes(10);
};

class OidcPendingTable {
 public:
  // `clock` must outlive the table.
  explicit OidcPendingTable(const Clock& clock, OidcPendingLimits limits = {});

  OidcPending Begin();
  std::optional<OidcPending> Take(std::string_view state);
  // Sign-ins held, expired ones not yet dropped included.
  size_t size() const;

  const OidcPendingLimits& limits() const { return limits_; }

 private:
  void DropExpired(TimePoint now) CS_REQUIRES(mu_);

  const Clock& clock_;
  const OidcPendingLimits limits_;
  mutable Mutex mu_;
  std::map<std::string, OidcPending, std::less<>> pending_ CS_GUARDED_BY(mu_);
};

}  // namespace countersign
