#include "http/mcp_session_table.hpp"

#include "auth/token.hpp"
#include "core/mutex_lock.hpp"

namespace countersign {
namespace {

// Expired sessions are dropped at most this often, besides when the table is full.
constexpr Millis kSweepEvery = std::chrono::minutes(1);

// 256 random bits as 43 base64url characters, after `prefix`.
std::string RandomText(std::string_view prefix) {
  std::string token = GenerateToken();  // "cs_" + 43 characters
  return std::string(prefix) + token.substr(3);
}

}  // namespace

McpSessionTable::McpSessionTable(const Clock& clock, McpServerIdentity identity,
                                 McpSessionLimits limits)
    : clock_(clock), identity_(std::move(identity)), limits_(limits), last_sweep_(clock.Now()) {}

bool McpSessionTable::Expired(const Entry& entry, TimePoint now) const {
  return now - entry.last_used >= limits_.idle_expiry && entry.session->calls_in_flight() == 0;
}

void McpSessionTable::DropExpired(TimePoint now) {
  last_sweep_ = now;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = Expired(it->second, now) ? sessions_.erase(it) : std::next(it);
  }
}

Result<std::shared_ptr<McpHttpSession>> McpSessionTable::Create(const std::string& owner) {
  const TimePoint now = clock_.Now();
  MutexLock lock(mu_);
  if (now - last_sweep_ >= kSweepEvery || sessions_.size() >= limits_.max_sessions) {
    DropExpired(now);
  }
  if (sessions_.size() >= limits_.max_sessions) {
    return Error::Unavailable("the server holds its maximum of " +
                              std::to_string(limits_.max_sessions) +
                              " MCP sessions; end one (DELETE /mcp) or try again later");
  }
  std::string id = RandomText("mcp_");
  auto session = std::make_shared<McpHttpSession>(id, owner, RandomText(""), identity_);
  sessions_.emplace(std::move(id), Entry{session, now});
  return session;
}

std::shared_ptr<McpHttpSession> McpSessionTable::Find(std::string_view id,
                                                      const std::string& owner) {
  const TimePoint now = clock_.Now();
  MutexLock lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return nullptr;
  if (Expired(it->second, now)) {
    sessions_.erase(it);
    return nullptr;
  }
  if (it->second.session->owner() != owner) return nullptr;
  it->second.last_used = now;
  return it->second.session;
}

void McpSessionTable::Touch(std::string_view id) {
  const TimePoint now = clock_.Now();
  MutexLock lock(mu_);
  auto it = sessions_.find(id);
  if (it != sessions_.end()) it->second.last_used = now;
}

bool McpSessionTable::Remove(std::string_view id, const std::string& owner) {
  const TimePoint now = clock_.Now();
  MutexLock lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return false;
  const bool live = !Expired(it->second, now);
  const bool owned = it->second.session->owner() == owner;
  if (!live || owned) sessions_.erase(it);
  return live && owned;
}

size_t McpSessionTable::size() const {
  MutexLock lock(mu_);
  return sessions_.size();
}

}  // namespace countersign
