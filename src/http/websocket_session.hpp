// WebSocketSession: a GET /v1/ws connection (or an adapter's, such as Molecule's /ws) after its
// hand-over, speaking WebSocket.
//
// Run() starts the feed (subscribing before the handshake completes, so once the client has
// the 101 no later event can be missed), accepts the upgrade, and sends each event as one
// text message of EventToJson (or of the upgrade's `render`, which may also skip events), one
// write in flight at a time. A concurrent read answers pings and the close handshake and
// discards anything else the client sends (messages over 4 KiB end the stream). Beast's server
// timeouts apply, with a ping every heartbeat: a peer silent for two heartbeats is dropped.
//
// The stream ends when the client closes, a write fails, Stop() is called (close 1001 "server
// shutting down"), the caller's token stops authenticating (checked once per heartbeat; close
// 1008 "token no longer valid") or the feed overflows: close 1008 "slow consumer: resume with
// since=N" when no write was in flight; a write stuck in flight is cancelled and the connection
// simply closes. Either way the client reconnects with ?since= its last seq.
//
// `Stream` is the connection's beast::tcp_stream or a TLS stream over it; `tcp` is the TCP
// layer. Everything runs on the connection's strand; the feed's wake-ups arrive from the
// store's writer thread through a StreamSignal.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <spdlog/spdlog.h>
#include <boost/beast/websocket.hpp>

#include "http/beast.hpp"
#include "http/credential_recheck.hpp"
#include "http/event_frames.hpp"
#include "http/stream_session_options.hpp"
#include "http/stream_signal.hpp"
#include "http/stream_upgrade.hpp"

namespace countersign {

template <typename Stream>
class WebSocketSession {
 public:
  WebSocketSession(Stream& stream, beast::tcp_stream& tcp, const HttpRequest& request,
                   StreamUpgrade& upgrade, StreamSessionOptions options)
      : ws_(stream),
        tcp_(tcp),
        request_(request),
        feed_(*upgrade.feed),
        render_(upgrade.render),
        options_(options),
        credentials_(upgrade.authorized, options.heartbeat),
        signal_(std::make_shared<StreamSignal>(tcp.get_executor())) {}
  WebSocketSession(const WebSocketSession&) = delete;
  WebSocketSession& operator=(const WebSocketSession&) = delete;

  // Returns false: the WebSocket closing handshake (or its failure) has already dealt with
  // the connection, so the caller only closes the socket.
  asio::awaitable<bool> Run();
  // Strand only. Ends the stream promptly; a write in flight is cancelled.
  void Stop();
  // Whether the stream ended because the client fell behind.
  bool overflowed() const { return overflowed_; }

 private:
  static constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
  static constexpr size_t kMaxClientMessage = 4096;
  static constexpr std::chrono::seconds kCloseTimeout{2};

  asio::awaitable<bool> Write(const std::string& text);
  asio::awaitable<void> DiscardInput();
  void Cancel();
  void OnNotify();

