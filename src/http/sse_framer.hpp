// SseFramer: the Server-Sent Events side of an EventStreamSession (GET /v1/events).
//
// Open() writes the 200 head (text/event-stream, no caching, no proxy buffering, Connection:
// close; the body runs until the connection closes, with no length and no chunking). Each batch
// of events goes out as one write of "id/event/data" messages; an idle stream gets a
// ": keep-alive" comment every heartbeat. Every write has the write timeout on the TCP layer;
// reads never time out (an SSE client sends nothing, and ReadUntilClosed() only notices it
// leaving). A stream cut off for falling behind ends with an "event: overflow" message, written
// with a short timeout, saying where to resume; other ends say nothing.
//
// `Stream` is the connection's beast::tcp_stream or a TLS stream over it; `tcp` is the TCP
// layer. Used on the connection's strand only, by one session.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>

#include "engine/event_feed.hpp"
#include "http/beast.hpp"
#include "http/event_frames.hpp"
#include "http/stream_end.hpp"
#include "http/stream_session_options.hpp"
#include "http/stream_upgrade.hpp"

namespace countersign {

template <typename Stream>
class SseFramer {
 public:
  // Names the stream in the log ("event stream of alice closed").
  static constexpr std::string_view kName = "event";

  SseFramer(Stream& stream, beast::tcp_stream& tcp, const StreamUpgrade& /*upgrade*/,
            StreamSessionOptions options)
      : stream_(stream), tcp_(tcp), options_(options) {}

  // Writes the response head. False when the connection failed.
  asio::awaitable<bool> Open(const HttpRequest& request) {
    http::response<http::empty_body> head{http::status::ok, request.version()};
    head.set(http::field::server, "countersign");
    head.set(http::field::content_type, "text/event-stream; charset=utf-8");
    head.set(http::field::cache_control, "no-store");
    head.set("X-Accel-Buffering", "no");
    head.keep_alive(false);
    http::response_serializer<http::empty_body> serializer{head};
    tcp_.expires_after(options_.write_timeout);
    auto [ec, written] = co_await http::async_write_header(stream_, serializer, kAwait);
    // Each write sets its own deadline; the reads must not have one.
    if (!ec) tcp_.expires_never();
    co_return !ec;
  }

  // Reads and discards until the client closes or the read is cancelled.
  asio::awaitable<void> ReadUntilClosed() {
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

  // The writes that carry `events`: one, holding them all (none when there are none).
  void Frame(const std::vector<EventFeed::EventPtr>& events, std::vector<std::string>& writes) {
    if (events.empty()) return;
    std::string out;
    for (const auto& event : events) AppendSseEvent(out, *event);
    writes.push_back(std::move(out));
  }

  asio::awaitable<bool> Write(const std::string& text) {
    const bool written = co_await WriteWithin(text, options_.write_timeout);
    co_return written;
  }

  // The heartbeat of an idle stream.
  asio::awaitable<bool> Idle() {
    // Named, not a temporary: GCC 12 mishandles temporaries inside co_await expressions.
    const std::string heartbeat = kSseHeartbeat;
    const bool written = co_await WriteWithin(heartbeat, options_.write_timeout);
    co_return written;
  }

  // The last words of a stream whose connection still works: the overflow message, or nothing.
  // Returns whether the connection may be closed gracefully.
  asio::awaitable<bool> Close(StreamEnd end, int64_t position, bool /*client_reading*/) {
    if (end != StreamEnd::kOverflowed) co_return true;
    const std::string notice = SseOverflowMessage(position);
    const bool written = co_await WriteWithin(notice, kOverflowNoticeTimeout);
    co_return written;
  }

 private:
  static constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
  // How long the last "overflow" message may take to go out.
  static constexpr std::chrono::seconds kOverflowNoticeTimeout{2};

  asio::awaitable<bool> WriteWithin(const std::string& text, std::chrono::seconds timeout) {
    tcp_.expires_after(timeout);
    auto [ec, written] = co_await asio::async_write(stream_, asio::buffer(text), kAwait);
    if (ec) spdlog::debug("event stream write failed: {}", ec.message());
    co_return !ec;
  }

  Stream& stream_;
  beast::tcp_stream& tcp_;
  const StreamSessionOptions options_;
};

}  // namespace countersign
