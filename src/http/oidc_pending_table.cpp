#include "http/oidc_pending_table.hpp"

#include <algorithm>
#include <cstdlib>

#include <openssl/rand.h>

#include "auth/base64url.hpp"
#include "core/mutex_lock.hpp"

namespace countersign {
namespace {

// 256 random bits, base64url: 43 characters, as PKCE's code_verifier requires (43-128).
std::string RandomValue() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) std::abort();  // no randomness: nothing is safe
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

}  // namespace

OidcPendingTable::OidcPendingTable(const Clock& clock, OidcPendingLimits limits)
    : clock_(clock), limits_(limits) {}

void OidcPendingTable::DropExpired(TimePoint now) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    it = now - it->second.began >= limits_.ttl ? pending_.erase(it) : std::next(it);
  }
}

OidcPending OidcPendingTable::Begin() {
  OidcPending pending{RandomValue(), RandomValue(), RandomValue(), RandomValue(), clock_.Now()};
  MutexLock lock(mu_);
  if (pending_.size() >= limits_.max_pending) DropExpired(pending.began);
  if (pending_.size() >= limits_.max_pending && !pending_.empty()) {
    auto oldest = std::min_element(pending_.begin(), pending_.end(), [](auto& a, auto& b) {
      return a.second.began < b.second.began;
    });
    pending_.erase(oldest);
  }
  pending_.emplace(pending.state, pending);
  return pending;
}

std::optional<OidcPending> OidcPendingTable::Take(std::string_view state) {
  const TimePoint now = clock_.Now();
  MutexLock lock(mu_);
  auto it = pending_.find(state);
  if (it == pending_.end()) return std::nullopt;
  OidcPending pending = std::move(it->second);
  pending_.erase(it);
  if (now - pending.began >= limits_.ttl) return std::nullopt;
  return pending;
}

size_t OidcPendingTable::size() const {
  MutexLock lock(mu_);
  return pending_.size();
}

}  // namespace countersign
