// The definitions of HttpServer's per-connection templates (the request loop, reading a
// request, handing a connection to an event stream, refusing a request). Included only by
// http_server_plain.cpp and http_server_tls.cpp, which compile them for one stream type each.
#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "http/access_log.hpp"
#include "http/connection_response_stream.hpp"
#include "http/deferred_answer.hpp"
#include "http/event_stream.hpp"
#include "http/http_connection.hpp"
#include "http/http_server.hpp"
#include "http/response_head.hpp"
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

// An obs-fold (a header line continued on the next, RFC 9112 §5.2): `head` is the request line
// and the header lines, each ending in CRLF.
inline bool HasObsoleteFold(std::string_view head) {
  return head.find("\n ") != std::string_view::npos || head.find("\n\t") != std::string_view::npos;
}

// The body's length is stated one way only (RFC 9112 §6.1, §6.3): any Transfer-Encoding but
// exactly one "chunked", or one sent with Content-Length, is how requests are smuggled past
// a proxy that reads the framing differently.
inline bool HasSafeFraming(const http::request_header<>& header) {
  const size_t codings = header.count(http::field::transfer_encoding);
  if (codings == 0) return true;
  if (codings > 1 || header.count(http::field::content_length) > 0) return false;
  if (header.version() < 11) return false;
  return beast::iequals(header[http::field::transfer_encoding], "chunked");
}

// What a client whose request could not be read is told, if anything.
inline std::optional<std::pair<Error, http::status>> RefusalFor(const boost::system::error_code& ec,
                                                                size_t body_limit) {
  if (ec == http::error::body_limit) {
    return std::pair{
        Error{ErrorCode::kTooLarge,
              "request body is larger than " + std::to_string(body_limit) + " bytes", nullptr},
        http::status::payload_too_large};
  }
  if (ec == http::error::header_limit) {
    return std::pair{Error{ErrorCode::kTooLarge, "request headers are too large", nullptr},
                     http::status::request_header_fields_too_large};
  }
  if (ec == http::error::bad_transfer_encoding) {
    return std::pair{Error::Malformed("Transfer-Encoding must be exactly \"chunked\" (HTTP/1.1), "
                                      "and never sent with Content-Length"),
                     http::status::bad_request};
  }
  if (ec == http::error::bad_content_length) {
    return std::pair{Error::Malformed("malformed Content-Length, or Content-Length sent with "
                                      "Transfer-Encoding"),
                     http::status::bad_request};
  }
  if (ec == http::error::bad_value) {
    return std::pair{Error::Malformed("malformed header value (folded header lines are refused)"),
                     http::status::bad_request};
  }
  if (IsQuietError(ec)) return std::nullopt;
  return std::pair{Error::Malformed("malformed HTTP request"), http::status::bad_request};
}

}  // namespace http_session