  beast::websocket::stream<Stream&> ws_;
  beast::tcp_stream& tcp_;
  const HttpRequest& request_;
  EventFeed& feed_;
  const std::function<std::optional<std::string>(const Event&)> render_;
  const StreamSessionOptions options_;
  CredentialRecheck credentials_;
  const std::shared_ptr<StreamSignal> signal_;
  // All strand only.
  bool writing_ = false;
  bool reading_ = false;
  bool stopped_ = false;
  bool overflowed_ = false;
};

template <typename Stream>
asio::awaitable<bool> WebSocketSession<Stream>::Run() {
  namespace websocket = beast::websocket;
  // The WebSocket keeps its own timeouts; the TCP layer's would cut idle streams.
  tcp_.expires_never();
  auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
  timeouts.idle_timeout = 2 * options_.heartbeat;
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& response) {
    response.set(http::field::server, "countersign");
  }));
  ws_.read_message_max(kMaxClientMessage);

  auto signal = signal_;
  feed_.Start([signal] { signal->Notify(); });
  signal_->on_notify = [this] { OnNotify(); };
  writing_ = true;
  auto [accept_ec] = co_await ws_.async_accept(request_, kAwait);
  writing_ = false;
  bool open = !accept_ec;
  if (!open) spdlog::debug("WebSocket handshake failed: {}", accept_ec.message());

  if (open) {
    ws_.text(true);
    reading_ = true;
    asio::co_spawn(tcp_.get_executor(), DiscardInput(), [this](std::exception_ptr) {
      reading_ = false;
      signal_->NotifyOnStrand();
    });
  }
  websocket::close_reason close{websocket::close_code::going_away, "server shutting down"};
  std::string text;
  while (open && !stopped_ && reading_) {
    if (!credentials_.StillAuthorized()) {
      spdlog::info("WebSocket stream of {} closed: its token no longer authenticates",
                   feed_.actor().name);
      close = {websocket::close_code::policy_error, "token no longer valid"};
      break;
    }
    auto batch = feed_.Next(options_.batch_events);
    if (!batch.ok()) {
      spdlog::warn("event stream of {} ended: {}", feed_.actor().name, batch.error().message);
      close = {websocket::close_code::internal_error, "cannot read events; resume with since"};
      break;
    }
    for (const auto& event : batch->events) {
      if (render_) {
        auto message = render_(*event);
        if (!message) continue;
        text = std::move(*message);
      } else {
        text = EventJsonText(*event);
      }
      // co_await only as a whole statement: GCC 12 mishandles it inside conditions.
      open = co_await Write(text);
      if (!open) break;
    }
    if (!open) break;
    if (batch->state == EventSubscription::State::kOverflowed) {
      overflowed_ = true;
      close = {websocket::close_code::policy_error, OverflowCloseReason(feed_.position())};
      break;
    }
    if (batch->state == EventSubscription::State::kClosed) break;
    if (!batch->events.empty()) continue;
    if (batch->more) {
      co_await asio::post(tcp_.get_executor(), asio::use_awaitable);
      continue;
    }
    // Beast sends the pings; this wait only has to end now and then.
    co_await signal_->Wait(options_.heartbeat);
  }
  signal_->on_notify = nullptr;
  if (feed_.live_state() == EventSubscription::State::kOverflowed) overflowed_ = true;
  // Closing is a write: possible only when no write failed and the client has not closed.
  if (open && reading_ && ws_.is_open()) {
    // The client has this long to answer the close frame.
    timeouts.handshake_timeout = kCloseTimeout;
    ws_.set_option(timeouts);
    writing_ = true;
    auto [close_ec] = co_await ws_.async_close(close, kAwait);
    writing_ = false;
    // Beast completes the close once the client's close frame arrives (or the handshake
    // timeout passes); the pending read ends with it.
    if (close_ec) spdlog::debug("WebSocket close failed: {}", close_ec.message());
  }
  Cancel();
  while (reading_) co_await signal_->Wait(std::chrono::seconds(1));
  co_return false;
}

template <typename Stream>
void WebSocketSession<Stream>::Stop() {
  stopped_ = true;
  if (writing_) Cancel();
  signal_->NotifyOnStrand();
}

template <typename Stream>
asio::awaitable<bool> WebSocketSession<Stream>::Write(const std::string& text) {
  writing_ = true;
  auto [ec, written] = co_await ws_.async_write(asio::buffer(text), kAwait);
  writing_ = false;
  if (ec) spdlog::debug("event stream write failed: {}", ec.message());
  co_return !ec;
}

template <typename Stream>
asio::awaitable<void> WebSocketSession<Stream>::DiscardInput() {
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

template <typename Stream>
void WebSocketSession<Stream>::Cancel() {
  boost::system::error_code ignored;
  tcp_.socket().cancel(ignored);
}

template <typename Stream>
void WebSocketSession<Stream>::OnNotify() {
  // A write stuck in flight while the queue overflowed: the client is not reading, and a
  // close frame could not get through either. Cut the connection now.
  if (writing_ && feed_.live_state() == EventSubscription::State::kOverflowed) {
    overflowed_ = true;
    Cancel();
  }
}

}  // namespace countersign
