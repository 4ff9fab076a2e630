#include "notify/outbound_policy.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "core/ascii.hpp"

namespace countersign {
namespace {

using Address = OutboundPolicy::Address;

// Names that lead inside whatever they resolve to: refused as names, before any lookup.
constexpr std::string_view kDeniedNames[] = {
    "localhost",     "metadata",      "metadata.google.internal",
    "metadata.goog", "instance-data", "instance-data.ec2.internal"};

struct Range {
  std::array<uint8_t, 4> network;
  int prefix;
  const char* why;
};

// IPv4 ranges, checked on the IPv4 address itself or the one an IPv6 form carries.
constexpr Range kDeniedV4[] = {
    {{0, 0, 0, 0}, 8, "unspecified"},
    {{10, 0, 0, 0}, 8, "private"},
    {{100, 64, 0, 0}, 10, "shared (CGNAT)"},
    {{127, 0, 0, 0}, 8, "loopback"},
    {{169, 254, 0, 0}, 16, "link-local"},
    {{172, 16, 0, 0}, 12, "private"},
    {{192, 0, 0, 0}, 24, "reserved"},
    {{192, 168, 0, 0}, 16, "private"},
    {{198, 18, 0, 0}, 15, "reserved"},
    {{224, 0, 0, 0}, 4, "multicast"},
    {{240, 0, 0, 0}, 4, "reserved or broadcast"},
};

bool HasPrefix(const uint8_t* address, const uint8_t* network, int bits) {
  const int whole = bits / 8;
  if (std::memcmp(address, network, static_cast<size_t>(whole)) != 0) return false;
  const int rest = bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (address[whole] & mask) == (network[whole] & mask);
}

Address Mapped(const uint8_t* v4) {
  Address out{};
  out[10] = 0xff;
  out[11] = 0xff;
  std::memcpy(out.data() + 12, v4, 4);
  return out;
}

bool IsMapped(const Address& a) {
  static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(a.data(), kPrefix, 12) == 0;
}

// The IPv4 address an IPv6 one carries (mapped, compatible, NAT64, 6to4), as a mapped one.
std::optional<Address> EmbeddedV4(const Address& a) {
  static constexpr uint8_t kZero[12] = {};
  static constexpr uint8_t kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (IsMapped(a)) return a;
  if (std::memcmp(a.data(), kZero, 12) == 0) return Mapped(a.data() + 12);
  if (std::memcmp(a.data(), kNat64, 12) == 0) return Mapped(a.data() + 12);
  if (a[0] == 0x20 && a[1] == 0x02) return Mapped(a.data() + 2);
  return std::nullopt;
}

std::string Format(const Address& a) {
  char text[INET6_ADDRSTRLEN] = {};
  if (IsMapped(a)) {
    inet_ntop(AF_INET, a.data() + 12, text, sizeof text);
  } else {
    inet_ntop(AF_INET6, a.data(), text, sizeof text);
  }
  return text;
}

bool IsHostName(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
  });
}

struct UrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
struct CurlText {
  char* text = nullptr;
  ~CurlText() { curl_free(text); }
};

// Part `part` of `url`, or nullopt when it has none.
std::optional<std::string> Part(CURLU* url, CURLUPart part) {
  CurlText out;
  if (curl_url_get(url, part, &out.text, 0) != CURLUE_OK || out.text == nullptr) {
    return std::nullopt;
  }
  return std::string(out.text);
}

std::string NormalHost(std::string host) {
  host = AsciiLower(host);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (const size_t zone = host.find('%'); zone != std::string::npos) host.resize(zone);
  while (!host.empty() && host.back() == '.') host.pop_back();
  return host;
}

}  // namespace

Result<OutboundPolicy> OutboundPolicy::Make(const OutboundSettings& settings,
                                            std::string_view where) {
  OutboundPolicy out;
  out.allow_http_ = settings.allow_http;
  for (const std::string& entry : settings.allow) {
    const std::string text = AsciiLower(entry);
    const size_t slash = text.find('/');
    const std::string host = text.substr(0, slash);
    Cidr cidr;
    int max_prefix = 128;
    uint8_t v4[4];
    if (inet_pton(AF_INET, host.c_str(), v4) == 1) {
      cidr.network = Mapped(v4);
      max_prefix = 32;
    } else if (inet_pton(AF_INET6, host.c_str(), cidr.network.data()) != 1) {
      if (slash != std::string::npos || !IsHostName(text)) {
        return Error::Invalid(std::string(where) + ": '" + entry +
                              "' is neither a host name, an IP address nor a CIDR");
      }
      out.hosts_.push_back(NormalHost(text));
      continue;
    }
    int prefix = max_prefix;
    if (slash != std::string::npos) {
      const std::string bits = text.substr(slash + 1);
      const bool digits =
          !bits.empty() && bits.size() <= 3 &&
          std::all_of(bits.begin(), bits.end(), [](char c) { return c >= '0' && c <= '9'; });
      prefix = digits ? std::stoi(bits) : -1;
      if (prefix < 0 || prefix > max_prefix) {
        return Error::Invalid(std::string(where) + ": '" + entry + "' has a prefix length over " +
                              std::to_string(max_prefix));
      }
    }
    cidr.prefix = prefix + (max_prefix == 32 ? 96 : 0);
    out.cidrs_.push_back(cidr);
  }
  return out;
}

std::optional<std::string> OutboundPolicy::HostOf(std::string_view url) {
  std::unique_ptr<CURLU, UrlDeleter> parsed(curl_url());
  if (!parsed) return std::nullopt;
  const std::string text(url);
  if (curl_url_set(parsed.get(), CURLUPART_URL, text.c_str(), CURLU_NON_SUPPORT_SCHEME) !=
      CURLUE_OK) {
    return std::nullopt;
  }
  auto host = Part(parsed.get(), CURLUPART_HOST);
  if (!host || host->empty()) return std::nullopt;
  return NormalHost(*host);
}

