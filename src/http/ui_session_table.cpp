#include "http/ui_session_table.hpp"

#include <algorithm>

#include "auth/token.hpp"
#include "core/mutex_lock.hpp"

namespace countersign {

UiSessionTable::UiSessionTable(const Clock& clock, UiSessionLimits limits)
    : clock_(clock), limits_(limits) {}

bool UiSessionTable::Expired(const UiSession& session, TimePoint now) const {
  return now - session.last_used >= limits_.idle_expiry ||
         now - session.began >= limits_.absolute_expiry;
}

void UiSessionTable::DropExpired(TimePoint now) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = Expired(it->second, now) ? sessions_.erase(it) : std::next(it);
  }
}

std::string UiSessionTable::Create(std::string token, std::string principal) {
  const TimePoint now = clock_.Now();
  std::string id = "ui_" + GenerateToken().substr(3);  // 256 random bits
  MutexLock lock(mu_);
  if (sessions_.size() >= limits_.max_sessions) DropExpired(now);
  if (sessions_.size() >= limits_.max_sessions && !sessions_.empty()) {
    auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](auto& a, auto& b) {
      return a.second.last_used < b.second.last_used;
    });
    sessions_.erase(oldest);
  }
  sessions_.emplace(id, UiSession{id, std::move(token), std::move(principal), now, now});
  return id;
}

std::optional<UiSession> UiSessionTable::Find(std::string_view id) {
  const TimePoint now = clock_.Now();
  MutexLock lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  if (Expired(it->second, now)) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.last_used = now;
  return it->second;
}

void UiSessionTable::Remove(std::string_view id) {
  MutexLock lock(mu_);
  if (auto it = sessions_.find(id); it != sessions_.end()) sessions_.erase(it);
}

size_t UiSessionTable::size() const {
  MutexLock lock(mu_);
  return sessions_.size();
}

}  // namespace countersign
