// StreamEnd: why a live event stream is ending while its connection still works, which decides
// its last words (an SSE "overflow" message, a WebSocket close code and reason).
#pragma once

namespace countersign {

enum class StreamEnd {
  kServerStopping,  // shutdown, or the feed closed
  kTokenRevoked,    // the caller's credentials no longer authenticate
  kFeedFailed,      // the store could not be read
  kOverflowed,      // the client fell too far behind
};

}  // namespace countersign
