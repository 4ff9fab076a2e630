// WebSocketFramer: the WebSocket side of an EventStreamSession (GET /v1/ws, and adapters'
// streams such as Molecule's /ws).
//
// Open() accepts the upgrade. Each event goes out as one text message of EventJsonText (or of
// the upgrade's `render`, which may also skip events). ReadUntilClosed() answers pings and the
// close handshake and discards anything else the client sends (messages over 4 KiB end the
// stream). Beast's server timeouts apply, with a ping every heartbeat: a peer silent for two
// heartbeats is dropped, so an idle stream has nothing of its own to send. Close() says why
// the stream ends: 1001 "server shutting down", 1008 "token no longer valid", 1011 when the
// events cannot be read, 1008 "slow consumer: resume with since=N" after an overflow.
//
// `Stream` is the connection's beast::tcp_stream or a TLS stream over it; `tcp` is the TCP
// layer. Used on the connection's strand only, by one session.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "engine/event_feed.hpp"
#include "http/beast.hpp"
#include "http/event_frames.hpp"
#include "http/stream_end.hpp"
#include "http/stream_session_options.hpp"
#include "http/stream_upgrade.hpp"

namespace countersign {

template <typename Stream>
class WebSocketFramer {
 public:
  // Names the stream in the log ("WebSocket stream of alice closed").
  static constexpr std::string_view kName = "WebSocket";

  WebSocketFramer(Stream& stream, beast::tcp_stream& tcp, const StreamUpgrade& upgrade,
                  StreamSessionOptions options)
      : ws_(stream), tcp_(tcp), render_(upgrade.render), options_(options) {}

  // Accepts the upgrade. False when the handshake failed.
  asio::awaitable<bool> Open(const HttpRequest& request) {
    namespace websocket = beast::websocket;
    // The WebSocket keeps its own timeouts; the TCP layer's would cut idle streams.
    tcp_.expires_never();
    timeouts_.idle_timeout = 2 * options_.heartbeat;
    timeouts_.keep_alive_pings = true;
    ws_.set_option(timeouts_);
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& response) {
      response.set(http::field::server, "countersign");
    }));
    ws_.read_message_max(kMaxClientMessage);
    auto [ec] = co_await ws_.async_accept(request, kAwait);
    if (ec) {
      spdlog::debug("WebSocket handshake failed: {}", ec.message());
      co_return false;
    }
    ws_.text(true);
    co_return true;
  }

  // Reads (answering pings and the close handshake) and discards until the client closes or
  // the read fails.
  asio::awaitable<void> ReadUntilClosed() {
    try {
      beast::flat_buffer buffer;
      for (;;) {
        auto [ec, n] = co_await ws_.async_read(buffer, kAwait);
        if (ec) break;
        buffer.consume(buffer.size());
      }
    } catch (const std::exception& ex) {
      spdlog::error("WebSocket reader failed: {}", ex.what());
    }
  }

  // The writes that carry `events`: one message each, in order, minus those `render` skips.
  void Frame(const std::vector<EventFeed::EventPtr>& events, std::vector<std::string>& writes) {
    for (const auto& event : events) {
      if (!render_) {
        writes.push_back(EventJsonText(*event));
        continue;
      }
      auto message = render_(*event);
      if (message) writes.push_back(std::move(*message));
    }
  }

  asio::awaitable<bool> Write(const std::string& text) {
    auto [ec, written] = co_await ws_.async_write(asio::buffer(text), kAwait);
    if (ec) spdlog::debug("event stream write failed: {}", ec.message());
    co_return !ec;
  }

  // Beast sends the pings.
  asio::awaitable<bool> Idle() { co_return true; }

  // The closing handshake, when the client can still take it. Returns false: the handshake
  // (or its failure) has dealt with the connection, so it is only to be closed.
  asio::awaitable<bool> Close(StreamEnd end, int64_t position, bool client_reading) {
    // Closing is a write: possible only while the client has not closed.
    if (!client_reading || !ws_.is_open()) co_return false;
    const beast::websocket::close_reason reason = CloseReason(end, position);
    // The client has this long to answer the close frame.
    timeouts_.handshake_timeout = kCloseTimeout;
    ws_.set_option(timeouts_);
    auto [ec] = co_await ws_.async_close(reason, kAwait);
    // Beast completes the close once the client's close frame arrives (or the handshake
    // timeout passes); the pending read ends with it.
    if (ec) spdlog::debug("WebSocket close failed: {}", ec.message());
    co_return false;
  }

 private:
  static constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
  static constexpr size_t kMaxClientMessage = 4096;
  static constexpr std::chrono::seconds kCloseTimeout{2};

  static beast::websocket::close_reason CloseReason(StreamEnd end, int64_t position) {
    namespace websocket = beast::websocket;
    switch (end) {
      case StreamEnd::kTokenRevoked:
        return {websocket::close_code::policy_error, "token no longer valid"};
      case StreamEnd::kFeedFailed:
        return {websocket::close_code::internal_error, "cannot read events; resume with since"};
      case StreamEnd::kOverflowed:
        return {websocket::close_code::policy_error, OverflowCloseReason(position)};
      case StreamEnd::kServerStopping:
        break;
    }
    return {websocket::close_code::going_away, "server shutting down"};
  }

  beast::websocket::stream<Stream&> ws_;
  beast::tcp_stream& tcp_;
  const std::function<std::optional<std::string>(const Event&)> render_;
  const StreamSessionOptions options_;
  beast::websocket::stream_base::timeout timeouts_ =
      beast::websocket::stream_base::timeout::suggested(beast::role_type::server);
};

}  // namespace countersign
