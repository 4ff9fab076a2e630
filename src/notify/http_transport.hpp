// HttpTransport: makes an OutboundCall and reports what came back. The dispatcher and the
// chat channels' synchronous calls go through it, so tests can point them at loopback fakes.
// Implementations are thread-safe: several dispatcher workers call Send() at once.
#pragma once

#include <chrono>

#include "notify/outbound_call.hpp"

namespace countersign {

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;

  // Blocks until the answer, an error, or `timeout` (then status 0 and error set). Never
  // throws.
  virtual OutboundReply Send(const OutboundCall& call, std::chrono::milliseconds timeout) = 0;
};

}  // namespace countersign
