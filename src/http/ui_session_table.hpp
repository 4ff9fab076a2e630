// UiSessionTable: the browser sessions of the web inbox (/ui/), by the id in their cookie.
//
// Create() signs a browser in: a random id (256 bits, base64url) for the token that signed
// in and the principal it names. The token itself stays in this process's memory only, so
// each page re-authenticates it and a token revoked after sign-in signs its sessions out at
// their next request. CreateFor() signs in someone with no countersign token (OpenID Connect,
// UiOidcHandlers): the session carries who they are, as the identity provider said at
// sign-in, for its whole life. Find() answers a live session and counts the request as its use; an
// unknown id, one that ended (Remove(), signing out) and an expired one are all nullopt. A
// session expires `idle_expiry` after its last use, and `absolute_expiry` after it began
// however busy, on the injected clock. At most `max_sessions` are held: Create() then drops
// the expired ones and, still full, the least recently used (a browser can sign in again;
// sign-ins are never refused). Sessions do not survive a restart. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "auth/actor.hpp"
#include "core/clock.hpp"
#include "core/mutex.hpp"

namespace countersign {

struct UiSessionLimits {
  size_t max_sessions = 10'000;
  Millis idle_expiry = std::chrono::hours(8);
  Millis absolute_expiry = std::chrono::hours(24);
};

struct UiSession {
  std::string id;
  std::string token;      // the bearer token that signed in; empty for a CreateFor() session
  std::string principal;  // who it named then (for the page header)
  // Who signed in, for a session with no token (CreateFor()); nullopt for a token's.
  std::optional<Actor> actor;
  TimePoint began;
  TimePoint last_used;
};

class UiSessionTable {
 public:
  // `clock` must outlive the table.
  explicit UiSessionTable(const Clock& clock, UiSessionLimits limits = {});

  // The new session's id.
  std::string Create(std::string token, std::string principal);
  // The new session's id, for `actor` itself.
  std::string CreateFor(Actor actor);
  std::optional<UiSession> Find(std::string_view id);
  void Remove(std::string_view id);
  // Sessions held, expired ones not yet dropped included.
  size_t size() const;

  const UiSessionLimits& limits() const { return limits_; }

 private:
  std::string Insert(UiSession session);
  bool Expired(const UiSession& session, TimePoint now) const;
  void DropExpired(TimePoint now) CS_REQUIRES(mu_);

  const Clock& clock_;
  const UiSessionLimits limits_;
  mutable Mutex mu_;
  std::map<std::string, UiSession, std::less<>> sessions_ CS_GUARDED_BY(mu_);
};

}  // namespace countersign
