// McpSession: the MCP server side of one session, as decisions without I/O.
//
// A transport (stdio in cli/mcp_command.hpp; Streamable HTTP later) hands every incoming
// message to Handle() and does what the McpStep says: send `reply`, run `call` (then send
// ToolCallResultLine when it ends, unless it was cancelled), and cancel the in-flight call
// `cancel` names. The session answers what needs no gateway itself: initialize (version
// negotiation: "2025-11-25" and "2025-06-18" are echoed, any other gets "2025-11-25"), ping,
// tools/list, and every error: -32700 not JSON, -32600 not a message (a batch included), a
// request other than initialize or ping before initialize, or a second initialize, -32601
// unknown method, -32602 bad params and unknown tools. Bad tool arguments are not protocol
// errors: the tool's result says so (tool_results.hpp). Notifications and responses from the
// client get no reply. Not thread-safe: the transport calls it from its reading thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "mcp/tool_catalog.hpp"

namespace countersign {

// The protocol revisions this server speaks, newest first.
inline constexpr std::string_view kMcpLatestVersion = "2025-11-25";
inline constexpr std::string_view kMcpPreviousVersion = "2025-06-18";

// True for a revision this server speaks: kMcpLatestVersion or kMcpPreviousVersion.
bool IsSupportedMcpVersion(std::string_view version);

struct McpServerIdentity {
  std::string name = "countersign";
  std::string version;
};

// A tools/call to run.
struct McpToolInvocation {
  boost::json::value id;  // the JSON-RPC request id
  McpTool tool = McpTool::kGetRequest;
  boost::json::object arguments;
  boost::json::value progress_token;  // null when the caller sent none
};

struct McpStep {
  std::optional<std::string> reply;          // one line to send (no "\n")
  std::optional<McpToolInvocation> call;     // a tool call to start
  std::optional<boost::json::value> cancel;  // the id of an in-flight call to cancel
};

class McpSession {
 public:
  explicit McpSession(McpServerIdentity identity);

  McpStep Handle(std::string_view line);

  // The negotiated revision; empty before initialize.
  const std::string& protocol_version() const { return protocol_version_; }

 private:
  McpStep HandleRequest(const boost::json::value& id, const std::string& method,
                        const boost::json::object& params);
  McpStep Initialize(const boost::json::value& id, const boost::json::object& params);
  McpStep CallTool(const boost::json::value& id, const boost::json::object& params) const;

  McpServerIdentity identity_;
  std::string protocol_version_;
};

// The response to a finished tools/call.
std::string ToolCallResultLine(const boost::json::value& id, boost::json::object result);

// A notifications/progress line.
std::string ProgressNotificationLine(boost::json::object params);

}  // namespace countersign
