// ToolCallControl: what a running tool call and its transport share, so the client's
// notifications/cancelled can stop the call.
//
// The call records the gateway request it created; the transport marks the call cancelled.
// Exactly one of them learns that the request must be cancelled on the gateway: Cancel()
// answers the request id when it is already known, RequestCreated() answers true when the
// call was cancelled before its request existed. A cancelled call sends no response (MCP
// cancellation: the receiver SHOULD NOT respond). Thread-safe.
#pragma once

#include <optional>
#include <string>

#include "core/mutex.hpp"

namespace countersign {

class ToolCallControl {
 public:
  // Marks the call cancelled. Returns the id of the request to cancel on the gateway now,
  // when the call created one and it was not handed out before.
  std::optional<std::string> Cancel();

  // Records the request the call created. True when the call was cancelled before: the
  // caller then cancels the request itself.
  bool RequestCreated(const std::string& id);

  bool cancelled() const;

 private:
  mutable Mutex mu_;
  bool cancelled_ CS_GUARDED_BY(mu_) = false;
  std::optional<std::string> request_id_ CS_GUARDED_BY(mu_);
};

}  // namespace countersign
