// The value of a --listen option: HOST:PORT, with an IPv6 host in brackets. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace countersign {

struct ListenAddress {
  std::string host;  // an IP address ("localhost" becomes 127.0.0.1), without brackets
  std::uint16_t port = 0;
};

// Error::Invalid naming `option` when `text` is not an IP address and a port 0 to 65535.
Result<ListenAddress> ParseListenAddress(std::string_view text, std::string_view option);

}  // namespace countersign
