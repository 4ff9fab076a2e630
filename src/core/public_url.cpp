#include "core/public_url.hpp"

#include <cctype>

#include "core/ascii.hpp"

namespace countersign {
namespace {

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && AsciiLower(s.substr(0, prefix.size())) == prefix;
}

bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

bool IsDnsHost(std::string_view host) {
  if (host.empty() || host.size() > 253 || host.front() == '.' || host.front() == '-' ||
      host.back() == '-' || host.find("..") != std::string_view::npos) {
    return false;
  }
  for (char c : host) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') return false;
  }
  return true;
}

bool IsIpv6Literal(std::string_view inside) {
  if (inside.size() < 2 || inside.find(':') == std::string_view::npos) return false;
  for (char c : inside) {
    if (!IsHex(c) && c != ':' && c != '.') return false;
  }
  return true;
}

// RFC 3986 pchar plus '/', with every '%' starting a valid escape.
bool IsPath(std::string_view path) {
  static constexpr std::string_view kAllowed = "-._~!$&'()*+,;=:@/";
  for (size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '%') {
      if (i + 2 >= path.size() || !IsHex(path[i + 1]) || !IsHex(path[i + 2])) return false;
      i += 2;
      continue;
    }
    if (!std::isalnum(static_cast<unsigned char>(c)) &&
        kAllowed.find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

bool HasDotSegment(std::string_view path) {
  size_t start = 1;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    const std::string_view segment = path.substr(start, slash - start);
    if (segment.empty() || segment == "." || segment == "..") return true;
    start = slash + 1;
  }
  return false;
}

}  // namespace

Result<PublicUrl> PublicUrl::Parse(std::string_view text, std::string_view key) {
  auto invalid = [&](std::string_view why) {
    return Error::Invalid(std::string(key) + " must be http(s)://HOST[:PORT][/PATH] " +
                          std::string(why) + ", got '" + std::string(text) + "'");
  };
  bool https = false;
  std::string_view rest;
  if (StartsWithNoCase(text, "https://")) {
    https = true;
    rest = text.substr(8);
  } else if (StartsWithNoCase(text, "http://")) {
    rest = text.substr(7);
  } else {
    return invalid("(scheme http or https)");
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return invalid("without a query or fragment");
  }
  const size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  const std::string_view path =
      slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) return invalid("without user info");

  std::string_view host;
  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos || !IsIpv6Literal(authority.substr(1, close - 1))) {
      return invalid("(a bracketed IPv6 host is malformed)");
    }
    host = authority.substr(0, close + 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return invalid("(junk after the IPv6 host)");
      has_port = true;
      port_text = after.substr(1);
    }
  } else {
    const size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = authority.substr(colon + 1);
    }
    if (!IsDnsHost(host)) return invalid("(the host is missing or malformed)");
  }
  int port = 0;
  if (has_port) {
    if (port_text.empty() || port_text.size() > 5 || port_text.front() == '0') {
      return invalid("(the port must be 1-65535)");
    }
    for (char c : port_text) {
      if (c < '0' || c > '9') return invalid("(the port must be 1-65535)");
      port = port * 10 + (c - '0');
    }
    if (port < 1 || port > 65535) return invalid("(the port must be 1-65535)");
  }
  if (!path.empty()) {
    if (path.back() == '/') return invalid("without a trailing slash");
    if (!IsPath(path) || HasDotSegment(path)) return invalid("(the path is malformed)");
  }

  const std::string scheme = https ? "https" : "http";
  std::string origin = scheme + "://" + AsciiLower(host);
  if (has_port && port != (https ? 443 : 80)) origin += ":" + std::to_string(port);
  std::string normalised = scheme + "://" + AsciiLower(host);
  if (has_port) normalised += ":" + std::to_string(port);
  normalised.append(path);
  return PublicUrl(std::move(normalised), std::move(origin), https);
}

PublicUrl PublicUrl::ForListener(std::string_view host, uint16_t port, bool tls) {
  const std::string scheme = tls ? "https" : "http";
  std::string authority =
      host.find(':') != std::string_view::npos ? "[" + AsciiLower(host) + "]" : AsciiLower(host);
  authority += ":" + std::to_string(port);
  std::string text = scheme + "://" + authority;
  std::string origin = text;
  if (port == (tls ? 443 : 80)) origin = scheme + "://" + authority.substr(0, authority.rfind(':'));
  return PublicUrl(std::move(text), std::move(origin), tls);
}

std::string PublicUrl::path() const {
  // text_ is normalised: the first '/' after "scheme://" starts the path.
  const size_t slash = text_.find('/', text_.find("://") + 3);
  return slash == std::string::npos ? std::string() : text_.substr(slash);
}

std::string PublicUrl::LinkFor(std::string_view token) const {
  return text_ + "/l/" + std::string(token);
}

}  // namespace countersign
