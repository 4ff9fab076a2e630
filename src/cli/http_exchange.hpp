// HttpExchange: one HTTP/1.1 request and its answer on a connection of its own, for the
// command-line tools: the answer's head first, then its body whole or piece by piece as it
// arrives (a Server-Sent Events stream).
//
// Built on libcurl's easy interface driven by a multi handle of the exchange's own, so the
// transfer advances only inside Send and the Read calls, each within the deadline it is given
// (nothing runs in between; the kernel's buffers and TCP flow control hold what arrives).
// http:// and https:// URLs; TLS peers are verified against `ca_file` when given, else the
// system's CA store. libcurl's proxy variables apply (https_proxy / HTTPS_PROXY, http_proxy,
// ALL_PROXY, NO_PROXY). No redirects are followed.
//
// Failures are Error::Unavailable naming `peer` ("countersign at http://..."): "cannot reach
// PEER: ..." while resolving, connecting (TLS handshake included) and sending; "no answer
// from PEER within N s" for a read that timed out; "reading the answer from PEER failed: ..."
// otherwise. Any HTTP status is a head for the caller to judge. Not thread-safe; one request
// per object.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/http_url.hpp"
#include "core/result.hpp"

namespace countersign {

struct HttpHead {
  int status = 0;
  std::map<std::string, std::string> headers = {};  // names lower-cased
};

class HttpExchange {
 public:
  using Duration = std::chrono::steady_clock::duration;
  using Headers = std::vector<std::pair<std::string, std::string>>;

  // `ca_file`: a PEM file of the CAs to trust for https:// instead of the system's; empty for
  // the system's.
  HttpExchange(HttpUrl url, std::string peer, std::string ca_file = {});
  ~HttpExchange();
  HttpExchange(const HttpExchange&) = delete;
  HttpExchange& operator=(const HttpExchange&) = delete;

  // Connects and sends `method` for the URL's prefix + `target` with `headers` (Host and
  // User-Agent are added; "Connection: close" too) and `body` when given. Returns once the
  // request is out; an answer that comes meanwhile waits for the Read calls.
  Status Send(std::string_view method, std::string_view target, const Headers& headers,
              const std::string* body, Duration timeout);

  // The answer's status and fields.
  Result<HttpHead> ReadHead(Duration timeout);

  // The next piece of the body as it arrives; nullopt once the body has ended.
  Result<std::optional<std::string>> ReadSome(Duration timeout);

  // The rest of the body; more than `limit` bytes is an error.
  Result<std::string> ReadBody(std::uint64_t limit, Duration timeout);

 private:
  struct Transfer;

  Error ReadFailure(const std::string& reason, bool timed_out, Duration timeout) const;

  const HttpUrl url_;
  const std::string peer_;
  const std::string ca_file_;
  std::unique_ptr<Transfer> transfer_;
};

}  // namespace countersign
