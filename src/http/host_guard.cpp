#include "http/host_guard.hpp"

#include <algorithm>

#include <boost/asio/ip/address.hpp>

#include "core/ascii.hpp"

namespace countersign {

HostGuard::HostGuard(std::vector<std::string> extra_hosts) {
  for (auto& host : extra_hosts) {
    std::string lowered = AsciiLower(host);
    if (!lowered.empty()) extra_hosts_.push_back(std::move(lowered));
  }
}

std::string HostGuard::HostOf(std::string_view authority) {
  if (authority.empty()) return {};
  std::string_view host;
  if (authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return {};
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return {};
    host = authority.substr(1, close - 1);
  } else {
    const size_t colon = authority.find(':');
    if (colon != std::string_view::npos &&
        authority.find(':', colon + 1) != std::string_view::npos) {
      return {};  // an unbracketed IPv6 address is not an authority
    }
    host = authority.substr(0, colon);
  }
  if (host.empty()) return {};
  for (char c : host) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '/' || c == '@' || c == '\\') return {};
  }
  return AsciiLower(host);
}

bool HostGuard::IsLoopbackHost(std::string_view host) {
  if (host == "localhost" || host == "localhost.") return true;
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(std::string(host), ec);
  return !ec && address.is_loopback();
}

bool HostGuard::Allowed(std::string_view host) const {
  if (host.empty()) return false;
  return IsLoopbackHost(host) ||
         std::find(extra_hosts_.begin(), extra_hosts_.end(), host) != extra_hosts_.end();
}

std::optional<Error> HostGuard::Check(const HttpRequest& request) const {
  const auto host_field = request.find(http::field::host);
  if (host_field != request.end() && !Allowed(HostOf(host_field->value()))) {
    return Error::Forbidden(
        "auth is off, so this server answers only requests for a loopback host (Host: "
        "localhost or 127.0.0.1); a page that re-pointed its own name here is refused");
  }
  const auto origin_field = request.find(http::field::origin);
  if (origin_field != request.end()) {
    const std::string_view origin = origin_field->value();
    const size_t scheme_end = origin.find("://");
    const std::string host =
        scheme_end == std::string_view::npos ? "" : HostOf(origin.substr(scheme_end + 3));
    if (!Allowed(host)) {
      return Error::Forbidden(
          "auth is off, so this server refuses requests from web pages of other origins");
    }
  }
  return std::nullopt;
}

}  // namespace countersign
