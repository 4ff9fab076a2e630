// The definitions of HttpServer's per-connection templates (the request loop, reading a
// request, handing a connection to an event stream, refusing a request). Included only by
// http_server_plain.cpp and http_server_tls.cpp, which compile them for one stream type each.
#pragma once

#include <array>
#include <chrono>
#include <optional>
#include <string>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "http/event_stream.hpp"
#include "http/http_connection.hpp"
#include "http/http_server.hpp"
#include "http/responses.hpp"

namespace countersign {
namespace http_session {

inline constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

// Expected ends of a connection, and failures of the client's TLS (a client that closes
// without close_notify gets stream_truncated): neither is logged nor answered.
inline bool IsQuietError(const boost::system::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::operation_aborted ||
         ec == beast::error::timeout || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::ssl::error::stream_truncated ||
         ec.category() == asio::error::get_ssl_category();
}

}  // namespace http_session

template <typename Stream>
asio::awaitable<bool> HttpServer::Session(Connection& connection, Stream& stream) {
  beast::tcp_stream& tcp_stream = connection.stream;
  beast::flat_buffer buffer;
  // GCC 12 miscompiles temporaries with destructors inside co_await expressions (double
  // destruction), so the refusal is built here and passed by reference.
  std::optional<Error> refusal;
  http::status refusal_status = http::status::bad_request;
  bool graceful = true;
  for (;;) {
    connection.busy = false;
    if (stopping_) break;
    HttpRequest request;
    tcp_stream.expires_after(options_.read_timeout);
    const boost::system::error_code ec = co_await ReadRequest(stream, buffer, request);
    connection.busy = true;
    if (ec) {
      if (ec == http::error::body_limit) {
        refusal =
            Error{ErrorCode::kTooLarge,
                  "request body is larger than " + std::to_string(options_.body_limit) + " bytes",
                  nullptr};
        refusal_status = http::status::payload_too_large;
      } else if (ec == http::error::header_limit) {
        refusal = Error{ErrorCode::kTooLarge, "request headers are too large", nullptr};
        refusal_status = http::status::request_header_fields_too_large;
      } else if (!http_session::IsQuietError(ec)) {
        refusal = Error::Malformed("malformed HTTP request");
        refusal_status = http::status::bad_request;
      }
      // The client closed, or Shutdown() cancelled an idle read: both ends are in step.
      graceful = ec == http::error::end_of_stream || ec == asio::error::operation_aborted;
      break;
    }
    const bool keep_alive = request.keep_alive();
    // The handler may long-poll; the read timeout covers reading, not waiting.
    tcp_stream.expires_never();
    Router::Routed routed;
    try {
      routed = co_await router_.Route(request);
      if (routed.deferred) {
        // A long-poll: while it waits, hold neither the request nor an empty read buffer.
        request = {};
        if (buffer.size() == 0) buffer.shrink_to_fit();
        routed.response = co_await std::move(*routed.deferred);
        routed.deferred.reset();
      }
    } catch (const std::exception& ex) {
      spdlog::error("{} {} failed: {}", std::string(request.method_string()),
                    std::string(request.target()), ex.what());
      routed.response = ErrorResponse(Error::Internal("internal error"));
      routed.deferred.reset();
      routed.upgrade.reset();
    }
    if (routed.upgrade) {
      // The stream is the connection's last exchange.
      graceful = co_await RunStream(connection, stream, request, *routed.upgrade);
      break;
    }
    HttpResponse& response = routed.response;
    response.set(http::field::server, "countersign");
    response.keep_alive(keep_alive && !stopping_);
    metrics_.CountResponse(response.result_int());
    tcp_stream.expires_after(options_.read_timeout);
    auto [write_ec, written] = co_await http::async_write(stream, response, http_session::kAwait);
    if (write_ec) {
      if (!http_session::IsQuietError(write_ec))
        spdlog::debug("write failed: {}", write_ec.message());
      graceful = false;
      break;
    }
    if (!response.keep_alive()) break;
  }
  if (refusal) {
    co_await RefuseAndLinger(connection, stream, *refusal, refusal_status);
    co_return false;
  }
  co_return graceful;
}

template <typename Stream>
asio::awaitable<boost::system::error_code> HttpServer::ReadRequest(Stream& stream,
                                                                   beast::flat_buffer& buffer,
                                                                   HttpRequest& request) {
  http::request_parser<http::string_body> parser;
  parser.body_limit(options_.body_limit);
  parser.header_limit(static_cast<uint32_t>(options_.header_limit));
  auto [ec, unused_bytes] = co_await http::async_read(stream, buffer, parser, http_session::kAwait);
  if (!ec) request = parser.release();
  co_return ec;
}

template <typename Stream>
asio::awaitable<bool> HttpServer::RunStream(Connection& connection, Stream& stream,
                                            const HttpRequest& request, StreamUpgrade& upgrade) {
  StreamSessionOptions stream_options;
  stream_options.heartbeat = options_.stream_heartbeat;
  stream_options.write_timeout = options_.read_timeout;
  EventFeed& feed = *upgrade.feed;
  const bool sse = upgrade.protocol == StreamProtocol::kServerSentEvents;
  metrics_.CountResponse(sse ? 200 : 101);
  metrics_.StreamOpened();
  const EventStreamResult result =
      co_await RunEventStream(stream, connection.stream, request, upgrade, stream_options,
                              connection.stop_stream, stopping_.load());
  metrics_.StreamClosed();
  if (result.overflowed) {
    metrics_.CountStreamOverflow();
    spdlog::info(
        "{} stream of {} (tenant {}) closed: the client fell {} events behind; it "
        "resumes with since={}",
        sse ? "event" : "WebSocket", feed.actor().name, feed.actor().tenant, feed.max_queue(),
        feed.position());
  }
  co_return result.graceful;
}

template <typename Stream>
asio::awaitable<void> HttpServer::RefuseAndLinger(Connection& connection, Stream& stream,
                                                  const Error& error, http::status status) {
  beast::tcp_stream& tcp_stream = connection.stream;
  HttpResponse response = ErrorResponse(error);
  response.result(status);
  response.set(http::field::server, "countersign");
  response.keep_alive(false);
  metrics_.CountResponse(response.result_int());
  tcp_stream.expires_after(options_.read_timeout);
  auto [write_ec, written] = co_await http::async_write(stream, response, http_session::kAwait);
  if (write_ec) co_return;
  // Closing with unread input makes the kernel send RST, which can destroy the response
  // before the client reads it. Half-close and drain what the client is still sending; under
  // TLS the drained records are discarded undecrypted.
  boost::system::error_code ignored;
  tcp_stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  tcp_stream.expires_after(std::chrono::seconds(5));
  std::array<char, 16384> sink;
  size_t drained = 0;
  while (drained < 8 * options_.body_limit) {
    auto [ec, n] = co_await tcp_stream.async_read_some(asio::buffer(sink), http_session::kAwait);
    if (ec) break;
    drained += n;
  }
}

}  // namespace countersign
