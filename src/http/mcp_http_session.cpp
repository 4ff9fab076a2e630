#include "http/mcp_http_session.hpp"

#include "core/mutex_lock.hpp"

namespace countersign {

McpHttpSession::McpHttpSession(std::string id, std::string owner, std::string nonce,
                               McpServerIdentity identity)
    : id_(std::move(id)),
      owner_(std::move(owner)),
      nonce_(std::move(nonce)),
      protocol_(std::move(identity)) {}

McpStep McpHttpSession::Handle(std::string_view message) {
  MutexLock lock(mu_);
  return protocol_.Handle(message);
}

bool McpHttpSession::initialized() const {
  MutexLock lock(mu_);
  return !protocol_.protocol_version().empty();
}

bool McpHttpSession::AddCall(const std::string& key, Call call) {
  MutexLock lock(mu_);
  return calls_.emplace(key, std::move(call)).second;
}

std::optional<McpHttpSession::Call> McpHttpSession::FindCall(const std::string& key) const {
  MutexLock lock(mu_);
  auto it = calls_.find(key);
  if (it == calls_.end()) return std::nullopt;
  return it->second;
}

void McpHttpSession::RemoveCall(const std::string& key) {
  MutexLock lock(mu_);
  calls_.erase(key);
}

size_t McpHttpSession::calls_in_flight() const {
  MutexLock lock(mu_);
  return calls_.size();
}

std::string McpHttpSession::NextEventId() {
  MutexLock lock(mu_);
  return std::to_string(++next_event_);
}

}  // namespace countersign