template <typename Stream>
asio::awaitable<HttpServer::SessionEnd> HttpServer::Session(Connection& connection, Stream& stream,
                                                            beast::flat_buffer buffer) {
  beast::tcp_stream& tcp_stream = connection.stream;
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
      if (auto refused = http_session::RefusalFor(ec, options_.body_limit)) {
        refusal = std::move(refused->first);
        refusal_status = refused->second;
      }
      // The client closed, or Shutdown() cancelled an idle read: both ends are in step.
      graceful = ec == http::error::end_of_stream || ec == asio::error::operation_aborted;
      break;
    }
    const bool keep_alive = request.keep_alive();
    const http::verb request_method = request.method();
    std::optional<AccessEntry> access;
    if (options_.access_log) {
      access.emplace();
      access->method = std::string(request.method_string());
      access->target = AccessLog::RedactedTarget(request.target());
      access->started = std::chrono::steady_clock::now();
    }
    // The handler may long-poll; the read timeout covers reading, not waiting.
    tcp_stream.expires_never();
    Router::Routed routed;
    try {
      std::optional<Error> misdirected;
      if (options_.host_guard) misdirected = options_.host_guard->Check(request);
      if (misdirected) {
        routed.response = ErrorResponse(*misdirected);
      } else {
        routed = co_await router_.Route(request, connection.peer);
      }
      if (routed.deferred) {
        if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
          // A long-poll over plain TCP: this coroutine ends, Ended() parks the connection, and
          // AnswerParked() is spawned to answer once the answer is ready.
          SessionEnd parked;
          parked.parked = std::make_shared<Parked>();
          Parked& p = *parked.parked;
          p.deferred = std::move(routed.deferred);
          if (buffer.size() > 0) p.buffer = std::move(buffer);
          if (access) {
            access->principal = routed.principal;
            p.access = std::make_unique<AccessEntry>(std::move(*access));
          }
          p.keep_alive = keep_alive;
          p.head = request_method == http::verb::head;
          co_return parked;
        } else {
          // Under TLS the stream lives in ServeTls()'s frame: the wait happens here. While it
          // waits, hold neither the request nor an empty read buffer, and notice a client that
          // leaves (its waiter and descriptor are freed at once).
          request = {};
          if (buffer.size() == 0) buffer.shrink_to_fit();
          std::shared_ptr<DeferredAnswer> deferred = std::move(routed.deferred);
          auto watch = std::make_shared<ClientWatch>();
          WatchForClose(tcp_stream.socket(), watch, [deferred] { deferred->Abandon(); });
          co_await AwaitReady(*deferred);
          routed.response = co_await deferred->Answer();
          deferred.reset();
          watch->stopped = true;
          if (!watch->woke) {
            boost::system::error_code ignored;
            tcp_stream.socket().cancel(ignored);
          }
          if (watch->gone) {
            graceful = false;
            break;
          }
        }
      }
    } catch (const std::exception& ex) {
      spdlog::error("{} {} failed: {}", std::string(request.method_string()),
                    std::string(request.target()), ex.what());
      routed.response = ErrorResponse(Error::Internal("internal error"));
      routed.deferred.reset();
      routed.upgrade.reset();
      routed.streamed = nullptr;
    }
    if (access) access->principal = routed.principal;
    if (routed.upgrade) {
      // The stream is the connection's last exchange.
      const unsigned stream_status =
          routed.upgrade->protocol == StreamProtocol::kServerSentEvents ? 200 : 101;
      graceful = co_await RunStream(connection, stream, request, *routed.upgrade);
      if (access) LogAccess(*access, stream_status);
      break;
    }
    if (routed.streamed) {
      // So is a response written while the handler works.
      const unsigned version = request.version();
      request = {};
      graceful = co_await RunStreamedResponse(connection, stream, version, routed, access);
      break;
    }
    const bool head = request_method == http::verb::head;
    const bool go_on = co_await WriteAnswer(connection, stream, routed.response, keep_alive, head,
                                            access ? &*access : nullptr, graceful);
    if (!go_on) break;
  }
  if (refusal) {
    co_await RefuseAndLinger(connection, stream, *refusal, refusal_status);
    graceful = false;
  }
  SessionEnd end;
  end.graceful = graceful;
  co_return end;
}

template <typename Stream>
asio::awaitable<bool> HttpServer::WriteAnswer(Connection& connection, Stream& stream,
                                              HttpResponse& response, bool keep_alive, bool head,
                                              const AccessEntry* access, bool& graceful) {
  if (head) {
    // The GET route's answer, headers only (its Content-Length stays).
    const size_t length = response.body().size();
    response.body().clear();
    response.content_length(length);
  }
  response.set(http::field::server, "countersign");
  response.keep_alive(keep_alive && !stopping_);
  metrics_.CountResponse(response.result_int());
  connection.stream.expires_after(options_.read_timeout);
  boost::system::error_code write_ec;
  if (response.chunked()) {
    auto [ec, written] = co_await http::async_write(stream, response, http_session::kAwait);
    write_ec = ec;
  } else {
    // The head and the body in one gather write, without Beast's serializer.
    const std::string head = ResponseHead(response);
    const std::array<asio::const_buffer, 2> bytes{asio::buffer(head),
                                                  asio::buffer(response.body())};
    auto [ec, written] = co_await asio::async_write(stream, bytes, http_session::kAwait);
    write_ec = ec;
  }
  if (access) LogAccess(*access, response.result_int());
  if (write_ec) {
    if (!http_session::IsQuietError(write_ec))
      spdlog::debug("write failed: {}", write_ec.message());
    graceful = false;
    co_return false;
  }
  co_return response.keep_alive();
}

