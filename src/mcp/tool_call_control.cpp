#include "mcp/tool_call_control.hpp"

#include "core/mutex_lock.hpp"

namespace countersign {

std::optional<std::string> ToolCallControl::Cancel() {
  MutexLock lock(mu_);
  if (cancelled_) return std::nullopt;
  cancelled_ = true;
  return request_id_;
}

bool ToolCallControl::RequestCreated(const std::string& id) {
  MutexLock lock(mu_);
  request_id_ = id;
  return cancelled_;
}

bool ToolCallControl::cancelled() const {
  MutexLock lock(mu_);
  return cancelled_;
}

}  // namespace countersign
