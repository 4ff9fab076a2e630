// RunEventStream: runs a stream route's EventStreamSession (SSE or WebSocket, as the upgrade
// says) on a connection the HTTP server has handed over, and returns how it ended.
//
// Declared here, compiled only for the server's two streams (beast::tcp_stream in
// sse_stream_plain.cpp, the TLS stream in sse_stream_tls.cpp), so the sessions' templates
// are compiled once each, apart from the HTTP session's. The session connects to `stop`'s
// slot while it runs: a terminal cancellation emitted on it ends the stream promptly (server
// shutdown). `stopping`: the server began stopping before the stream was connected, so the
// stream ends as soon as it is open. Strand only.
#pragma once

#include <boost/asio/cancellation_signal.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "http/beast.hpp"
#include "http/stream_session_options.hpp"
#include "http/stream_upgrade.hpp"

namespace countersign {

struct EventStreamResult {
  bool graceful = false;    // the connection may be closed gracefully
  bool overflowed = false;  // the client fell behind
};

template <typename Stream>
asio::awaitable<EventStreamResult> RunEventStream(Stream& stream, beast::tcp_stream& tcp,
                                                  const HttpRequest& request,
                                                  StreamUpgrade& upgrade,
                                                  StreamSessionOptions options,
                                                  asio::cancellation_signal& stop, bool stopping);

}  // namespace countersign
