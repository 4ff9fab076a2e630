// CurlTransport: HttpTransport over libcurl (easy interface, one handle per call).
//
// Follows no redirects (a receiver that moved must be reconfigured, and a redirect must not
// turn a signed POST into something else), verifies TLS peers with the system CA store, and
// keeps at most `max_reply_bytes` of a reply body. Thread-safe: curl_global_init runs once
// in the constructor; each Send() uses its own handle.
#pragma once

#include <cstddef>

#include "notify/http_transport.hpp"

namespace countersign {

class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(size_t max_reply_bytes = 64 << 10);
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  OutboundReply Send(const OutboundCall& call, std::chrono::milliseconds timeout) override;

 private:
  size_t max_reply_bytes_;
};

}  // namespace countersign
