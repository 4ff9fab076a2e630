// TokenAuthenticator: "Authorization: Bearer <token>" checked against the principals table.
//
// Successful lookups are cached by token hash for `ttl`, so a busy client costs one SHA-256
// and a hash-map probe per request instead of a store read. Forget() drops the cache; the
// server calls it whenever a token is revoked here, so a revocation takes effect at once on
// this process (and within `ttl` on any other sharing the store). Failed lookups are never
// cached. Thread-safe.
#pragma once

#include <string>
#include <unordered_map>

#include "auth/authenticator.hpp"
#include "core/clock.hpp"
#include "core/mutex.hpp"
#include "store/store.hpp"

namespace countersign {

class TokenAuthenticator final : public Authenticator {
 public:
  TokenAuthenticator(Store& store, Clock& clock, Millis ttl = std::chrono::seconds(5))
      : store_(store), clock_(clock), ttl_(ttl) {}

  Result<Actor> Authenticate(std::string_view authorization) override;
  // A cached token or a malformed header answers; any other needs the store.
  std::optional<Result<Actor>> AuthenticateFromMemory(std::string_view authorization) override;
  void Forget();

 private:
  // The token's SHA-256, or why the header carries no token.
  static Result<std::string> TokenHash(std::string_view authorization);
  std::optional<Actor> FindCached(const std::string& hash, TimePoint now);

  struct Cached {
    Actor actor;
    TimePoint expires_at;
  };
  static constexpr size_t kMaxCached = 10000;

  Store& store_;
  Clock& clock_;
  const Millis ttl_;
  Mutex mu_;
  std::unordered_map<std::string, Cached> cache_ CS_GUARDED_BY(mu_);  // key: token SHA-256
};

}  // namespace countersign
