// HttpExchange: one HTTP/1.1 request and its answer on a connection of its own, for the
// command-line tools: the answer's head first, then its body whole or piece by piece as it
// arrives (a Server-Sent Events stream).
//
// Every step has the deadline it is given (Beast's tcp_stream times out asynchronous
// operations only, so each step runs to completion on the exchange's private io_context).
// Failures are Error::Unavailable naming `peer` ("countersign at http://..."): "cannot reach
// PEER: ..." while resolving, connecting and sending; "no answer from PEER within N s" for a
// read that timed out; "reading the answer from PEER failed: ..." otherwise. Any HTTP status
// is a head for the caller to judge. Not thread-safe; one request per object.
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

  HttpExchange(HttpUrl url, std::string peer);
  ~HttpExchange();
  HttpExchange(const HttpExchange&) = delete;
  HttpExchange& operator=(const HttpExchange&) = delete;

  // Connects and sends `method` for the URL's prefix + `target` with `headers` (Host and
  // User-Agent are added; "Connection: close" too) and `body` when given.
  Status Send(std::string_view method, std::string_view target, const Headers& headers,
              const std::string* body, Duration timeout);

  // The answer's status and fields.
  Result<HttpHead> ReadHead(Duration timeout);

  // The next piece of the body as it arrives; nullopt once the body has ended.
  Result<std::optional<std::string>> ReadSome(Duration timeout);

  // The rest of the body; more than `limit` bytes is an error.
  Result<std::string> ReadBody(std::uint64_t limit, Duration timeout);

 private:
  struct Connection;

  Error ReadFailure(const std::string& reason, bool timed_out, Duration timeout) const;

  const HttpUrl url_;
  const std::string peer_;
  std::unique_ptr<Connection> connection_;
};

}  // namespace countersign
