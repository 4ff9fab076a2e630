// McpHandlers: MCP over Streamable HTTP at /mcp (PROTOCOLS-AGENTS 1.7, 1.8), the same five
// tools as `countersign mcp`, run inside the gateway against the engine.
//
// The protocol decisions are McpSession's and the tools' bodies and results the mcp library's
// (tool_arguments.hpp, tool_results.hpp), exactly as over stdio; requests are created through
// SubmitRequest (policies, grants, idempotency, notifications all apply) and read and
// cancelled as the v1 API does, as the bearer token's principal, who is the requester.
//
//   POST /mcp    one JSON-RPC message. initialize starts a session: its response carries
//                Mcp-Session-Id, which every later POST and the DELETE must send (missing:
//                400; unknown, ended, expired or another principal's: 404). A present
//                MCP-Protocol-Version that this server does not speak is 400. Requests are
//                answered 200 application/json, except a waiting tool (request_approval,
//                ask_human, permission_prompt) whose request is left pending: that is
//                answered as an event stream (McpWaitingCall). Notifications and responses:
//                202 without a body; notifications/cancelled for a waiting call in flight
//                cancels its request ("cancelled by the MCP client") and ends its stream
//                without a response. Not JSON: 400 with a -32700 error; not a message: 400
//                with -32600. Accept must allow application/json or text/event-stream (406).
//   DELETE /mcp  ends the session (204). Calls in flight go on to their end.
//   GET /mcp     405 (Allow: POST, DELETE): no server-initiated stream.
// Every request: an Origin other than the server's own (or a loopback one, when it listens
// on loopback) is 403; no or a bad token is 401 with WWW-Authenticate: Bearer. Error bodies
// are JSON-RPC errors without an id (code -32000, or -32700/-32600 as above).
//
// Thread-safe: the session table and the sessions lock; the gateway, authenticator and
// metrics must outlive the server's connections.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "auth/authenticator.hpp"
#include "engine/gateway.hpp"
#include "http/mcp_http_checks.hpp"
#include "http/mcp_http_session.hpp"
#include "http/mcp_session_table.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"
#include "mcp/mcp_session.hpp"

namespace countersign {

struct McpHttpOptions {
  // With auth off, the requester is named "mcp" (there is no token to name it).
  bool auth_off = false;
  // How often a waiting call reports progress ([server] mcp_progress_seconds).
  std::chrono::seconds progress_interval{5};
  // The origin of the server's public URL ("https://approvals.example.com"), and whether it
  // listens on loopback: the Origins a browser may send (McpOriginAllowed).
  std::string public_origin;
  bool loopback_listener = false;
  McpSessionLimits sessions;
  // serverInfo.version (cli/app.cpp's version number; the server keeps none of its own).
  std::string server_version = "0.1.0";
};

class McpHandlers {
 public:
  static constexpr char kPath[] = "/mcp";

  McpHandlers(Gateway& gateway, Authenticator& authenticator, Metrics& metrics,
              McpHttpOptions options);

  void Register(Router& router);

  asio::awaitable<HttpResponse> Post(RequestContext& ctx);
  asio::awaitable<HttpResponse> Delete(RequestContext& ctx);

 private:
  // The origin and token checks every method shares: the caller, or the refusal.
  asio::awaitable<Result<Actor>> Admit(const RequestContext& ctx);
  // The session a non-initialize request names, or the refusal (400, 404).
  Result<std::shared_ptr<McpHttpSession>> SessionOf(const RequestContext& ctx, const Actor& actor);
  asio::awaitable<HttpResponse> Initialize(const Actor& actor, const std::string& body,
                                           McpAcceptable acceptable);
  // A tools/call McpSession decided to run.
  asio::awaitable<HttpResponse> CallTool(RequestContext& ctx, Actor actor,
                                         std::shared_ptr<McpHttpSession> session,
                                         McpToolInvocation call, McpAcceptable acceptable);
  // get_request and cancel_request: one engine call.
  asio::awaitable<boost::json::object> RunOnce(Actor actor, McpToolInvocation call);
  // notifications/cancelled for call `id` of `session`.
  void CancelCall(const Actor& actor, McpHttpSession& session, const boost::json::value& id);
  void CancelInBackground(const Actor& actor, const std::string& request_id);

  Gateway& gateway_;
  Authenticator& authenticator_;
  Metrics& metrics_;
  const McpHttpOptions options_;
  McpSessionTable sessions_;
};

}  // namespace countersign
