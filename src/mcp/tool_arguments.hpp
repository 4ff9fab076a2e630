// A tool call's arguments, checked and turned into what the gateway's JSON API takes.
//
// request_approval, ask_human and permission_prompt become the body of POST /v1/requests
// (kind approval, question and approval); get_request and cancel_request take a request id
// (and a reason). The JSON types are checked here, as tool_catalog.hpp's inputSchema states
// them (null counts as absent; unknown members are ignored); ranges and lengths are the
// gateway's to judge, and it answers 422 with a message as good as ours. A failure is
// Error::Invalid with a message for the model; the caller makes it an `invalid_arguments`
// tool result. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "core/result.hpp"
#include "mcp/tool_catalog.hpp"

namespace countersign {

// The reason cancel_request and a cancelled call record when none is given.
inline constexpr std::string_view kMcpCancelReason = "cancelled by the MCP client";

// The body of POST /v1/requests for a call of request_approval, ask_human or
// permission_prompt (without the idempotency key, which the caller adds). Any other tool is
// Error::Internal.
Result<boost::json::object> RequestBodyFor(McpTool tool, const boost::json::object& arguments);

// The `id` argument of get_request and cancel_request: a non-empty string.
Result<std::string> RequestIdArgument(const boost::json::object& arguments);

// The `reason` argument of cancel_request, or kMcpCancelReason.
Result<std::string> CancelReasonArgument(const boost::json::object& arguments);

// The action a permission_prompt for `tool_name` asks about: "claude." + the name with every
// byte outside [A-Za-z0-9_.:/-] made '_', at most 128 bytes in all.
std::string PermissionPromptAction(std::string_view tool_name);

}  // namespace countersign
