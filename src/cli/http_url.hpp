// HttpUrl: an http:// or https:// URL as the command-line clients connect to it (scheme, host,
// port, path prefix). Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/result.hpp"

namespace countersign {

struct HttpUrl {
  std::string scheme;       // "http" or "https"
  std::string host;         // for the resolver: no brackets around an IPv6 address
  std::string port;         // always set; "80" (http) or "443" (https) when the URL has none
  std::string host_header;  // host[:port] as written in the URL
  std::string prefix;       // path without a trailing '/', may be empty
};

// `url` (http[s]://HOST[:PORT][/PATH], no user info, query or fragment). Anything else is
// Error::Unavailable whose message names `what` ("server URL") and the URL.
Result<HttpUrl> ParseHttpUrl(std::string_view url, std::string_view what);

}  // namespace countersign
