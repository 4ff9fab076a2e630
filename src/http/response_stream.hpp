// ResponseStream: a response whose body a handler writes piece by piece while it works (an MCP
// tool call's Server-Sent Events: progress now and then, the result at the end).
//
// A handler that answers this way sets RequestContext::streamed; once the router's and the
// handler's frames are gone, the HTTP server calls it with the connection's ResponseStream.
// Open() writes the head once: the status and fields of `head`, "Connection: close" and no
// length, since the body runs until the connection closes (it is the connection's last
// exchange). Write() sends the next part of the body. Each write is bounded by the server's
// write timeout; false means the connection failed (the client left, or stopped reading), and
// nothing more should be written. Used on the connection's executor only, by one coroutine.
#pragma once

#include <string>

#include "http/beast.hpp"

namespace countersign {

class ResponseStream {
 public:
  virtual ~ResponseStream() = default;

  virtual asio::awaitable<bool> Open(const HttpResponse& head) = 0;
  virtual asio::awaitable<bool> Write(const std::string& text) = 0;
};

}  // namespace countersign
