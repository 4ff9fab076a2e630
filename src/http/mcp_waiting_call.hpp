// McpWaitingCall: one waiting tool call of POST /mcp (request_approval, ask_human,
// permission_prompt) whose request was created pending, from then until the people decide.
//
// Stream() is the handler's RequestContext::streamed. It answers as Server-Sent Events when
// the client accepts them: the head, a priming event (an id and empty data), then every
// `progress_interval` while the request stays pending a notifications/progress event (when
// the client sent a progress token; otherwise an SSE comment, which keeps proxies from
// closing an idle connection), and at the end the JSON-RPC response event, after which the
// connection closes. A client that accepts only application/json gets the response alone, as
// one JSON object, once the request is decided. Every event has an `id:` unique in the
// session, and no `event:` field.
//
// No thread waits: the call registers with the gateway's WaiterHub, re-reads the request (a
// decision between the create and the registration would otherwise be missed), and sleeps on
// a ClockTimer (the gateway's alarms, so a FakeClock drives it). The wait ends when:
//  - the request is decided, expires or is cancelled: the tool's result (tool_results.hpp);
//  - the client cancels the call (notifications/cancelled: the handler cancels the request
//    and calls Wake()): the stream ends without a response, as MCP says;
//  - the client goes away (Abandon(), or a write fails): the stream ends; the request is NOT
//    cancelled (MCP: a disconnect is not a cancellation) and waits on the gateway as usual;
//  - the server stops (WaiterHub::CloseAll): an `unavailable` result naming the request, which
//    stays pending.
// Either way the call leaves its session's calls in flight.
//
// Construction, Stream() and Abandon() run on the connection's executor; Wake() on any
// thread. Owned by shared_ptr (the waiter and the session's call entry hold it too).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/value.hpp>

#include "auth/actor.hpp"
#include "engine/gateway.hpp"
#include "http/beast.hpp"
#include "http/clock_timer.hpp"
#include "http/mcp_http_session.hpp"
#include "http/mcp_session_table.hpp"
#include "http/response_stream.hpp"
#include "mcp/mcp_session.hpp"
#include "mcp/tool_call_control.hpp"

namespace countersign {

struct McpWaitingCallSetup {
  McpToolInvocation invocation;  // the tools/call: its id, tool and progress token
  Actor actor;                   // who created the request
  std::shared_ptr<McpHttpSession> session;
  std::string call_key;  // the call's key in the session (its serialized JSON-RPC id)
  bool sse = true;       // the client accepts text/event-stream
  std::chrono::seconds progress_interval{5};
};

class McpWaitingCall : public std::enable_shared_from_this<McpWaitingCall> {
 public:
  // `gateway` and `sessions` must outlive the call.
  McpWaitingCall(const asio::any_io_executor& executor, Gateway& gateway, McpSessionTable& sessions,
                 McpWaitingCallSetup setup);

  const std::shared_ptr<ToolCallControl>& control() const { return control_; }

  // Answers the POST about `created` (pending when created), as above.
  asio::awaitable<void> Stream(ResponseStream& out, Gateway::RequestPtr created);

  // Any thread: the call was cancelled through control(); end the wait now.
  void Wake();
  // The connection's executor: the client went away.
  void Abandon();

 private:
  asio::awaitable<void> Run(ResponseStream& out, const Gateway::RequestPtr& created);
  asio::awaitable<bool> WriteEvent(ResponseStream& out, const std::string& data);
  bool Ended() const { return abandoned_ || control_->cancelled(); }
  // Forgets the waiter and leaves the session's calls in flight.
  void Finish();

  Gateway& gateway_;
  McpSessionTable& sessions_;
  const McpWaitingCallSetup setup_;
  const std::shared_ptr<ToolCallControl> control_ = std::make_shared<ToolCallControl>();
  ClockTimer timer_;
  // All on the executor.
  std::string request_id_;
  uint64_t ticket_ = 0;
  bool waiting_ = false;    // a waiter is registered and has not woken
  bool signalled_ = false;  // the waiter woke: `resolved` (null when the server is stopping)
  Gateway::RequestPtr resolved_;
  bool abandoned_ = false;
};

}  // namespace countersign
