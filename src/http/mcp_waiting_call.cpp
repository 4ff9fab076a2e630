#include "http/mcp_waiting_call.hpp"

#include <exception>
#include <optional>
#include <utility>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "core/request_json.hpp"
#include "http/engine_call.hpp"
#include "mcp/tool_progress.hpp"
#include "mcp/tool_results.hpp"

namespace countersign {
namespace {

using RequestPtr = Gateway::RequestPtr;

// The SSE comment an idle stream gets instead of progress (no progress token was sent).
constexpr char kKeepAlive[] = ": waiting\n\n";

HttpResponse HeadFor(std::string_view content_type) {
  HttpResponse head{http::status::ok, 11};
  head.set(http::field::content_type, content_type);
  head.set(http::field::cache_control, "no-store");
  head.set("X-Accel-Buffering", "no");
  return head;
}

}  // namespace

McpWaitingCall::McpWaitingCall(const asio::any_io_executor& executor, Gateway& gateway,
                               McpSessionTable& sessions, McpWaitingCallSetup setup)
    : gateway_(gateway),
      sessions_(sessions),
      setup_(std::move(setup)),
      timer_(executor, gateway.alarms()) {}

void McpWaitingCall::Wake() {
  asio::post(timer_.get_executor(), [self = shared_from_this()] { self->timer_.Cancel(); });
}

void McpWaitingCall::Abandon() {
  abandoned_ = true;
  timer_.Cancel();
}

asio::awaitable<void> McpWaitingCall::Stream(ResponseStream& out, RequestPtr created) {
  try {
    co_await Run(out, created);
  } catch (const std::exception& e) {
    spdlog::error("POST /mcp: the call waiting for {} failed: {}", request_id_, e.what());
  }
  Finish();
}

void McpWaitingCall::Finish() {
  if (waiting_) gateway_.waiters().Remove(request_id_, ticket_);
  waiting_ = false;
  setup_.session->RemoveCall(setup_.call_key);
  sessions_.Touch(setup_.session->id());
}

asio::awaitable<bool> McpWaitingCall::WriteEvent(ResponseStream& out, const std::string& data) {
  std::string event = "id: " + setup_.session->NextEventId() + "\ndata: " + data + "\n\n";
  const bool written = co_await out.Write(event);
  co_return written;
}

asio::awaitable<void> McpWaitingCall::Run(ResponseStream& out, const RequestPtr& created) {
  const McpTool tool = setup_.invocation.tool;
  request_id_ = created->id;
  if (setup_.sse) {
    const HttpResponse head = HeadFor("text/event-stream");
    const bool opened = co_await out.Open(head);
    if (!opened) co_return;
    // The priming event: an id the client may resume from, and no data.
    const std::string priming = "id: " + setup_.session->NextEventId() + "\ndata:\n\n";
    const bool primed = co_await out.Write(priming);
    if (!primed) co_return;
  }

  auto self = shared_from_this();
  ticket_ = gateway_.waiters().Add(request_id_, [self](RequestPtr resolved) {
    asio::post(self->timer_.get_executor(), [self, resolved = std::move(resolved)]() mutable {
      self->waiting_ = false;
      self->signalled_ = true;
      self->resolved_ = std::move(resolved);
      self->timer_.Cancel();
    });
  });
  waiting_ = true;
  // It may have been decided between the create and the registration.
  std::optional<Result<RequestPtr>> final;
  auto current = co_await GetRequestFrom(gateway_, setup_.actor, request_id_);
  if (!current.ok() || !current.value()->pending()) final = std::move(current);

  const std::string message = McpWaitingMessage(tool, RequestToJson(*created));
  std::int64_t reports = 0;
  bool stopping = false;
  while (!final && !Ended()) {
    if (signalled_) {
      if (resolved_ && resolved_->tenant == setup_.actor.tenant) {
        final = Result<RequestPtr>(resolved_);
        break;
      }
      // The server is stopping (WaiterHub::CloseAll): say what the store holds now.
      stopping = true;
      final = co_await GetRequestFrom(gateway_, setup_.actor, request_id_);
      break;
    }
    timer_.ExpiresAfter(setup_.progress_interval);
    const bool expired = co_await timer_.Wait();
    if (!expired || !setup_.sse) continue;
    bool written = false;
    if (setup_.invocation.progress_token.is_null()) {
      const std::string keep_alive = kKeepAlive;
      written = co_await out.Write(keep_alive);
    } else {
      const std::string progress = ProgressNotificationLine(
          McpProgressParams(setup_.invocation.progress_token, ++reports, message));
      written = co_await WriteEvent(out, progress);
    }
    // The client left: the request waits on the gateway, as after any disconnect.
    if (!written) co_return;
  }
  if (!final || Ended()) {
    // Cancelled by the client (or the client left): no response. A JSON-only client still
    // needs an answer to its POST, and gets an empty one.
    if (!setup_.sse && !abandoned_) {
      const HttpResponse head{http::status::no_content, 11};
      (void)co_await out.Open(head);
    }
    co_return;
  }

  boost::json::object result;
  if (!final->ok()) {
    const Error& error = final->error();
    result = ToolFailureResult(tool, FailureForGatewayError(error), error.message);
  } else if (final->value()->pending()) {
    result = ToolFailureResult(
        tool, McpToolFailure::kUnavailable,
        std::string(stopping ? "the gateway is stopping" : "the wait ended") + "; request " +
            request_id_ + " is still pending on the gateway: read it later with get_request");
  } else {
    result = ToolResultForRequest(tool, RequestToJson(*final->value()));
  }
  const std::string line = ToolCallResultLine(setup_.invocation.id, std::move(result));
  if (setup_.sse) {
    (void)co_await WriteEvent(out, line);
    co_return;
  }
  const HttpResponse head = HeadFor("application/json");
  const bool opened = co_await out.Open(head);
  if (opened) (void)co_await out.Write(line);
}

}  // namespace countersign
