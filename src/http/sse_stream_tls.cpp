// The Server-Sent Events session over TLS, and RunEventStream for that stream. The
// WebSocket session is compiled in websocket_stream_tls.cpp, in parallel.
#include "http/event_stream.hpp"

#include "http/event_stream_session.hpp"
#include "http/tls_stream.hpp"

namespace countersign {

template class EventStreamSession<SseFramer<TlsStream>>;
extern template class EventStreamSession<WebSocketFramer<TlsStream>>;

template asio::awaitable<EventStreamResult> RunEventStream(TlsStream&, beast::tcp_stream&,
                                                           const HttpRequest&, StreamUpgrade&,
                                                           StreamSessionOptions,
                                                           asio::cancellation_signal&, bool);

}  // namespace countersign
