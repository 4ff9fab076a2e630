// HttpServer: the listener and its HTTP/1.1 sessions (Boost.Beast, C++20 coroutines).
//
// Speaks plain HTTP, or HTTPS when HttpServerOptions names a certificate and key; both run
// the same session. Each connection is one coroutine, on a context of the connection pool when
// the options name one (IoContextPool: one thread per context), else on a strand of its own.
// Limits: request body (413), header block (431), an idle/read timeout (which also bounds the TLS
// handshake), and one request in flight per connection (pipelined requests wait in the read buffer;
// they are read only after the previous answer is written). Shutdown() stops accepting, closes idle
// keep-alive connections, lets busy ones finish their current response with
// "Connection: close", and ends live event streams at once. A stream route (GET /v1/events,
// GET /v1/ws) takes its connection over: the session runs an EventStreamSession on
// the connection's executor, over the same plain or TLS stream, and the connection closes when
// the stream ends; so does a response a handler streams (RequestContext::streamed, POST /mcp).
// Thread-safe.
//
// The per-connection templates are defined in http_server_session.hpp and compiled once per
// stream type, in http_server_plain.cpp and http_server_tls.cpp.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "core/log_throttle.hpp"
#include "core/mutex.hpp"
#include "core/result.hpp"
#include "engine/alarms.hpp"
#include "http/beast.hpp"
#include "http/clock_timer.hpp"
#include "http/host_guard.hpp"
#include "http/io_context_pool.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"
#include "http/stream_session_options.hpp"

// Only http_server.cpp and tls_context.cpp see OpenSSL.
namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace spdlog {
class logger;
}  // namespace spdlog

namespace countersign {

struct HttpConnection;

struct HttpServerOptions {
  size_t body_limit = 1 << 20;
  size_t header_limit = 16 << 10;
  std::chrono::seconds read_timeout{30};
  // Both set: serve HTTPS with this PEM certificate chain and unencrypted PEM key, read by
  // Listen(). Both empty: plain HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Live event streams; their write timeout is read_timeout.
  std::chrono::seconds stream_heartbeat{15};
  // Where connections run (taken in turn); nullptr: each on a strand of the server's
  // io_context. Must outlive the server's connections.
  IoContextPool* connection_pool = nullptr;
  // Set (auth off): requests for another host, or from another origin's page, get 403.
  std::optional<HostGuard> host_guard;
  // Connections open at once, in all and from one client address; 0: no cap. A connection
  // over a cap is answered 503 and closed.
  size_t max_connections = 0;
  size_t max_connections_per_ip = 0;
  // Set (--access-log on): one line per request on this logger (http/access_log.hpp).
  std::shared_ptr<spdlog::logger> access_log;
};

class HttpServer {
 public:
  // Connections that may wait to begin on their threads before the next accept waits for its
  // thread (AcceptLoop()). Enough for a burst's first round to go on without a pause; few
  // enough that in a burst of thousands each connection waits its thread's turn.
  static constexpr int kMaxStartingConnections = 16;

  // `alarms` keeps the streams' heartbeats; it must outlive the server's connections.
  HttpServer(asio::io_context& io, Router& router, Metrics& metrics, Alarms& alarms,
             HttpServerOptions options);
  ~HttpServer();

  // Loads the TLS certificate and key when the options name them (an unreadable file or a
  // key that does not match is an error naming the file), then binds and listens; returns
  // the bound endpoint (port 0 picks a free port).
  Result<tcp::endpoint> Listen(const tcp::endpoint& endpoint);
  void Start();
  void Shutdown();

  size_t connections() const;
  // True once Listen() has loaded a certificate: connections speak HTTPS.
  bool tls() const { return tls_context_ != nullptr; }

 private:
  using Connection = HttpConnection;

  // A request as the access log shows it, taken when it has been read (only while the log is
  // on); the principal is filled in once the router has authenticated it.
  struct AccessEntry {
    std::string method;
    std::string target;  // AccessLog::RedactedTarget
    std::string principal;
    std::chrono::steady_clock::time_point started;
  };
  // Writes `entry`'s line with the answer's status.
  void LogAccess(const AccessEntry& entry, unsigned status) const;

