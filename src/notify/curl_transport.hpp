// CurlTransport: HttpTransport over libcurl (easy interface, one handle per call).
//
// Every call passes its OutboundPolicy: the URL before anything is resolved, and each address
// libcurl is about to connect to (CURLOPT_OPENSOCKETFUNCTION sees the resolved address, so a
// name that rebinds to an internal address is refused at connect time). A refused call
// answers status 0 with `refused` set. Follows no redirects (a receiver that moved must be
// reconfigured, and a redirect must not turn a signed POST into something else or lead past
// the policy), ignores proxy variables (the policy checks the real destination), verifies TLS
// peers with the system CA store, and keeps at most `max_reply_bytes` of a reply body.
// Thread-safe: curl_global_init runs once in the constructor; each Send() uses its own
// handle.
#pragma once

#include <cstddef>

#include "notify/http_transport.hpp"
#include "notify/outbound_policy.hpp"

namespace countersign {

class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(OutboundPolicy policy = {}, size_t max_reply_bytes = 64 << 10);
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  OutboundReply Send(const OutboundCall& call, std::chrono::milliseconds timeout) override;

 private:
  const OutboundPolicy policy_;
  size_t max_reply_bytes_;
};

}  // namespace countersign
