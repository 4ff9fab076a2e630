// The Server-Sent Events session over plain TCP, and RunEventStream for that stream. The
// WebSocket session is compiled in websocket_stream_plain.cpp, in parallel.
#include "http/event_stream.hpp"

#include "http/event_stream_session.hpp"

namespace countersign {

template class EventStreamSession<SseFramer<beast::tcp_stream>>;
extern template class EventStreamSession<WebSocketFramer<beast::tcp_stream>>;

template asio::awaitable<EventStreamResult> RunEventStream(beast::tcp_stream&, beast::tcp_stream&,
                                                           const HttpRequest&, StreamUpgrade&,
                                                           StreamSessionOptions,
                                                           asio::cancellation_signal&, bool);

}  // namespace countersign
