// EventStreamSession: a live event stream (GET /v1/events, GET /v1/ws, an adapter's stream)
// after its connection has been handed over, whatever its framing.
//
// Run() starts the feed (subscribing before the client learns the stream is open, so no later
// event can be missed), opens the stream (Framer::Open), and then sends what the feed yields,
// one write in flight at a time. A concurrent read (Framer::ReadUntilClosed) notices the
// client leaving. An idle stream calls Framer::Idle() every heartbeat.
//
// The stream ends when the client closes, a write fails or times out, the server stops (a
// terminal cancellation through the `stop` slot the session was made with), the caller's token
// stops authenticating (checked once per heartbeat), the feed closes or fails, or the feed
// overflows. Unless a write failed or the client left, Framer::Close() then says why. A write
// in flight when the stop arrives is cancelled; so is one stuck in flight while the feed
// overflows (the client is not reading, and the last words could not get through either), and
// the connection simply closes. Either way the client resumes from its last event.
//
// `Framer` is SseFramer<Stream> or WebSocketFramer<Stream>; `tcp` is the connection's TCP
// layer. Everything runs on the connection's strand; the feed's wake-ups arrive from the
// store's writer thread through a StreamSignal. Each of the four sessions (SSE, WebSocket;
// plain, TLS) is compiled once, in its own file: sse_stream_{plain,tls}.cpp and
// websocket_stream_{plain,tls}.cpp.
#pragma once

#include <chrono>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "engine/event_feed.hpp"
#include "http/beast.hpp"
#include "http/credential_recheck.hpp"
#include "http/event_stream.hpp"
#include "http/sse_framer.hpp"
#include "http/stream_end.hpp"
#include "http/stream_session_options.hpp"
#include "http/stream_signal.hpp"
#include "http/stream_upgrade.hpp"
#include "http/websocket_framer.hpp"

namespace countersign {

template <typename Framer>
class EventStreamSession {
 public:
  // `stream` is what `Framer` speaks over; `stop` carries the server's terminal cancellation.
  template <typename Stream>
  EventStreamSession(Stream& stream, beast::tcp_stream& tcp, const HttpRequest& request,
                     StreamUpgrade& upgrade, StreamSessionOptions options,
                     asio::cancellation_slot stop)
      : framer_(stream, tcp, upgrade, options),
        tcp_(tcp),
        request_(request),
        feed_(*upgrade.feed),
        options_(options),
        credentials_(upgrade.authorized, options.heartbeat, options.alarms->clock()),
        signal_(std::make_shared<StreamSignal>(tcp.get_executor(), *options.alarms)),
        stop_slot_(stop),
        stop_(stop) {}
  ~EventStreamSession() {
    // Frees the cancellation state; the server then sees no stream on the connection.
    if (stop_slot_.is_connected()) stop_slot_.clear();
  }
  EventStreamSession(const EventStreamSession&) = delete;
  EventStreamSession& operator=(const EventStreamSession&) = delete;

  // Returns true when the connection may be closed gracefully (nothing is left half-written).
  asio::awaitable<bool> Run();
  // Whether the stream ended because the client fell behind.
  bool overflowed() const { return overflowed_; }

 private:
  bool stopped() const { return stop_.cancelled() != asio::cancellation_type::none; }
  // Around every write: a stop, or OnNotify() seeing an overflow, cancels it.
  void BeginWrite();
  void EndWrite();
  void Cancel();
  void OnNotify();

