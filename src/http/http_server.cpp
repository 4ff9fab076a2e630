#include "http/http_server.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/mutex_lock.hpp"
#include "http/http_connection.hpp"
#include "http/tls_context.hpp"

namespace countersign {

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
    MutexLock lock(mu_);
    open.assign(connections_.begin(), connections_.end());
  }
  for (auto& c : open) {
    asio::post(c->stream.get_executor(), [c] {
      // Busy connections see stopping_ and close after their response. The socket may
      // already be closed; the error_code overload never throws.
      boost::system::error_code ignored;
      if (c->stop_stream.slot().has_handler()) {
        c->stop_stream.emit(asio::cancellation_type::terminal);
      } else if (!c->busy) {
        c->stream.socket().cancel(ignored);
      }
    });
  }
}

size_t HttpServer::connections() const {
  MutexLock lock(mu_);
  return connections_.size();
}

asio::awaitable<void> HttpServer::AcceptLoop() {
  while (!stopping_) {
    asio::any_io_executor executor = options_.connection_pool
                                         ? options_.connection_pool->Next()
                                         : asio::any_io_executor(asio::make_strand(io_));
    auto [ec, socket] =
        co_await acceptor_.async_accept(executor, asio::as_tuple(asio::use_awaitable));
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
      MutexLock lock(mu_);
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
    MutexLock lock(mu_);
    connections_.erase(connection);
  }
  metrics_.ConnectionClosed();
}

}  // namespace countersign
