// What a waiting tool call (request_approval, ask_human, permission_prompt) reports while
// its request is pending: the params of one notifications/progress. Shared by every
// transport, so that a client sees the same progress over stdio and over Streamable HTTP.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "mcp/tool_catalog.hpp"

namespace countersign {

// "waiting for approval from alice, group:sre (request req_..., deadline ...)", or "an
// answer", or "any approver" when `request` (the gateway's request object) names none.
std::string McpWaitingMessage(McpTool tool, const boost::json::object& request);

// {progressToken, progress, message}: `progress` counts the reports of one call from 1.
boost::json::object McpProgressParams(const boost::json::value& progress_token,
                                      std::int64_t progress, const std::string& message);

}  // namespace countersign
