#include "http/http_server.hpp"

#include <poll.h>

#include <algorithm>
#include <sstream>
#include <string>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/write.hpp>

#include "core/mutex_lock.hpp"
#include "http/access_log.hpp"
#include "http/clock_timer.hpp"
#include "http/http_connection.hpp"
#include "http/responses.hpp"
#include "http/tls_context.hpp"

namespace countersign {

HttpServer::HttpServer(asio::io_context& io, Router& router, Metrics& metrics, Alarms& alarms,
                       HttpServerOptions options)
    : io_(io),
      router_(router),
      metrics_(metrics),
      alarms_(alarms),
      options_(options),
      acceptor_(asio::make_strand(io)),
      accept_pause_(acceptor_.get_executor(), alarms) {}

HttpServer::~HttpServer() = default;

void HttpServer::LogAccess(const AccessEntry& entry, unsigned status) const {
  options_.access_log->info(AccessLog::Line(entry.method, entry.target, status, entry.principal,
                                            std::chrono::steady_clock::now() - entry.started));
}

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
  int failures_in_a_row = 0;
  while (!stopping_) {
    asio::any_io_executor executor = options_.connection_pool
                                         ? options_.connection_pool->Next()
                                         : asio::any_io_executor(asio::make_strand(io_));
    if (starting_.load() >= kMaxStartingConnections) {
      // The threads are behind: wait until this one has run what was queued before the
      // round trip.
      co_await asio::post(executor, asio::use_awaitable);
      if (stopping_) break;
    }
    auto [ec, socket] =
        co_await acceptor_.async_accept(executor, asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping_) break;
      // Out of file descriptors and similar: keep serving what is open, and try again after a
      // pause (the pending connection stays in the backlog).
      metrics_.CountAcceptFailure();
      if (auto left_out = accept_failures_.Allow()) {
        spdlog::warn("accept failed: {}{}; {} connections open, retrying with backoff",
                     ec.message(),
                     *left_out > 0 ? fmt::format(" ({} more since the last line)", *left_out) : "",
                     connections());
      }
      co_await BackOff(++failures_in_a_row);
      continue;
    }
    failures_in_a_row = 0;
    boost::system::error_code peer_ec;
    auto peer = socket.remote_endpoint(peer_ec);
    if (peer_ec) continue;  // gone already
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto connection = std::make_shared<Connection>(std::move(socket), peer.address());
    if (auto over = Admit(connection)) {
      metrics_.CountConnectionRefused();
      if (auto left_out = refusals_.Allow()) {
        spdlog::warn("connection from {} refused: {}{}", peer.address().to_string(), *over,
                     *left_out > 0 ? fmt::format(" ({} more since the last line)", *left_out) : "");
      }
      Refuse(connection->stream.socket(), *over);
      continue;
    }
    metrics_.ConnectionOpened();
    ++starting_;
    asio::post(connection->stream.get_executor(), [this, connection] { Begin(connection); });
  }
}

void HttpServer::Begin(const std::shared_ptr<Connection>& connection) {
  --starting_;
  Connection& c = *connection;
  if (tls_context_) {
    asio::co_spawn(c.stream.get_executor(), ServeTls(c),
                   [this, connection](std::exception_ptr failure) { Close(connection, failure); });
  } else {
    asio::co_spawn(c.stream.get_executor(), Session(c, c.stream),
                   [this, connection](std::exception_ptr failure, SessionEnd end) {
                     Ended(connection, failure, std::move(end));
                   });
  }
}

void HttpServer::WatchForClose(tcp::socket& socket, std::shared_ptr<ClientWatch> watch,
                               std::function<void()> abandon) {
  // A plain completion handler, not a coroutine: thousands of long-polls each hold one while
  // they wait, and a handler costs Asio's one operation block where a coroutine adds its frame
  // and an awaiter to it.
  socket.async_wait(
      tcp::socket::wait_read, [&socket, watch = std::move(watch),
                               abandon = std::move(abandon)](const boost::system::error_code& ec) {
        // Stopped: the session may have closed the socket since; touch nothing.
        if (watch->stopped || ec) return;
        watch->woke = true;
        // Readable: a close (possibly after a TLS close_notify), a reset, or more requests. Only
        // the first two show as a hang-up.
        pollfd state{socket.native_handle(), POLLIN | POLLRDHUP, 0};
        if (::poll(&state, 1, 0) == 1 && (state.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) {
          watch->gone = true;
          abandon();
        }
      });
}

asio::awaitable<void> HttpServer::BackOff(int failures_in_a_row) {
  const int doublings = std::min(failures_in_a_row - 1, 8);
  const auto pause = std::min<Millis>(Millis(5) * (1 << doublings), Millis(1000));
  accept_pause_.ExpiresAfter(pause);
  co_await accept_pause_.Wait();
}

std::optional<std::string> HttpServer::Admit(const std::shared_ptr<Connection>& connection) {
  MutexLock lock(mu_);
  if (options_.max_connections > 0 && connections_.size() >= options_.max_connections) {
    return "the server holds its maximum of " + std::to_string(options_.max_connections) +
           " connections ([limits] max_connections)";
  }
  size_t& from_peer = per_ip_[connection->peer];
  if (options_.max_connections_per_ip > 0 && from_peer >= options_.max_connections_per_ip) {
    return "the address holds its maximum of " + std::to_string(options_.max_connections_per_ip) +
           " connections ([limits] max_connections_per_ip)";
  }
  ++from_peer;
  connections_.insert(connection);
  return std::nullopt;
}

void HttpServer::Refuse(tcp::socket& socket, std::string_view why) {
  HttpResponse response =
      ErrorResponse(Error::Unavailable("too many connections: " + std::string(why)));
  response.set(http::field::server, "countersign");
  response.set(http::field::retry_after, "1");
  response.keep_alive(false);
  std::ostringstream text;
  text << response;
  // Never blocks the accept loop: what the socket's buffer takes is sent, the rest dropped.
  boost::system::error_code ignored;
  socket.non_blocking(true, ignored);
  socket.send(asio::buffer(text.str()), 0, ignored);
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
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
    if (connections_.erase(connection) > 0) {
      auto it = per_ip_.find(connection->peer);
      if (it != per_ip_.end() && --it->second == 0) per_ip_.erase(it);
    }
  }
  metrics_.ConnectionClosed();
}

}  // namespace countersign
