// SseSession: a GET /v1/events connection after its hand-over, speaking Server-Sent Events.
//
// Run() starts the feed (subscribing before anything is written, so once the client has the
// response head no later event can be missed), writes the 200 head (text/event-stream, no
// caching, no proxy buffering, Connection: close) and then one "id/event/data" message per
// event, batched into at most one write in flight. An idle stream sends a ": keep-alive"
// comment every heartbeat. A concurrent read notices the client leaving.
//
// The stream ends when the client closes, a write fails or times out, Stop() is called
// (server shutdown), the caller's token stops authenticating (checked once per heartbeat), or
// the feed overflows: then, if no write was in flight, a last
// "event: overflow" message says where to resume (written with a short timeout); a write that
// was stuck in flight is cancelled and the connection simply closes. Either way the client
// resumes with Last-Event-ID.
//
// `Stream` is the connection's beast::tcp_stream or a TLS stream over it; `tcp` is the TCP
// layer (timeouts, cancellation). Everything runs on the connection's strand; the feed's
// wake-ups arrive from the store's writer thread through a StreamSignal.
#pragma once

#include <array>
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "http/beast.hpp"
#include "http/credential_recheck.hpp"
#include "http/event_frames.hpp"
#include "http/stream_session_options.hpp"
#include "http/stream_signal.hpp"
#include "http/stream_upgrade.hpp"

namespace countersign {

template <typename Stream>
class SseSession {
 public:
  SseSession(Stream& stream, beast::tcp_stream& tcp, const HttpRequest& request,
             StreamUpgrade& upgrade, StreamSessionOptions options)
      : stream_(stream),
        tcp_(tcp),
        request_(request),
        feed_(*upgrade.feed),
        options_(options),
        credentials_(upgrade.authorized, options.heartbeat),
        signal_(std::make_shared<StreamSignal>(tcp.get_executor())) {}
  SseSession(const SseSession&) = delete;
  SseSession& operator=(const SseSession&) = delete;

  // Returns true when the connection may be closed gracefully (nothing is left half-written).
  asio::awaitable<bool> Run();
  // Strand only. Ends the stream promptly; a write in flight is cancelled.
  void Stop();
  // Whether the stream ended because the client fell behind.
  bool overflowed() const { return overflowed_; }

 private:
  static constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
  // How long the last "overflow" message may take to go out.
  static constexpr std::chrono::seconds kOverflowNoticeTimeout{2};

  asio::awaitable<bool> Write(const std::string& text, std::chrono::seconds timeout);
  asio::awaitable<void> DiscardInput();
  void Cancel();
  void OnNotify();

  Stream& stream_;
  beast::tcp_stream& tcp_;
  const HttpRequest& request_;
  EventFeed& feed_;
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
asio::awaitable<bool> SseSession<Stream>::Run() {
  auto signal = signal_;
  feed_.Start([signal] { signal->Notify(); });
  signal_->on_notify = [this] { OnNotify(); };

  http::response<http::empty_body> head{http::status::ok, request_.version()};
  head.set(http::field::server, "countersign");
  head.set(http::field::content_type, "text/event-stream; charset=utf-8");
  head.set(http::field::cache_control, "no-store");
  head.set("X-Accel-Buffering", "no");
  // The body runs until the connection closes: no length, no chunking.
  head.keep_alive(false);
  http::response_serializer<http::empty_body> serializer{head};
  tcp_.expires_after(options_.write_timeout);
  writing_ = true;
  auto [head_ec, head_bytes] = co_await http::async_write_header(stream_, serializer, kAwait);
  writing_ = false;
  bool graceful = !head_ec;

  if (graceful) {
    // Reads never time out (an SSE client sends nothing); each write sets its own deadline.
    tcp_.expires_never();
    reading_ = true;
    asio::co_spawn(tcp_.get_executor(), DiscardInput(), [this](std::exception_ptr) {
      reading_ = false;
      signal_->NotifyOnStrand();
    });
  }
  std::string out;
  while (graceful && !stopped_ && reading_) {
    if (!credentials_.StillAuthorized()) {
      spdlog::info("event stream of {} closed: its token no longer authenticates",
                   feed_.actor().name);
      break;
    }
    auto batch = feed_.Next(options_.batch_events);
    if (!batch.ok()) {
      spdlog::warn("event stream of {} ended: {}", feed_.actor().name, batch.error().message);
      break;
    }
    out.clear();
    for (const auto& event : batch->events) AppendSseEvent(out, *event);
    // co_await only as a whole statement: GCC 12 mishandles it inside conditions.
    if (!out.empty()) {
      const bool written = co_await Write(out, options_.write_timeout);
      if (!written) {
        graceful = false;
        break;
      }
    }
    if (batch->state == EventSubscription::State::kOverflowed) {
      overflowed_ = true;
      out = SseOverflowMessage(feed_.position());
      graceful = co_await Write(out, kOverflowNoticeTimeout);
      break;
    }
    if (batch->state == EventSubscription::State::kClosed) break;
    if (!batch->events.empty()) continue;
    if (batch->more) {
      // A replay page held nothing this client may see: let other connections run first.
      co_await asio::post(tcp_.get_executor(), asio::use_awaitable);
      continue;
    }
    const bool woken = co_await signal_->Wait(options_.heartbeat);
    if (woken) continue;
    if (stopped_ || !reading_) break;
    out = kSseHeartbeat;
    graceful = co_await Write(out, options_.write_timeout);
  }
  signal_->on_notify = nullptr;
  if (feed_.live_state() == EventSubscription::State::kOverflowed) overflowed_ = true;
  Cancel();
  while (reading_) co_await signal_->Wait(std::chrono::seconds(1));
  co_return graceful;
}

template <typename Stream>
void SseSession<Stream>::Stop() {
  stopped_ = true;
  if (writing_) Cancel();
  signal_->NotifyOnStrand();
}

template <typename Stream>
asio::awaitable<bool> SseSession<Stream>::Write(const std::string& text,
                                                std::chrono::seconds timeout) {
  tcp_.expires_after(timeout);
  writing_ = true;
  auto [ec, written] = co_await asio::async_write(stream_, asio::buffer(text), kAwait);
  writing_ = false;
  if (ec) spdlog::debug("event stream write failed: {}", ec.message());
  co_return !ec;
}

template <typename Stream>
asio::awaitable<void> SseSession<Stream>::DiscardInput() {
  try {
    std::array<char, 512> sink;
    for (;;) {
      auto [ec, n] = co_await stream_.async_read_some(asio::buffer(sink), kAwait);
      if (ec) break;
    }
  } catch (const std::exception& ex) {
    spdlog::error("event stream reader failed: {}", ex.what());
  }
}

template <typename Stream>
void SseSession<Stream>::Cancel() {
  boost::system::error_code ignored;
  tcp_.socket().cancel(ignored);
}

template <typename Stream>
void SseSession<Stream>::OnNotify() {
  // A write stuck in flight while the queue overflowed: the client is not reading. The
  // notice could not get through either, so cut the connection now.
  if (writing_ && feed_.live_state() == EventSubscription::State::kOverflowed) {
    overflowed_ = true;
    Cancel();
  }
}

}  // namespace countersign
