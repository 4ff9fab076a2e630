// McpAgentAnswer: the answer to one POST /mcp of the agent, as `countersign mcp proxy
// --upstream-url` writes it: a whole JSON (or other) answer, or a Server-Sent Events stream
// of the messages meant for the agent, ending with the response to the POSTed request.
//
// Send() takes each message as it comes. While nothing was sent, a response to the request
// goes out as a JSON answer when the agent takes no event stream or PreferJson() was called
// (the upstream answered JSON); otherwise the first message opens the stream. With a JSON-only
// agent the messages before the response are dropped. Events carry data only (no `id:`: the
// proxy does not resume streams, so an agent never tries). Fail() ends a request that got no
// response with a JSON-RPC error: a 502 answer, or the last event of the stream. Not
// thread-safe: one connection thread writes it.
#pragma once

#include <string>

#include <boost/json/value.hpp>

#include "cli/agent_http_server.hpp"

namespace countersign {

class McpAgentAnswer {
 public:
  // `request_id` is the POSTed request's id; null for a notification or a response.
  McpAgentAnswer(AgentHttpServer::Reply& reply, boost::json::value request_id, bool takes_sse);

  // A field of the answer's head (Mcp-Session-Id); before anything is sent.
  void AddField(std::string name, std::string value);
  void PreferJson() { prefer_json_ = true; }

  // Opens the event stream now (a held call); false when the agent takes no stream or is gone.
  bool OpenStream();
  // A message for the agent; false once the agent is gone.
  bool Send(const std::string& message);
  // Shows a waiting stream is alive (an SSE comment); false once the agent is gone.
  bool KeepAlive();
  // The whole answer, when nothing was sent yet.
  void Respond(int status, const std::string& content_type, const std::string& body);
  // Ends a request that got no response with a JSON-RPC error (-32603, `message`).
  void Fail(const std::string& message);

  bool answered() const { return answered_; }
  bool started() const { return started_; }

 private:
  bool IsResponse(const std::string& message) const;

  AgentHttpServer::Reply& reply_;
  const boost::json::value request_id_;
  const std::string request_key_;  // the id as JSON text; empty without one
  const bool takes_sse_;
  bool prefer_json_ = false;
  AgentHttpServer::Fields fields_;
  bool started_ = false;
  bool streaming_ = false;
  bool gone_ = false;
  bool answered_ = false;
};

}  // namespace countersign
