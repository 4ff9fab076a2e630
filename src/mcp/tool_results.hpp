// What a tool call returns (an MCP CallToolResult), built from the request the gateway
// answered or from why the call failed.
//
// A waiting tool's request that was approved (request_approval) or answered (ask_human)
// gives structuredContent matching the tool's outputSchema, and the same JSON in a text
// block. A denied, expired or cancelled request, and every failure of the call itself, gives
// `isError: true` with one text block "<reason>: <what happened>", the reason one of the
// McpToolFailure names below: no structuredContent, since clients check it against the
// outputSchema even on errors. get_request and cancel_request return the request's summary
// whatever its status. permission_prompt never returns an error: Claude Code reads one text
// block holding {"behavior":"allow","updatedInput":{...}} or {"behavior":"deny",
// "message":"..."} (also given as structuredContent); every failure is a deny, so a broken
// gateway never allows a tool. Pure functions; thread-safe.
#pragma once

#include <string_view>

#include <boost/json/object.hpp>

#include "core/result.hpp"
#include "mcp/tool_catalog.hpp"

namespace countersign {

enum class McpToolFailure {
  kDenied,            // the people (or the deadline, by policy) denied it
  kExpired,           // the deadline passed with no decision
  kCancelled,         // the request was cancelled (by its requester or an admin)
  kUnavailable,       // the gateway could not be reached, or failed (5xx, 429, busy)
  kInvalidArguments,  // the tool's arguments were refused (here, or by the gateway: 400/422)
  kNotFound,          // no such request, or one this token may not see (404)
  kForbidden,         // the token may not do this (401, 403)
  kConflict,          // the request is no longer pending (409)
};

// "denied", "expired", "cancelled", "unavailable", "invalid_arguments", "not_found",
// "forbidden", "conflict".
std::string_view McpToolFailureName(McpToolFailure failure);

// The failure a gateway error stands for (by its ErrorCode, which follows the HTTP status).
McpToolFailure FailureForGatewayError(const Error& error);

// The result of `tool` when the call failed before the request was decided (bad arguments,
// the gateway refused or could not be reached): an isError result, or a deny for
// permission_prompt.
boost::json::object ToolFailureResult(McpTool tool, McpToolFailure failure,
                                      std::string_view message);

// The result of `tool` for `request`, the gateway's request object. For a waiting tool the
// request must be resolved (not pending); for get_request and cancel_request any status is
// a success.
boost::json::object ToolResultForRequest(McpTool tool, const boost::json::object& request);

// The arguments the approvers of `request` agreed to: the newest approving decision's edited
// `arguments`, else the request's own; `edited` says which.
boost::json::object ApprovedArguments(const boost::json::object& request, bool& edited);

// The request as get_request and cancel_request show it (tool_catalog.cpp's summary schema).
boost::json::object RequestSummary(const boost::json::object& request);

}  // namespace countersign