  // Between a long-poll's Session and its WatchForClose, on the connection's strand.
  struct ClientWatch {
    bool woke = false;     // the watch's wait has completed (nothing left to cancel)
    bool gone = false;     // the client closed or reset the connection
    bool stopped = false;  // the session is done waiting; the watch touches nothing more
  };
  // Waits, without reading, until the socket has something to say: a close or reset by the
  // client calls `abandon` and marks the watch gone; data (a pipelined request) means the
  // client is still there. Ends early when the session cancels the socket's operations.
  static void WatchForClose(tcp::socket& socket, std::shared_ptr<ClientWatch> watch,
                            std::function<void()> abandon);
  // Takes connections, each onto a network thread in turn. Paced by those threads: when
  // kMaxStartingConnections connections wait to start, the next accept waits for a round trip
  // through its thread's queue, so a burst of connections waits in the kernel's listen backlog
  // instead of as thousands of sessions part-way through their first request (each holding a read
  // buffer, a request and handler frames: the heap such a burst leaves behind is its peak).
  asio::awaitable<void> AcceptLoop();
  // Starts an admitted connection's coroutine; runs on the connection's own thread, so that
  // its frame is made and freed there.
  void Begin(const std::shared_ptr<Connection>& connection);
  // After a failed accept (out of descriptors, typically): waits, longer after each failure
  // in a row (5 ms doubling to 1 s), so the loop does not spin while the cause lasts.
  asio::awaitable<void> BackOff(int failures_in_a_row);
  // Registers `connection`, or says which cap it is over.
  std::optional<std::string> Admit(const std::shared_ptr<Connection>& connection);
  // A best-effort 503 on a connection that is not admitted, then closes it.
  static void Refuse(tcp::socket& socket, std::string_view why);
  // A plain-TCP connection whose long-poll waits, between the Session() that read the request
  // (ended, so that its frame, the largest thing such a connection held, is freed) and the
  // AnswerParked() that answers it and goes on serving the connection. While it waits, no
  // coroutine runs for it: the connection holds this, the answer and the watch on its socket.
  struct Parked {
    std::shared_ptr<DeferredAnswer> deferred;  // Router::Routed::deferred
    std::shared_ptr<ClientWatch> watch;        // set by Park()
    beast::flat_buffer buffer;                 // bytes the client sent after the request
    std::unique_ptr<AccessEntry> access;       // set while the access log is on
    bool keep_alive = false;
    bool head = false;  // a HEAD request: the answer's headers only
  };
  // How a Session() ended: `graceful` as for closing; `parked` set when the connection is not
  // to be closed but answered later (plain TCP only).
  struct SessionEnd {
    bool graceful = true;
    std::shared_ptr<Parked> parked;
  };

  // A connection runs ServeTls() or, without TLS, Session() directly; the spawn's completion
  // handler owns the Connection and closes it (Ended()). No coroutine in between, since a
  // waiting long-poll would keep its frame.
  asio::awaitable<void> ServeTls(Connection& connection);
  // A plain connection's Session() or AnswerParked() has ended: closes the connection, or
  // parks it.
  void Ended(const std::shared_ptr<Connection>& connection, std::exception_ptr failure,
             SessionEnd end);
  // Watches a parked connection's socket for the client leaving, and spawns AnswerParked() once
  // its answer is ready.
  void Park(const std::shared_ptr<Connection>& connection, std::shared_ptr<Parked> parked);
  // Called once the connection's coroutine has ended, however it ended.
  void Close(const std::shared_ptr<Connection>& connection, std::exception_ptr failure);
  // The request loop over `stream` (the connection's TCP stream, or a TLS stream over it),
  // starting with what `buffer` already holds. `graceful` is true when the connection may be
  // closed gracefully (the client or the server chose to close), false after an error, a
  // timeout or a refusal. Over plain TCP, a long-poll ends it with the connection parked.
  template <typename Stream>
  asio::awaitable<SessionEnd> Session(Connection& connection, Stream& stream,
                                      beast::flat_buffer buffer = {});
  // Makes a parked connection's answer, writes it, and serves the connection on.
  asio::awaitable<SessionEnd> AnswerParked(Connection& connection, std::shared_ptr<Parked> parked);
  // Writes `response` (`head`: without its body) and, when `access` is set, logs it. True when
  // the connection goes on to its next request; false when it is to close, with `graceful`
  // false after an error.
  template <typename Stream>
  asio::awaitable<bool> WriteAnswer(Connection& connection, Stream& stream, HttpResponse& response,
                                    bool keep_alive, bool head, const AccessEntry* access,
                                    bool& graceful);
  // Reads one request into `request`. The parser lives in this coroutine's frame, not in
  // Session()'s, so a connection that then waits long (a long-poll) does not keep one.
  template <typename Stream>
  asio::awaitable<boost::system::error_code> ReadRequest(Stream& stream, beast::flat_buffer& buffer,
                                                         HttpRequest& request);
  // Runs a stream route's session on the connection; returns Session()'s "graceful".
  template <typename Stream>
  asio::awaitable<bool> RunStream(Connection& connection, Stream& stream,
                                  const HttpRequest& request, StreamUpgrade& upgrade);
  // Runs a handler's RequestContext::streamed on the connection; returns Session()'s
  // "graceful".
  template <typename Stream>
  asio::awaitable<bool> RunStreamedResponse(Connection& connection, Stream& stream,
                                            unsigned version, Router::Routed& routed,
                                            const std::optional<AccessEntry>& access);
  template <typename Stream>
  asio::awaitable<void> RefuseAndLinger(Connection& connection, Stream& stream, const Error& error,
                                        http::status status);

  asio::io_context& io_;
  Router& router_;
  Metrics& metrics_;
  Alarms& alarms_;
  HttpServerOptions options_;
  std::unique_ptr<asio::ssl::context> tls_context_;  // set by Listen(), then read-only
  tcp::acceptor acceptor_;
  // The accept loop's pause after a failure. Made with the server: when accepts fail for want
  // of descriptors, making a timer (and whatever it needs) could fail too.
  ClockTimer accept_pause_;
  std::atomic<bool> stopping_{false};
  // Connections accepted and handed to their thread, not yet begun there (Begin()).
  std::atomic<int> starting_{0};
  mutable Mutex mu_;
  std::unordered_set<std::shared_ptr<Connection>> connections_ CS_GUARDED_BY(mu_);
  std::unordered_map<asio::ip::address, size_t> per_ip_ CS_GUARDED_BY(mu_);
  LogThrottle accept_failures_;
  LogThrottle refusals_;
};

}  // namespace countersign