  Framer framer_;
  beast::tcp_stream& tcp_;
  const HttpRequest& request_;
  EventFeed& feed_;
  const StreamSessionOptions options_;
  CredentialRecheck credentials_;
  const std::shared_ptr<StreamSignal> signal_;
  asio::cancellation_slot stop_slot_;
  // Records the stop; its own slot reaches whatever the session is waiting on.
  asio::cancellation_state stop_;
  // All strand only.
  bool writing_ = false;
  bool reading_ = false;
  bool overflowed_ = false;
};

template <typename Framer>
asio::awaitable<bool> EventStreamSession<Framer>::Run() {
  auto signal = signal_;
  feed_.Start([signal] { signal->Notify(); });
  signal_->on_notify = [this] { OnNotify(); };

  BeginWrite();
  bool open = co_await framer_.Open(request_);
  EndWrite();
  if (open) {
    reading_ = true;
    asio::co_spawn(tcp_.get_executor(), framer_.ReadUntilClosed(), [this](std::exception_ptr) {
      reading_ = false;
      signal_->NotifyOnStrand();
    });
  }
  StreamEnd end = StreamEnd::kServerStopping;
  std::vector<std::string> writes;
  while (open && !stopped() && reading_) {
    if (!credentials_.StillAuthorized()) {
      spdlog::info("{} stream of {} closed: its token no longer authenticates", Framer::kName,
                   feed_.actor().name);
      end = StreamEnd::kTokenRevoked;
      break;
    }
    auto batch = feed_.Next(options_.batch_events);
    if (!batch.ok()) {
      spdlog::warn("event stream of {} ended: {}", feed_.actor().name, batch.error().message);
      end = StreamEnd::kFeedFailed;
      break;
    }
    writes.clear();
    framer_.Frame(batch->events, writes);
    for (const std::string& text : writes) {
      BeginWrite();
      // co_await only as a whole statement: GCC 12 mishandles it inside conditions.
      open = co_await framer_.Write(text);
      EndWrite();
      if (!open) break;
    }
    if (!open) break;
    if (batch->state == EventSubscription::State::kOverflowed) {
      overflowed_ = true;
      end = StreamEnd::kOverflowed;
      break;
    }
    if (batch->state == EventSubscription::State::kClosed) break;
    if (!batch->events.empty()) continue;
    if (batch->more) {
      // A replay page held nothing this client may see: let other connections run first.
      co_await asio::post(tcp_.get_executor(), asio::use_awaitable);
      continue;
    }
    if (stopped()) break;
    const bool woken = co_await signal_->Wait(options_.heartbeat, stop_.slot());
    if (woken) continue;
    if (stopped() || !reading_) break;
    BeginWrite();
    open = co_await framer_.Idle();
    EndWrite();
  }
  signal_->on_notify = nullptr;
  if (feed_.live_state() == EventSubscription::State::kOverflowed) overflowed_ = true;
  bool graceful = false;
  if (open) {
    BeginWrite();
    graceful = co_await framer_.Close(end, feed_.position(), reading_);
    EndWrite();
  }
  Cancel();
  while (reading_) co_await signal_->Wait(std::chrono::seconds(1));
  co_return graceful;
}

template <typename Framer>
void EventStreamSession<Framer>::BeginWrite() {
  writing_ = true;
  // Stops arriving before this write began are seen by the loop; from now on they cancel it.
  auto slot = stop_.slot();
  if (slot.is_connected()) slot.assign([this](asio::cancellation_type) { Cancel(); });
}

template <typename Framer>
void EventStreamSession<Framer>::EndWrite() {
  writing_ = false;
  stop_.slot().clear();
}

template <typename Framer>
void EventStreamSession<Framer>::Cancel() {
  boost::system::error_code ignored;
  tcp_.socket().cancel(ignored);
}

template <typename Framer>
void EventStreamSession<Framer>::OnNotify() {
  // A write stuck in flight while the queue overflowed: the client is not reading. The last
  // words could not get through either, so cut the connection now.
  if (writing_ && feed_.live_state() == EventSubscription::State::kOverflowed) {
    overflowed_ = true;
    Cancel();
  }
}

template <typename Stream>
asio::awaitable<EventStreamResult> RunEventStream(Stream& stream, beast::tcp_stream& tcp,
                                                  const HttpRequest& request,
                                                  StreamUpgrade& upgrade,
                                                  StreamSessionOptions options,
                                                  asio::cancellation_signal& stop, bool stopping) {
  EventStreamResult result;
  if (upgrade.protocol == StreamProtocol::kServerSentEvents) {
    EventStreamSession<SseFramer<Stream>> session(stream, tcp, request, upgrade, options,
                                                  stop.slot());
    if (stopping) stop.emit(asio::cancellation_type::terminal);
    result.graceful = co_await session.Run();
    result.overflowed = session.overflowed();
  } else {
    EventStreamSession<WebSocketFramer<Stream>> session(stream, tcp, request, upgrade, options,
                                                        stop.slot());
    if (stopping) stop.emit(asio::cancellation_type::terminal);
    result.graceful = co_await session.Run();
    result.overflowed = session.overflowed();
  }
  co_return result;
}

}  // namespace countersign
