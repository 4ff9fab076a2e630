// McpProxyWaits: the gated calls and bridged elicitations `countersign mcp proxy` holds while
// a person decides, whichever transport carries them (McpProxy over stdio, McpHttpProxy over
// Streamable HTTP).
//
// A transport registers each one under a key of its own (the JSON-RPC id, or the session and
// the id), waits for it with WaitForApproval() or AnswerElicitation() on a thread of its own,
// and unregisters it once done. Cancel() is how the other side's notifications/cancelled
// reaches a waiting one: its control is marked and its request cancelled on the gateway
// (reason: cancelled by the MCP client). At most `max_waiting` wait at once. Thread-safe; the
// runner must outlive this object.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/json/value.hpp>

#include "core/mutex.hpp"
#include "core/result.hpp"
#include "mcp/mcp_proxy_session.hpp"
#include "mcp/tool_call_control.hpp"
#include "mcp/tool_runner.hpp"

namespace countersign {

// How a held call ended. Neither set: it was cancelled (or its agent left), and gets no
// response.
struct HeldCallOutcome {
  std::optional<std::string> to_client;    // the call's result: it will not run upstream
  std::optional<std::string> to_upstream;  // the approved call, to send upstream
};

class McpProxyWaits {
 public:
  enum class Kind { kHeldCall, kElicitation };
  // Runs a piece of work (a cancel on the gateway) now or on another thread.
  using Runner = std::function<void(std::function<void()>)>;
  // After each progress interval of a held call: the notifications/progress line when the
  // call asked for progress, else nullopt. Returns false when the agent is gone: the call then
  // stops waiting (its request stays pending on the gateway) and is never sent upstream.
  using ProgressSink = std::function<bool(std::optional<std::string> line)>;

  McpProxyWaits(const ToolRunner& runner, std::size_t max_waiting);

  // The control of a new waiting `kind` under `key`, or why it cannot wait (the key waits
  // already, or too many wait) as Error::Unavailable.
  Result<std::shared_ptr<ToolCallControl>> Register(Kind kind, const std::string& key);
  void Unregister(Kind kind, const std::string& key);

  // Cancels what waits under `key`, its request on the gateway through `run`; false when
  // nothing of `kind` waits there.
  bool Cancel(Kind kind, const std::string& key, const Runner& run);

  // Creates `call`'s approval request (its idempotency key from `nonce`) and waits for it.
  // Approved: the call with the approved arguments, through `session`; anything else: the
  // call's isError result.
  HeldCallOutcome WaitForApproval(McpProxySession& session, const ProxyHeldCall& call,
                                  const std::string& nonce, ToolCallControl& control,
                                  const ProgressSink& progress) const;

  // Asks a person `elicitation` and returns the upstream's answer line; nullopt when it was
  // cancelled. `key` names it in the log.
  std::optional<std::string> AnswerElicitation(const ProxyBridgedElicitation& elicitation,
                                               const std::string& nonce, const std::string& key,
                                               ToolCallControl& control) const;

  // The answer to a call that cannot wait (`why`): an `unavailable` tool error.
  static std::string RefusedCallLine(const boost::json::value& id, const std::string& why);
  // The answer to an elicitation that cannot wait: cancel.
  static std::string RefusedElicitationLine(const boost::json::value& id);

 private:
  using Controls = std::map<std::string, std::shared_ptr<ToolCallControl>>;

  Controls& ControlsOf(Kind kind) CS_REQUIRES(mu_);

  const ToolRunner& runner_;
  const std::size_t max_waiting_;
  Mutex mu_;
  Controls held_ CS_GUARDED_BY(mu_);
  Controls bridged_ CS_GUARDED_BY(mu_);
};

}  // namespace countersign
