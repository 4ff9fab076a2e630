// The header checks of POST and DELETE /mcp (MCP Streamable HTTP, PROTOCOLS-AGENTS 1.7), as
// pure functions the handlers and their unit tests share. Thread-safe.
#pragma once

#include <string_view>

#include "core/result.hpp"

namespace countersign {

// What an Accept header lets POST /mcp answer with. An absent header accepts anything (RFC
// 9110 12.5.1); "*/*", "application/*" and "text/*" count; a range with q=0 does not.
struct McpAcceptable {
  bool json = false;  // application/json
  bool sse = false;   // text/event-stream
};
McpAcceptable ReadMcpAccept(std::string_view accept);

// MCP-Protocol-Version after initialize: absent is accepted (the client may predate the
// header); a present value that is not a revision this server speaks is Error::Malformed
// (400).
Status CheckMcpProtocolVersion(std::string_view header);

// An Origin header, when sent, must be this server's own (`public_origin`, e.g.
// "https://approvals.example.com") or, when the server listens on loopback, a loopback
// origin (http(s)://localhost, 127.0.0.0/8, [::1], any port): a web page elsewhere must not
// drive the MCP endpoint through a visitor's browser (DNS rebinding). An empty `origin` (none
// sent, as by non-browser clients) passes.
bool McpOriginAllowed(std::string_view origin, std::string_view public_origin,
                      bool loopback_listener);

// A session id as MCP allows one: 1 to 128 visible ASCII characters (0x21 to 0x7E).
bool IsMcpSessionId(std::string_view id);

}  // namespace countersign
