// McpSessionTable: the MCP sessions of POST /mcp, by their Mcp-Session-Id.
//
// Create() starts a session for a principal (`owner`: its tenant and name) with a random id
// (256 bits, base64url: visible ASCII as MCP requires) and a random nonce for its
// idempotency keys. Find() answers a session only to its owner: an unknown id, one that
// ended (Remove(), a DELETE) or expired, and another principal's are all the same nullptr (a
// 404, which tells a guesser nothing). A session expires after `idle_expiry` without a
// request, on the injected clock; one with a tool call in flight does not, and its call's
// end counts as use. At most `max_sessions` exist: Create() then first drops the expired
// ones and, when still full, refuses (Error::Unavailable, a 503). Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/mutex.hpp"
#include "core/result.hpp"
#include "http/mcp_http_session.hpp"

namespace countersign {

struct McpSessionLimits {
  size_t max_sessions = 10'000;
  Millis idle_expiry = std::chrono::hours(1);
};

class McpSessionTable {
 public:
  // `clock` must outlive the table.
  McpSessionTable(const Clock& clock, McpServerIdentity identity, McpSessionLimits limits = {});

  Result<std::shared_ptr<McpHttpSession>> Create(const std::string& owner);
  // The live session `id` of `owner` (and counts as its use), or nullptr.
  std::shared_ptr<McpHttpSession> Find(std::string_view id, const std::string& owner);
  // Marks session `id` used now (a tool call of it has ended).
  void Touch(std::string_view id);
  // Ends session `id` of `owner`; false when Find() would not have found it.
  bool Remove(std::string_view id, const std::string& owner);
  // Sessions held, expired ones not yet dropped included.
  size_t size() const;

 private:
  struct Entry {
    std::shared_ptr<McpHttpSession> session;
    TimePoint last_used;
  };
  bool Expired(const Entry& entry, TimePoint now) const;
  void DropExpired(TimePoint now) CS_REQUIRES(mu_);

  const Clock& clock_;
  const McpServerIdentity identity_;
  const McpSessionLimits limits_;
  mutable Mutex mu_;
  std::map<std::string, Entry, std::less<>> sessions_ CS_GUARDED_BY(mu_);
  TimePoint last_sweep_ CS_GUARDED_BY(mu_);
};

}  // namespace countersign
