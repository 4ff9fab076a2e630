#include "http/mcp_http_checks.hpp"

#include <string>

#include "core/ascii.hpp"
#include "http/host_guard.hpp"
#include "mcp/mcp_session.hpp"

namespace countersign {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// True when the parameters of one media range (";q=0.5;level=1") say q=0.
bool RefusedByQuality(std::string_view parameters) {
  while (!parameters.empty()) {
    const size_t semicolon = parameters.find(';');
    const std::string_view parameter = Trim(parameters.substr(0, semicolon));
    parameters =
        semicolon == std::string_view::npos ? std::string_view() : parameters.substr(semicolon + 1);
    if (parameter.size() < 2 || (parameter[0] != 'q' && parameter[0] != 'Q') ||
        parameter[1] != '=') {
      continue;
    }
    const std::string_view value = parameter.substr(2);
    return value.find_first_not_of("0.") == std::string_view::npos;
  }
  return false;
}

}  // namespace

McpAcceptable ReadMcpAccept(std::string_view accept) {
  McpAcceptable acceptable;
  if (Trim(accept).empty()) return McpAcceptable{true, true};
  while (!accept.empty()) {
    const size_t comma = accept.find(',');
    const std::string_view range = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
    const size_t semicolon = range.find(';');
    const std::string type = AsciiLower(Trim(range.substr(0, semicolon)));
    if (semicolon != std::string_view::npos && RefusedByQuality(range.substr(semicolon + 1))) {
      continue;
    }
    if (type == "*/*") {
      acceptable.json = acceptable.sse = true;
    } else if (type == "application/*" || type == "application/json") {
      acceptable.json = true;
    } else if (type == "text/*" || type == "text/event-stream") {
      acceptable.sse = true;
    }
  }
  return acceptable;
}

Status CheckMcpProtocolVersion(std::string_view header) {
  if (header.empty() || IsSupportedMcpVersion(header)) return Ok();
  return Error::Malformed(
      "MCP-Protocol-Version " + Echo(header) + " is not a revision this server speaks (" +
      std::string(kMcpLatestVersion) + ", " + std::string(kMcpPreviousVersion) + ")");
}

bool McpOriginAllowed(std::string_view origin, std::string_view public_origin,
                      bool loopback_listener) {
  if (origin.empty()) return true;
  if (!public_origin.empty() && AsciiLower(origin) == AsciiLower(public_origin)) return true;
  if (!loopback_listener) return false;
  const size_t scheme_end = origin.find("://");
  if (scheme_end == std::string_view::npos) return false;
  const std::string scheme = AsciiLower(origin.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https") return false;
  const std::string_view authority = origin.substr(scheme_end + 3);
  if (authority.find('/') != std::string_view::npos) return false;
  return HostGuard::IsLoopbackHost(HostGuard::HostOf(authority));
}

bool IsMcpSessionId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace countersign
