// OutboundCall and OutboundReply: one HTTP exchange with the outside world, as a channel
// builds it and as the transport reports it. Plain values; safe to copy between threads.
#pragma once

#include <atomic>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace countersign {

struct OutboundCall {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Type included
  std::string body;
  // When set, the transport gives the call up (status 0, error "cancelled") soon after the
  // flag turns true: a shutdown does not wait out a slow server. Must outlive the call.
  const std::atomic<bool>* cancelled = nullptr;
};

struct OutboundReply {
  int status = 0;        // the HTTP status; 0 when no answer arrived (see error)
  std::string error;     // what went wrong below HTTP (DNS, connect, TLS, timeout)
  bool refused = false;  // the outbound policy refused the destination: retrying cannot help
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;                            // at most the transport's reply limit

  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

}  // namespace countersign