template <typename Stream>
asio::awaitable<boost::system::error_code> HttpServer::ReadRequest(Stream& stream,
                                                                   beast::flat_buffer& buffer,
                                                                   HttpRequest& request) {
  // The whole header first, to look at its raw bytes: Beast joins folded lines silently.
  size_t end = std::string_view::npos;
  for (;;) {
    const std::string_view seen(static_cast<const char*>(buffer.data().data()), buffer.size());
    end = seen.find("\r\n\r\n");
    if (end != std::string_view::npos) break;
    if (buffer.size() > options_.header_limit) co_return http::error::header_limit;
    auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), http_session::kAwait);
    if (ec) {
      if (ec == asio::error::eof) {
        co_return buffer.size() == 0 ? http::error::end_of_stream : http::error::partial_message;
      }
      co_return ec;
    }
    buffer.commit(n);
  }
  const std::string_view head(static_cast<const char*>(buffer.data().data()), end + 2);
  if (http_session::HasObsoleteFold(head)) co_return http::error::bad_value;

  http::request_parser<http::string_body> parser;
  parser.body_limit(options_.body_limit);
  parser.header_limit(static_cast<uint32_t>(options_.header_limit));
  {
    auto [ec, unused] =
        co_await http::async_read_header(stream, buffer, parser, http_session::kAwait);
    if (ec) co_return ec;
  }
  if (!http_session::HasSafeFraming(parser.get())) co_return http::error::bad_transfer_encoding;
  if (!parser.is_done()) {
    auto [ec, unused] = co_await http::async_read(stream, buffer, parser, http_session::kAwait);
    if (ec) co_return ec;
  }
  request = parser.release();
  co_return boost::system::error_code();
}

template <typename Stream>
asio::awaitable<bool> HttpServer::RunStream(Connection& connection, Stream& stream,
                                            const HttpRequest& request, StreamUpgrade& upgrade) {
  StreamSessionOptions stream_options;
  stream_options.heartbeat = options_.stream_heartbeat;
  stream_options.write_timeout = options_.read_timeout;
  stream_options.alarms = &alarms_;
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
asio::awaitable<bool> HttpServer::RunStreamedResponse(Connection& connection, Stream& stream,
                                                      unsigned version, Router::Routed& routed,
                                                      const std::optional<AccessEntry>& access) {
  beast::tcp_stream& tcp_stream = connection.stream;
  auto watch = std::make_shared<ClientWatch>();
  if (routed.abandon) WatchForClose(tcp_stream.socket(), watch, std::move(routed.abandon));
  ConnectionResponseStream<Stream> out(stream, tcp_stream, version, options_.read_timeout);
  metrics_.StreamOpened();
  try {
    co_await routed.streamed(out);
  } catch (const std::exception& ex) {
    spdlog::error("streamed response failed: {}", ex.what());
  }
  metrics_.StreamClosed();
  routed.streamed = nullptr;
  watch->stopped = true;
  if (!watch->woke) {
    boost::system::error_code ignored;
    tcp_stream.socket().cancel(ignored);
  }
  if (!out.opened()) {
    // Nothing was written: the client gets a plain error rather than an empty connection.
    HttpResponse response = ErrorResponse(Error::Internal("the response could not be produced"));
    const bool opened = co_await out.Open(response);
    if (opened) (void)co_await out.Write(response.body());
  }
  if (out.opened()) metrics_.CountResponse(out.status());
  if (access) LogAccess(*access, out.opened() ? out.status() : 0);
  co_return !out.failed() && !watch->gone;
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
