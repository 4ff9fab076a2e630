// PublicUrl: the address people reach this server at ([server] public_url), used to build
// one-click links and to check the Origin of the forms those links show.
//
// Accepted form: http(s)://HOST[:PORT][/PATH] with no trailing slash, no user info, query or
// fragment; HOST is a DNS name, an IPv4 address or a bracketed IPv6 address. The scheme and
// host are compared case-insensitively and kept in lower case. An immutable value; safe to
// copy and share between threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace countersign {

class PublicUrl {
 public:
  // Error::Invalid naming `key` (e.g. "--public-url") and saying what is wrong.
  static Result<PublicUrl> Parse(std::string_view text, std::string_view key);
  // "http://HOST:PORT" (https with `tls`) for a server bound to `host` and `port`; an IPv6
  // host is bracketed. For a server with no public_url set.
  static PublicUrl ForListener(std::string_view host, uint16_t port, bool tls);

  // The whole URL, normalised: "https://approvals.example.com/cs".
  const std::string& text() const { return text_; }
  // What a browser sends as Origin for pages under it: scheme://host[:port], the port left
  // out when it is the scheme's default.
  const std::string& origin() const { return origin_; }
  bool https() const { return https_; }
  // The path after the authority: "" or, e.g., "/cs" (no trailing slash).
  std::string path() const;

  // The one-click link for `token`: text() + "/l/" + token.
  std::string LinkFor(std::string_view token) const;

 private:
  PublicUrl(std::string text, std::string origin, bool https)
      : text_(std::move(text)), origin_(std::move(origin)), https_(https) {}

  std::string text_;
  std::string origin_;
  bool https_ = false;
};

}  // namespace countersign
