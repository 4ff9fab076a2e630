#include "cli/http_header_option.hpp"

#include <algorithm>
#include <array>

#include "core/ascii.hpp"

namespace countersign {
namespace {

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

constexpr std::array<std::string_view, 10> kReserved = {
    "host",          "content-length",    "content-type",   "accept",
    "connection",    "transfer-encoding", "mcp-session-id", "mcp-protocol-version",
    "last-event-id", "user-agent"};

std::string_view TrimBlanks(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

Result<HttpHeaderOption> ParseHttpHeaderOption(std::string_view text) {
  const auto colon = text.find(':');
  const std::string_view name = colon == std::string_view::npos ? text : text.substr(0, colon);
  if (colon == std::string_view::npos || name.empty() ||
      !std::all_of(name.begin(), name.end(), IsTokenChar)) {
    return Error::Invalid("--upstream-header must be 'Name: value', got '" + std::string(text) +
                          "'");
  }
  const std::string_view value = TrimBlanks(text.substr(colon + 1));
  if (std::any_of(value.begin(), value.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return (byte < 0x20 && c != '\t') || byte == 0x7f;
      })) {
    return Error::Invalid("--upstream-header " + std::string(name) +
                          ": the value holds a control character");
  }
  const std::string lower = AsciiLower(name);
  if (std::find(kReserved.begin(), kReserved.end(), lower) != kReserved.end()) {
    return Error::Invalid("--upstream-header " + std::string(name) +
                          ": the proxy sets this header itself");
  }
  return HttpHeaderOption{std::string(name), std::string(value)};
}

}  // namespace countersign
