// HttpClient: a small synchronous HTTP/1.1 client for the command-line tools.
//
// One connection per call (the CLI makes few calls, and a fresh connection keeps the failure
// modes simple). Every call has one overall deadline covering resolve, connect, write and
// read. http:// and https:// (over libcurl, through HttpExchange: TLS peers are verified, and
// libcurl's proxy variables apply). Failures are values: an unreachable server or a timeout is
// Error::Unavailable naming the URL; any HTTP status, 4xx and 5xx included, is a successful
// HttpResponse for the caller to judge. Not thread-safe; cheap to construct.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "cli/http_url.hpp"
#include "core/result.hpp"

namespace countersign {

struct HttpResponse {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
};

class HttpClient {
 public:
  // `base_url` is http[s]://host[:port][/prefix]; an empty `token` sends no Authorization
  // header; `ca_file` (PEM) replaces the system's CAs for https:// when not empty. A malformed
  // or unsupported URL is reported by every Call.
  HttpClient(std::string base_url, std::string token, std::string ca_file = {});

  // Sends `method target` (target starts with '/', is appended to the URL's prefix), with
  // `json_body` as an application/json body when given, and waits up to `timeout` for the
  // whole answer.
  Result<HttpResponse> Call(std::string_view method, std::string_view target,
                            const std::string* json_body = nullptr,
                            std::chrono::seconds timeout = std::chrono::seconds(75)) const;

  const std::string& base_url() const { return base_url_; }

 private:
  std::string base_url_;
  std::string token_;
  std::string ca_file_;
  Result<HttpUrl> url_;
};

}  // namespace countersign
