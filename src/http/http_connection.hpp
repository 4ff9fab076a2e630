// HttpConnection: one accepted connection of the HttpServer, shared by its accept loop, its
// session coroutine and Shutdown(). Touched only on the connection's strand, except for the
// accept loop's set-up before the session starts.
#pragma once

#include <utility>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "http/beast.hpp"

namespace countersign {

struct HttpConnection {
  HttpConnection(tcp::socket socket, asio::ip::address peer)
      : stream(std::move(socket)), peer(std::move(peer)) {}
  // The TCP layer, which owns the timeouts and which Shutdown() cancels; under TLS the
  // session wraps it in a TlsStream.
  beast::tcp_stream stream;
  // The client's address, as it counts against max_connections_per_ip.
  const asio::ip::address peer;
  bool busy = false;
  // While the connection runs a live stream, the stream's session is connected to this
  // signal's slot (has_handler()), and a terminal cancellation emitted on it ends the stream.
  asio::cancellation_signal stop_stream;
};

}  // namespace countersign
