// The WebSocket event stream session over TLS (RunEventStream, in sse_stream_tls.cpp,
// runs it).
#include "http/event_stream_session.hpp"
#include "http/tls_stream.hpp"

namespace countersign {

template class EventStreamSession<WebSocketFramer<TlsStream>>;

}  // namespace countersign
