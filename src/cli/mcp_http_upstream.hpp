// McpHttpUpstream: the client side of `countersign mcp proxy --upstream-url`: sends the
// agent's messages (and the proxy's own answers) to an upstream MCP server over Streamable
// HTTP, and reads its answers.
//
// Each message is one POST on a connection of its own (HttpExchange), with `Accept:
// application/json, text/event-stream`, the session's Mcp-Session-Id and MCP-Protocol-
// Version, and the --upstream-header fields. A text/event-stream answer is read event by
// event as it arrives, each event's data (a JSON-RPC message) handed to the observer at once;
// any other answer is read whole. Messages, and bodies other than an event stream, over
// `max_message_bytes` are refused (an oversized event is dropped and logged). An https://
// upstream is verified against `ca_file` (PEM) when given, else the system's CAs. Timeouts: 30 s
// to connect and send; then up to `wait` for each piece of the answer. Failures (unreachable,
// cut off, too big) are Error::Unavailable naming the URL. Thread-safe: each call is
// independent.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "cli/http_header_option.hpp"
#include "cli/http_url.hpp"
#include "core/result.hpp"

namespace countersign {

// The session headers a message travels with; empty ones are left out.
struct McpUpstreamSession {
  std::string session_id;
  std::string protocol_version;
};

struct McpUpstreamAnswer {
  int status = 0;
  std::string content_type = {};  // the media type, lower-cased, without parameters
  std::string session_id = {};    // its Mcp-Session-Id, when it sent one
  bool streamed = false;          // an event stream: its messages went to the observer
  std::string body = {};          // the body otherwise
};

class McpHttpUpstream {
 public:
  using Duration = std::chrono::steady_clock::duration;

  struct Observer {
    // Called once the answer's head is read, before its body.
    std::function<void(const McpUpstreamAnswer& head)> head;
    // Each message of an event stream; returning false stops reading it.
    std::function<bool(std::string message)> message;
  };

  McpHttpUpstream(HttpUrl url, std::string url_text, std::string ca_file,
                  std::vector<HttpHeaderOption> headers, std::size_t max_message_bytes);

  Result<McpUpstreamAnswer> Post(const std::string& message, const McpUpstreamSession& session,
                                 Duration wait, const Observer& observer) const;

  // Ends the session upstream (DELETE).
  Result<McpUpstreamAnswer> Delete(const McpUpstreamSession& session, Duration wait) const;

  const std::string& url() const { return url_text_; }

 private:
  std::vector<std::pair<std::string, std::string>> Fields(const McpUpstreamSession& session) const;
  std::string Target() const;

  const HttpUrl url_;
  const std::string url_text_;
  const std::string ca_file_;
  const std::vector<HttpHeaderOption> headers_;
  const std::size_t max_message_bytes_;
};

}  // namespace countersign
