// OutboundPolicy: where the server may send an HTTP call it makes on someone's behalf: a
// request's callback_url, [[webhook]] receivers, a chat channel's api_base and the answers to
// its buttons, the AiSOC adapter's webhook_url and timeline_url. Every one goes through the
// one HttpTransport, which asks this policy twice: CheckUrl() before anything is resolved,
// and CheckAddress() with the address it is about to connect to, so a name that resolves
// (or re-resolves: DNS rebinding) to an internal address is refused at the moment it would be
// used. The gateway also calls CheckUrl() on a new request's callback_url, so an obviously
// bad one is refused (422) when it is given.
//
// The rules ([outbound] in the config):
//   - https only; http:// only with `allow_http = true` or to a destination `allow` names;
//   - no user info ("https://user:pass@host/") in the URL;
//   - the address connected to must not be unspecified (0.0.0.0/8, ::), loopback (127/8,
//     ::1), private (10/8, 172.16/12, 192.168/16, 100.64/10 shared, fc00::/7), link-local
//     (169.254/16, the cloud metadata address among them; fe80::/10), site-local (fec0::/10),
//     multicast (224/4, ff00::/8), reserved or broadcast (240/4, 255.255.255.255), the
//     IETF/benchmark blocks (192.0.0/24, 198.18/15), nor any of these written as an
//     IPv4-mapped, IPv4-compatible, NAT64 (64:ff9b::/96) or 6to4 (2002::/16) IPv6 address;
//   - the names "localhost", "*.localhost" and the cloud metadata names are refused as names;
//   - unless `allow` names the host (exactly, case-insensitively: the URL's host may then
//     resolve anywhere) or a CIDR ("10.1.0.0/16", "127.0.0.1/32", "::1/128") holding the
//     address.
// Literal IPv4 hosts are read the way resolvers read them, so "2130706433", "0x7f.1" and
// "017700000001" are all 127.0.0.1. Redirects are never followed (the transport's job).
//
// Immutable after construction; thread-safe; cheap to copy.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace countersign {

// The [outbound] table as written.
struct OutboundSettings {
  std::vector<std::string> allow;  // host names, IP addresses and CIDRs
  bool allow_http = false;
};

class OutboundPolicy {
 public:
  // An IPv6 address, or an IPv4 one as its IPv4-mapped form (::ffff:a.b.c.d).
  using Address = std::array<uint8_t, 16>;

  // The default: https only, nothing internal allowed.
  OutboundPolicy() = default;

  // Error::Invalid naming `where` (e.g. "countersign.toml:12: outbound.allow") and the entry
  // that is neither a host name, an address nor a CIDR.
  static Result<OutboundPolicy> Make(const OutboundSettings& settings, std::string_view where);

  // Ok, or Error::Invalid saying why the server will not call `url` (naming `field`, e.g.
  // "callback_url"): not http(s), http where https is required, user info, no host, or a
  // host that is a refused name or a literal address in a refused range.
  Status CheckUrl(std::string_view field, std::string_view url) const;

  // Ok, or Error::Forbidden saying why the connection to `address` (what `url_host`, lower
  // case and without brackets, resolved to) is refused. Any family but IPv4 and IPv6 is
  // refused.
  Status CheckAddress(std::string_view url_host, const sockaddr* address) const;

  // The host of `url` as the policy compares it: lower case, no brackets, no trailing dot;
  // nullopt when `url` has none.
  static std::optional<std::string> HostOf(std::string_view url);

  // The address `host` names when it is a literal one, in any form a resolver accepts.
  static std::optional<Address> LiteralAddress(std::string_view host);

  // Why `address` is not a public destination ("loopback", "private", ...), or nullptr.
  static const char* DeniedRange(const Address& address);

 private:
  struct Cidr {
    Address network{};
    int prefix = 0;  // in bits of the 16 bytes (an IPv4 /8 is 104)
  };

  bool NamesHost(std::string_view host) const;
  bool AllowsAddress(const Address& address) const;

  std::vector<std::string> hosts_;  // lower case
  std::vector<Cidr> cidrs_;
  bool allow_http_ = false;
};

}  // namespace countersign
