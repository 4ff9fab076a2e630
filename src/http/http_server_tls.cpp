// HttpServer's connections over TLS.
#include "http/http_server.hpp"

#include <boost/asio/ssl/stream_base.hpp>

#include "http/http_server_session.hpp"
#include "http/tls_stream.hpp"

namespace countersign {
namespace {

// How long a closing TLS connection waits for the client's close_notify.
constexpr std::chrono::seconds kTlsShutdownTimeout{1};

}  // namespace

asio::awaitable<void> HttpServer::ServeTls(Connection& connection) {
  TlsStream stream(connection.stream, *tls_context_);
  connection.stream.expires_after(options_.read_timeout);
  auto [handshake_ec] =
      co_await stream.async_handshake(asio::ssl::stream_base::server, http_session::kAwait);
  if (handshake_ec) {
    // Plain HTTP sent to the HTTPS port, a client that distrusts the certificate, a port
    // scanner: the client's problem, so not a warning.
    spdlog::debug("TLS handshake failed: {}", handshake_ec.message());
    co_return;
  }
  const SessionEnd end = co_await Session(connection, stream);
  if (!end.graceful) co_return;
  // Sends close_notify and waits briefly for the client's; most clients just close.
  connection.stream.expires_after(kTlsShutdownTimeout);
  [[maybe_unused]] auto [shutdown_ec] = co_await stream.async_shutdown(http_session::kAwait);
}

}  // namespace countersign
