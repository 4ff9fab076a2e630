// The value of a header option such as `--upstream-header 'Authorization: Bearer X'`. Pure;
// thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/result.hpp"

namespace countersign {

struct HttpHeaderOption {
  std::string name;
  std::string value;
};

// "Name: value": a token name (RFC 9110's tchar), a colon, a value with surrounding spaces and
// tabs trimmed and no control characters. Fields the proxy itself writes (Host, Content-*,
// Accept, Connection, Transfer-Encoding, Mcp-Session-Id, MCP-Protocol-Version,
// Last-Event-ID) are refused. Error::Invalid otherwise, naming the option.
Result<HttpHeaderOption> ParseHttpHeaderOption(std::string_view text);

}  // namespace countersign
