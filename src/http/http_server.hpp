// HttpServer: the listener and its HTTP/1.1 sessions (Boost.Beast, C++20 coroutines).
//
// Each connection is one coroutine on its own strand. Limits: request body (413), header
// block (431), an idle/read timeout, and one request in flight per connection (pipelined
// requests wait in the read buffer; they are read only after the previous answer is
// written). Shutdown() stops accepting, closes idle keep-alive connections, and lets busy
// ones finish their current response with "Connection: close". Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_set>

#include "core/result.hpp"
#include "http/beast.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"

namespace countersign {

struct HttpServerOptions {
  size_t body_limit = 1 << 20;
  size_t header_limit = 16 << 10;
  std::chrono::seconds read_timeout{30};
};

class HttpServer {
 public:
  HttpServer(asio::io_context& io, Router& router, Metrics& metrics, HttpServerOptions options);

  // Binds and listens; returns the bound endpoint (port 0 picks a free port).
  Result<tcp::endpoint> Listen(const tcp::endpoint& endpoint);
  void Start();
  void Shutdown();

  size_t connections() const;

 private:
  struct Connection;

  asio::awaitable<void> AcceptLoop();
  asio::awaitable<void> Serve(std::shared_ptr<Connection> connection);
  asio::awaitable<void> RefuseAndLinger(Connection& connection, const Error& error,
                                        http::status status);

  asio::io_context& io_;
  Router& router_;
  Metrics& metrics_;
  HttpServerOptions options_;
  tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::unordered_set<std::shared_ptr<Connection>> connections_;  // guarded by mu_
};

}  // namespace countersign