std::optional<Address> OutboundPolicy::LiteralAddress(std::string_view host) {
  const std::string text(host);
  Address out{};
  if (inet_pton(AF_INET6, text.c_str(), out.data()) == 1) return out;
  // inet_aton reads every form a resolver does: "127.1", "2130706433", "0x7f.0.0.1", octal.
  in_addr v4{};
  if (!text.empty() && inet_aton(text.c_str(), &v4) != 0) {
    return Mapped(reinterpret_cast<const uint8_t*>(&v4.s_addr));
  }
  return std::nullopt;
}

const char* OutboundPolicy::DeniedRange(const Address& address) {
  static constexpr Address kUnspecified{};
  static constexpr Address kLoopback{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  if (address == kUnspecified) return "unspecified";
  if (address == kLoopback) return "loopback";
  if (!IsMapped(address)) {
    static constexpr uint8_t kUniqueLocal[1] = {0xfc};
    static constexpr uint8_t kLinkLocal[2] = {0xfe, 0x80};
    static constexpr uint8_t kSiteLocal[2] = {0xfe, 0xc0};
    static constexpr uint8_t kMulticast[1] = {0xff};
    if (HasPrefix(address.data(), kUniqueLocal, 7)) return "private (unique local)";
    if (HasPrefix(address.data(), kLinkLocal, 10)) return "link-local";
    if (HasPrefix(address.data(), kSiteLocal, 10)) return "site-local";
    if (HasPrefix(address.data(), kMulticast, 8)) return "multicast";
  }
  const auto v4 = EmbeddedV4(address);
  if (!v4) return nullptr;
  for (const Range& range : kDeniedV4) {
    if (HasPrefix(v4->data() + 12, range.network.data(), range.prefix)) return range.why;
  }
  return nullptr;
}

bool OutboundPolicy::NamesHost(std::string_view host) const {
  return std::find(hosts_.begin(), hosts_.end(), host) != hosts_.end();
}

bool OutboundPolicy::AllowsAddress(const Address& address) const {
  const auto v4 = EmbeddedV4(address);
  return std::any_of(cidrs_.begin(), cidrs_.end(), [&](const Cidr& c) {
    return HasPrefix(address.data(), c.network.data(), c.prefix) ||
           (v4 && HasPrefix(v4->data(), c.network.data(), c.prefix));
  });
}

Status OutboundPolicy::CheckUrl(std::string_view field, std::string_view url) const {
  const std::string name(field);
  std::unique_ptr<CURLU, UrlDeleter> parsed(curl_url());
  if (!parsed) return Error::Internal("cannot allocate a URL parser");
  const std::string text(url);
  if (curl_url_set(parsed.get(), CURLUPART_URL, text.c_str(), CURLU_NON_SUPPORT_SCHEME) !=
      CURLUE_OK) {
    return Error::Invalid(name + " must be an absolute http or https URL");
  }
  const std::string scheme = AsciiLower(Part(parsed.get(), CURLUPART_SCHEME).value_or(""));
  if (scheme != "http" && scheme != "https") {
    return Error::Invalid(name + " must be an http or https URL");
  }
  if (Part(parsed.get(), CURLUPART_USER) || Part(parsed.get(), CURLUPART_PASSWORD)) {
    return Error::Invalid(name + " must not carry user info (user:password@)");
  }
  const auto raw_host = Part(parsed.get(), CURLUPART_HOST);
  if (!raw_host || raw_host->empty()) return Error::Invalid(name + " has no host");
  const std::string host = NormalHost(*raw_host);
  if (NamesHost(host)) return Ok();

  const auto literal = LiteralAddress(host);
  const bool allowed_literal = literal && AllowsAddress(*literal);
  if (scheme == "http" && !allow_http_ && !allowed_literal) {
    return Error::Invalid(name + " must be https (plain http only to a destination [outbound] " +
                          "allow names, or with allow_http = true)");
  }
  if (allowed_literal) return Ok();
  if (literal) {
    if (const char* why = DeniedRange(*literal)) {
      return Error::Invalid(name + " names " + Format(*literal) + ", a " + why +
                            " address the server does not call (unless [outbound] allow names it)");
    }
    return Ok();
  }
  const bool denied_name =
      host.ends_with(".localhost") ||
      std::find(std::begin(kDeniedNames), std::end(kDeniedNames), host) != std::end(kDeniedNames);
  if (denied_name) {
    return Error::Invalid(name + " names " + host +
                          ", an internal host the server does not call (unless [outbound] allow "
                          "names it)");
  }
  return Ok();
}

Status OutboundPolicy::CheckAddress(std::string_view url_host, const sockaddr* address) const {
  if (NamesHost(url_host)) return Ok();
  Address a{};
  if (address == nullptr) return Error::Forbidden("no address to connect to");
  if (address->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address);
    a = Mapped(reinterpret_cast<const uint8_t*>(&in->sin_addr.s_addr));
  } else if (address->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    std::memcpy(a.data(), in6->sin6_addr.s6_addr, 16);
  } else {
    return Error::Forbidden("refused by the outbound policy: not an IP address");
  }
  if (AllowsAddress(a)) return Ok();
  if (const char* why = DeniedRange(a)) {
    return Error::Forbidden("refused by the outbound policy: " + std::string(url_host) + " is at " +
                            Format(a) + ", a " + why + " address");
  }
  return Ok();
}

}  // namespace countersign
