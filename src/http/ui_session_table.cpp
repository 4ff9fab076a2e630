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
  UiSession session;
  session.token = std::move(token);
  session.principal = std::move(principal);
  return Insert(std::move(session));
}

std::string UiSessionTable::CreateFor(Actor actor) {
  UiSession session;
  session.principal = actor.name;
  session.actor = std::move(actor);
  return Insert(std::move(session));
}

std::string UiSessionTable::Insert(UiSession session) {
  const TimePoint now = clock_.Now();
  std::string id = "ui_" + GenerateToken().substr(3);  // 256 random bits
  session.id = id;
  session.began = now;
  session.last_used = now;
  MutexLock lock(mu_);
  if (sessions_.size() >= limits_.max_sessions) DropExpired(now);
  if (sessions_.size() >= limits_.max_sessions && !sessions_.empty()) {
    auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](auto& a, auto& b) {
      return a.second.last_used < b.second.last_used;
    });
    sessions_.erase(oldest);
  }
  sessions_.emplace(id, std::move(session));
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
