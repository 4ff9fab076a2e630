#include "http/stream_handlers.hpp"

#include <charconv>
#include <optional>

#include <boost/beast/websocket/rfc6455.hpp>

#include "http/engine_call.hpp"

namespace countersign {
namespace {

// An event position: a non-negative integer. `what` names it in the error.
Result<std::optional<int64_t>> ParsePosition(std::string_view text, std::string_view what) {
  if (text.empty()) return std::optional<int64_t>();
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) {
    return Error::Malformed(std::string(what) + " must be an event seq (an integer >= 0)");
  }
  return std::optional<int64_t>(value);
}

}  // namespace

void StreamHandlers::Register(Router& router) {
  using A = Router::Access;
  router.AddStream(http::verb::get, "/v1/events", A::kAuthenticated,
                   [this](RequestContext& ctx) { return Events(ctx); });
  router.AddStream(http::verb::get, "/v1/ws", A::kAuthenticated,
                   [this](RequestContext& ctx) { return WebSocket(ctx); });
}

asio::awaitable<Result<StreamUpgrade>> StreamHandlers::Events(RequestContext& ctx) {
  auto feed = co_await MakeFeed(ctx, true);
  if (!feed.ok()) co_return std::move(feed).error();
  co_return StreamUpgrade{StreamProtocol::kServerSentEvents, std::move(feed).value(), nullptr};
}

asio::awaitable<Result<StreamUpgrade>> StreamHandlers::WebSocket(RequestContext& ctx) {
  if (!beast::websocket::is_upgrade(ctx.request)) {
    co_return Error::Malformed(
        "GET /v1/ws is a WebSocket endpoint: send Connection: Upgrade and Upgrade: websocket");
  }
  auto feed = co_await MakeFeed(ctx, false);
  if (!feed.ok()) co_return std::move(feed).error();
  co_return StreamUpgrade{StreamProtocol::kWebSocket, std::move(feed).value(), nullptr};
}

asio::awaitable<Result<std::unique_ptr<EventFeed>>> StreamHandlers::MakeFeed(RequestContext& ctx,
                                                                             bool last_event_id) {
  auto since = ParsePosition(ctx.Query("since"), "since");
  if (!since.ok()) co_return std::move(since).error();
  if (last_event_id) {
    auto resumed = ParsePosition(ctx.request["Last-Event-ID"], "Last-Event-ID");
    if (!resumed.ok()) co_return std::move(resumed).error();
    if (resumed.value()) since = resumed.value();
  }
  std::string request_id(ctx.Query("request"));
  if (!request_id.empty()) {
    // 404 for a request of another tenant, or (for an agent) of another requester.
    auto found = co_await GetRequestFrom(gateway_, ctx.actor, request_id);
    if (!found.ok()) co_return std::move(found).error();
  }
  co_return gateway_.OpenFeed(bus_, ctx.actor, std::move(request_id), since.value());
}

}  // namespace countersign
