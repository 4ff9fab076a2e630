#include "auth/token_authenticator.hpp"

#include <algorithm>
#include <cctype>

#include "auth/token.hpp"
#include "core/mutex_lock.hpp"

namespace countersign {

Result<std::string> TokenAuthenticator::TokenHash(std::string_view authorization) {
  if (authorization.empty()) {
    return Error::Unauthorized("missing Authorization header (use: Bearer <token>)");
  }
  constexpr std::string_view kScheme = "Bearer ";
  if (authorization.size() <= kScheme.size() ||
      !std::equal(kScheme.begin(), kScheme.end(), authorization.begin(),
                  [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
    return Error::Unauthorized("Authorization must use the Bearer scheme");
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  // Looking up by hash keeps the comparison off the secret itself: the index and the cache
  // compare digests, and learning a digest prefix reveals nothing about the token.
  return HashToken(token);
}

std::optional<Actor> TokenAuthenticator::FindCached(const std::string& hash, TimePoint now) {
  MutexLock lock(mu_);
  auto it = cache_.find(hash);
  if (it != cache_.end() && it->second.expires_at > now) return it->second.actor;
  return std::nullopt;
}

std::optional<Result<Actor>> TokenAuthenticator::AuthenticateFromMemory(
    std::string_view authorization) {
  auto hash = TokenHash(authorization);
  if (!hash.ok()) return Result<Actor>(std::move(hash).error());
  if (auto cached = FindCached(hash.value(), clock_.Now())) return Result<Actor>(*cached);
  return std::nullopt;
}

Result<Actor> TokenAuthenticator::Authenticate(std::string_view authorization) {
  auto hashed = TokenHash(authorization);
  if (!hashed.ok()) return std::move(hashed).error();
  std::string hash = std::move(hashed).value();
  const TimePoint now = clock_.Now();
  if (auto cached = FindCached(hash, now)) return *cached;
  auto found = store_.FindPrincipalByTokenHash(hash);
  if (!found.ok()) return std::move(found).error();
  if (!found.value() || found.value()->revoked_at) {
    return Error::Unauthorized("invalid or revoked token");
  }
  const Principal& p = *found.value();
  Actor actor{p.name, p.role, p.tenant, p.groups};
  MutexLock lock(mu_);
  if (cache_.size() >= kMaxCached) cache_.clear();  // bounded; refills from the store
  cache_[std::move(hash)] = Cached{actor, now + ttl_};
  return actor;
}

void TokenAuthenticator::Forget() {
  MutexLock lock(mu_);
  cache_.clear();
}

}  // namespace countersign
