// ToolRunner: runs one MCP tool call against the gateway, from its arguments to its
// CallToolResult.
//
// A waiting tool (request_approval, ask_human, permission_prompt) creates its request with
// the call's idempotency key, so a retried POST (after the gateway could not be reached or
// answered 503) cannot make two, then long-polls GET /v1/requests/{id}/wait in slices of
// `progress_interval` and, when the caller sent a progress token, reports progress after
// each slice that ended with the request still pending. A gateway that stops answering
// while the call waits is tried again after each pause of `retry_pauses`; after the last, the
// call ends `unavailable` (the request stays pending on the gateway). get_request and
// cancel_request make one call. A call cancelled through its ToolCallControl stops at the
// end of the slice it is in (the transport's cancel on the gateway ends the long-poll at
// once) and returns nothing, and a request it creates after being cancelled is cancelled at
// once. Thread-safe: one runner serves every call; each call runs on its caller's thread.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/clock.hpp"
#include "mcp/gateway_api.hpp"
#include "mcp/tool_call_control.hpp"
#include "mcp/tool_catalog.hpp"

namespace countersign {

struct ToolCall {
  McpTool tool = McpTool::kGetRequest;
  boost::json::object arguments;
  boost::json::value progress_token;  // a string or an integer; null when none was sent
  std::string idempotency_key;        // for the request a waiting tool creates
};

struct ToolRunnerOptions {
  // How long one long-poll lasts, and so how often progress is reported (1 to 60 s).
  std::chrono::seconds progress_interval{5};
  // Pauses before each retry when the gateway cannot be reached or is unavailable; the
  // number of pauses is the number of retries.
  std::vector<Millis> retry_pauses{Millis(250), Millis(1000)};
};

class ToolRunner {
 public:
  // Receives the params of a notifications/progress for the call.
  using ProgressSink = std::function<void(boost::json::object params)>;

  // `gateway` and `clock` must outlive the runner.
  ToolRunner(GatewayApi& gateway, Clock& clock, ToolRunnerOptions options);

  // Runs `call` to its end: the CallToolResult, or nullopt when `control` was cancelled.
  std::optional<boost::json::object> Run(const ToolCall& call, ToolCallControl& control,
                                         const ProgressSink& progress) const;

  // Creates the request `body` (which carries its idempotency key, if any) and waits for it
  // as Run() does for a waiting `tool`, whose kind words the progress messages: the request
  // once it is no longer pending, nullopt when `control` was cancelled, or the gateway's
  // error (one that left the request pending says so, with its id). For callers that build
  // their own request, like the MCP proxy's gates.
  Result<std::optional<boost::json::object>> CreateAndWait(McpTool tool,
                                                           const boost::json::object& body,
                                                           const boost::json::value& progress_token,
                                                           ToolCallControl& control,
                                                           const ProgressSink& progress) const;

  // Cancels request `id` on the gateway for a client that cancelled its call (reason
  // kMcpCancelReason). The caller logs a failure: nobody waits for an answer.
  Status CancelForClient(const std::string& id) const;

  // One use of the receipt of approved `request` when its receipt_use is "single_use"
  // (GatewayApi::ConsumeReceipt), before the caller makes the approved call; Ok without
  // asking for a reusable one. An error means the call must not be made.
  Status ConsumeIfSingleUse(const boost::json::object& request) const;

  // The idempotency key of a call: derived from the session's random `session_nonce` and
  // the call's JSON-RPC id, which the client never reuses within a session.
  static std::string IdempotencyKey(std::string_view session_nonce,
                                    const boost::json::value& request_id);

 private:
  std::optional<boost::json::object> RunWaiting(const ToolCall& call, ToolCallControl& control,
                                                const ProgressSink& progress) const;
  boost::json::object RunOnce(const ToolCall& call) const;
  // `attempt` until it succeeds, fails with an error no retry can fix, or the pauses run
  // out (or `control` is cancelled).
  Result<boost::json::object> WithRetries(
      const std::function<Result<boost::json::object>()>& attempt,
      const ToolCallControl* control) const;
  void Pause(Millis pause) const;

  GatewayApi& gateway_;
  Clock& clock_;
  ToolRunnerOptions options_;
};

}  // namespace countersign
