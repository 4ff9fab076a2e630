// McpHttpSession: one MCP session of POST /mcp (Streamable HTTP), from its initialize to its
// DELETE or its expiry.
//
// Holds the session's protocol state (McpSession: the negotiated revision, what is allowed
// before initialize), whose principal it belongs to (`owner`, McpSessionTable's key), the
// random nonce its tool calls' idempotency keys are derived from, and its waiting tool calls
// in flight, by JSON-RPC id, so that the client's notifications/cancelled (another POST) can
// reach one. Thread-safe: every member is behind the session's lock, and Handle() runs under
// it, so two POSTs of one session never interleave in the protocol state.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/mutex.hpp"
#include "mcp/mcp_session.hpp"
#include "mcp/tool_call_control.hpp"

namespace countersign {

class McpHttpSession {
 public:
  // A waiting tool call in flight: what its cancellation needs. `wake` ends the call's wait
  // soon (it sees `control` cancelled and ends its stream without a response); callable from
  // any thread.
  struct Call {
    std::shared_ptr<ToolCallControl> control;
    std::function<void()> wake;
  };

  McpHttpSession(std::string id, std::string owner, std::string nonce, McpServerIdentity identity);
  McpHttpSession(const McpHttpSession&) = delete;
  McpHttpSession& operator=(const McpHttpSession&) = delete;

  const std::string& id() const { return id_; }
  const std::string& owner() const { return owner_; }
  // The secret the session's idempotency keys are derived from (ToolRunner::IdempotencyKey).
  const std::string& nonce() const { return nonce_; }

  // McpSession::Handle, under the lock.
  McpStep Handle(std::string_view message);
  bool initialized() const;

  // Registers a call by its JSON-RPC id (serialized); false when that id is in flight.
  bool AddCall(const std::string& key, Call call);
  // The call in flight under `key`, if any.
  std::optional<Call> FindCall(const std::string& key) const;
  void RemoveCall(const std::string& key);
  size_t calls_in_flight() const;

  // An SSE event id unique within the session: "<session-wide counter>".
  std::string NextEventId();

 private:
  const std::string id_;
  const std::string owner_;
  const std::string nonce_;
  mutable Mutex mu_;
  McpSession protocol_ CS_GUARDED_BY(mu_);
  std::map<std::string, Call> calls_ CS_GUARDED_BY(mu_);
  uint64_t next_event_ CS_GUARDED_BY(mu_) = 0;
};

}  // namespace countersign
