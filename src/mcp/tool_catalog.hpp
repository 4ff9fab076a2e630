// The tools `countersign mcp` offers, and their definitions as tools/list shows them.
//
// Five tools: request_approval and ask_human create a request on the gateway and wait for the
// people's answer; get_request and cancel_request read and cancel one; permission_prompt is
// Claude Code's --permission-prompt-tool. Each definition carries name, title, description,
// inputSchema, outputSchema and annotations (MCP 2025-06-18 `Tool`). The schemas are the
// contract of tool_arguments.hpp (what a call may pass) and tool_results.hpp (what a
// successful call returns as structuredContent). Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace countersign {

enum class McpTool { kRequestApproval, kAskHuman, kGetRequest, kCancelRequest, kPermissionPrompt };

// The tool called `name` (case-sensitive), if there is one.
std::optional<McpTool> FindMcpTool(std::string_view name);

std::string_view McpToolName(McpTool tool);

// True for the tools that create a request and wait for it to be decided.
bool McpToolWaits(McpTool tool);

// Every tool's definition, in a fixed order.
const boost::json::array& McpToolDefinitions();

// One tool's definition.
const boost::json::object& McpToolDefinition(McpTool tool);

}  // namespace countersign
