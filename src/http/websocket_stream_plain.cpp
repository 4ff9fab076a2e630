// The WebSocket event stream session over plain TCP (RunEventStream, in sse_stream_plain.cpp,
// runs it).
#include "http/event_stream_session.hpp"

namespace countersign {

template class EventStreamSession<WebSocketFramer<beast::tcp_stream>>;

}  // namespace countersign
