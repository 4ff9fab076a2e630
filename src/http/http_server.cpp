#include "http/http_server.hpp"

#include <spdlog/spdlog.h>

#include "http/responses.hpp"

namespace countersign {
namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

bool IsQuietError(const boost::system::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::operation_aborted ||
         ec == beast::error::timeout || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe;
}

}  // namespace

struct HttpServer::Connection {
  explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  bool busy = false;  // touched only on the connection's strand
};

HttpServer::HttpServer(asio::io_context& io, Router& router, Metrics& metrics,
                       HttpServerOptions options)
    : io_(io),
      router_(router),
      metrics_(metrics),
      options_(options),
      acceptor_(asio::make_strand(io)) {}

Result<tcp::endpoint> HttpServer::Listen(const tcp::endpoint& endpoint) {
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
      if (!c->busy) c->stream.socket().cancel(ignored);
    });
  }
}

size_t HttpServer::connections() const {
  std::lock_guard lock(mu_);
  return connections_.size();
}

asio::awaitable<void> HttpServer::AcceptLoop() {
  while (!stopping_) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(io_), kAwait);
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
    asio::co_spawn(connection->stream.get_executor(), Serve(connection),
                   [this, connection](std::exception_ptr e) {
                     if (e) {
                       try {
                         std::rethrow_exception(e);
                       } catch (const std::exception& ex) {
                         spdlog::error("connection failed: {}", ex.what());
                       }
                     }
                     {
                       std::lock_guard lock(mu_);
                       connections_.erase(connection);
                     }
                     metrics_.ConnectionClosed();
                   });
  }
}

asio::awaitable<void> HttpServer::Serve(std::shared_ptr<Connection> connection) {
  beast::tcp_stream& stream = connection->stream;
  beast::flat_buffer buffer;
  // GCC 12 miscompiles temporaries with destructors inside co_await expressions (double
  // destruction), so the refusal is built here and passed by reference.
  std::optional<Error> refusal;
  http::status refusal_status = http::status::bad_request;
  for (;;) {
    connection->busy = false;
    if (stopping_) break;
    http::request_parser<http::string_body> parser;
    parser.body_limit(options_.body_limit);
    parser.header_limit(static_cast<uint32_t>(options_.header_limit));
    stream.expires_after(options_.read_timeout);
    auto [ec, unused_bytes] = co_await http::async_read(stream, buffer, parser, kAwait);
    connection->busy = true;
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
      break;
    }
    HttpRequest request = parser.release();
    // The handler may long-poll; the read timeout covers reading, not waiting.
    stream.expires_never();
    HttpResponse response;
    try {
      response = co_await router_.Dispatch(request);
    } catch (const std::exception& ex) {
      spdlog::error("{} {} failed: {}", std::string(request.method_string()),
                    std::string(request.target()), ex.what());
      response = ErrorResponse(Error::Internal("internal error"));
    }
    response.set(http::field::server, "countersign");
    response.keep_alive(request.keep_alive() && !stopping_);
    metrics_.CountResponse(response.result_int());
    stream.expires_after(options_.read_timeout);
    auto [write_ec, written] = co_await http::async_write(stream, response, kAwait);
    if (write_ec) {
      if (!IsQuietError(write_ec)) spdlog::debug("write failed: {}", write_ec.message());
      break;
    }
    if (!response.keep_alive()) break;
  }
  if (refusal) co_await RefuseAndLinger(*connection, *refusal, refusal_status);
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.close();
}

asio::awaitable<void> HttpServer::RefuseAndLinger(Connection& connection, const Error& error,
                                                  http::status status) {
  beast::tcp_stream& stream = connection.stream;
  HttpResponse response = ErrorResponse(error);
  response.result(status);
  response.set(http::field::server, "countersign");
  response.keep_alive(false);
  metrics_.CountResponse(response.result_int());
  stream.expires_after(options_.read_timeout);
  auto [write_ec, written] = co_await http::async_write(stream, response, kAwait);
  if (write_ec) co_return;
  // Closing with unread input makes the kernel send RST, which can destroy the response
  // before the client reads it. Half-close and drain what the client is still sending.
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.expires_after(std::chrono::seconds(5));
  std::array<char, 16384> sink;
  size_t drained = 0;
  while (drained < 8 * options_.body_limit) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), kAwait);
    if (ec) break;
    drained += n;
  }
}

}  // namespace countersign
