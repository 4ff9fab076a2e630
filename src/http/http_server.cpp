#include "http/http_server.hpp"

#include <functional>

#include <spdlog/spdlog.h>
#include <boost/beast/ssl.hpp>

#include "http/responses.hpp"
#include "http/sse_session.hpp"
#include "http/tls_context.hpp"
#include "http/websocket_session.hpp"

namespace countersign {
namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
// How long a closing TLS connection waits for the client's close_notify.
constexpr std::chrono::seconds kTlsShutdownTimeout{1};

using TlsStream = beast::ssl_stream<beast::tcp_stream&>;

// Expected ends of a connection, and failures of the client's TLS (a client that closes
// without close_notify gets stream_truncated): neither is logged nor answered.
bool IsQuietError(const boost::system::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::operation_aborted ||
         ec == beast::error::timeout || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::ssl::error::stream_truncated ||
         ec.category() == asio::error::get_ssl_category();
}

}  // namespace

struct HttpServer::Connection {
  explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}
  // The TCP layer, which owns the timeouts and which Shutdown() cancels; under TLS the
  // session wraps it in a TlsStream.
  beast::tcp_stream stream;
  bool busy = false;  // touched only on the connection's strand
  // Set while the connection runs a live stream: ends it (strand only).
  std::function<void()> stop_stream;
};

HttpServer::HttpServer(asio::io_context& io, Router& router, Metrics& metrics,
                       HttpServerOptions options)
    : io_(io),
      router_(router),
      metrics_(metrics),
      options_(options),
      acceptor_(asio::make_strand(io)) {}

HttpServer::~HttpServer() = default;

Result<tcp::endpoint> HttpServer::Listen(const tcp::endpoint& endpoint) {
  if (!options_.tls_cert_file.empty() || !options_.tls_key_file.empty()) {
    if (options_.tls_cert_file.empty() || options_.tls_key_file.empty()) {
      return Error::Invalid("TLS needs both a certificate chain file and a private key file");
    }
    auto context = MakeTlsServerContext(options_.tls_cert_file, options_.tls_key_file);
    if (!context.ok()) return std::move(context).error();
    tls_context_ = std::move(context).value();
  }
  boost::system::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Error::Unavailable("cannot listen on " + endpoint.address().to_string() + ":" +
                              std::to_string(endpoint.port()) + ": " + ec.message());
  }
  auto bound = acceptor_.local_endpoint(ec);
  if (ec) return Error::Unavailable("cannot read the bound address: " + ec.message());
  return bound;
}

void HttpServer::Start() {
  asio::co_spawn(acceptor_.get_executor(), AcceptLoop(), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::error("accept loop failed: {}", ex.what());
    }
  });
}

void HttpServer::Shutdown() {
  if (stopping_.exchange(true)) return;
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(mu_);
    open.assign(connections_.begin(), connections_.end());
  }
  for (auto& c : open) {
    asio::post(c->stream.get_executor(), [c] {
      // Busy connections see stopping_ and close after their response. The socket may
      // already be closed; the error_code overload never throws.
      boost::system::error_code ignored;
      if (c->stop_stream) {
        c->stop_stream();
      } else if (!c->busy) {
        c->stream.socket().cancel(ignored);
      }
    });
  }
}

size_t HttpServer::connections() const {
  std::lock_guard lock(mu_);
  return connections_.size();
}

asio::awaitable<void> HttpServer::AcceptLoop() {
  while (!stopping_) {
    asio::any_io_executor executor = options_.connection_pool
                                         ? options_.connection_pool->Next()
                                         : asio::any_io_executor(asio::make_strand(io_));
    auto [ec, socket] = co_await acceptor_.async_accept(executor, kAwait);
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping_) break;
      // Out of file descriptors and similar: log, and keep serving what is open.
      spdlog::warn("accept failed: {}", ec.message());
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto connection = std::make_shared<Connection>(std::move(socket));
    {
      std::lock_guard lock(mu_);
      connections_.insert(connection);
    }
    metrics_.ConnectionOpened();
    // Session()'s result (graceful or not) matters only inside ServeTls.
    auto closed = [this, connection](std::exception_ptr failure, auto&&...) {
      Close(connection, failure);
    };
    Connection& c = *connection;
    if (tls_context_) {
      asio::co_spawn(c.stream.get_executor(), ServeTls(c), std::move(closed));
    } else {
      asio::co_spawn(c.stream.get_executor(), Session(c, c.stream), std::move(closed));
    }
  }
}

void HttpServer::Close(const std::shared_ptr<Connection>& connection, std::exception_ptr failure) {
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& ex) {
      spdlog::error("connection failed: {}", ex.what());
    } catch (...) {
      spdlog::error("connection failed with a non-standard exception");
    }
  }
  boost::system::error_code ignored;
  connection->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  connection->stream.close();
  {
    std::lock_guard lock(mu_);
    connections_.erase(connection);
  }
  metrics_.ConnectionClosed();
}

asio::awaitable<void> HttpServer::ServeTls(Connection& connection) {
  TlsStream stream(connection.stream, *tls_context_);
  connection.stream.expires_after(options_.read_timeout);
  auto [handshake_ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, kAwait);
  if (handshake_ec) {
    // Plain HTTP sent to the HTTPS port, a client that distrusts the certificate, a port
    // scanner: the client's problem, so not a warning.
    spdlog::debug("TLS handshake failed: {}", handshake_ec.message());
    co_return;
  }
  const bool graceful = co_await Session(connection, stream);
  if (!graceful) co_return;
  // Sends close_notify and waits briefly for the client's; most clients just close.
  connection.stream.expires_after(kTlsShutdownTimeout);
  [[maybe_unused]] auto [shutdown_ec] = co_await stream.async_shutdown(kAwait);
}

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
      } else if (!IsQuietError(ec)) {
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
    auto [write_ec, written] = co_await http::async_write(stream, response, kAwait);
    if (write_ec) {
      if (!IsQuietError(write_ec)) spdlog::debug("write failed: {}", write_ec.message());
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
  auto [ec, unused_bytes] = co_await http::async_read(stream, buffer, parser, kAwait);
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
  bool graceful = false;
  bool overflowed = false;
  if (sse) {
    SseSession<Stream> session(stream, connection.stream, request, upgrade, stream_options);
    connection.stop_stream = [&session] { session.Stop(); };
    if (stopping_) session.Stop();
    graceful = co_await session.Run();
    overflowed = session.overflowed();
  } else {
    WebSocketSession<Stream> session(stream, connection.stream, request, upgrade, stream_options);
    connection.stop_stream = [&session] { session.Stop(); };
    if (stopping_) session.Stop();
    graceful = co_await session.Run();
    overflowed = session.overflowed();
  }
  connection.stop_stream = nullptr;
  metrics_.StreamClosed();
  if (overflowed) {
    metrics_.CountStreamOverflow();
    spdlog::info(
        "{} stream of {} (tenant {}) closed: the client fell {} events behind; it "
        "resumes with since={}",
        sse ? "event" : "WebSocket", feed.actor().name, feed.actor().tenant, feed.max_queue(),
        feed.position());
  }
  co_return graceful;
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
  auto [write_ec, written] = co_await http::async_write(stream, response, kAwait);
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
    auto [ec, n] = co_await tcp_stream.async_read_some(asio::buffer(sink), kAwait);
    if (ec) break;
    drained += n;
  }
}

}  // namespace countersign
