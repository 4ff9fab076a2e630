// HostGuard: with auth off, only requests meant for this machine's loopback server.
//
// A server with auth off trusts whoever reaches it, which is safe only while that is a program
// on the same machine. A web page can still reach it through the browser: by DNS rebinding
// (its own name, re-pointed at 127.0.0.1, so the browser sends `Host: evil.example`) or by a
// cross-origin request (`Origin: https://evil.example`). The guard refuses both: the Host
// must be a loopback name or address (localhost, 127.0.0.0/8, ::1) or one of the configured
// extra hosts (the public_url's), and an Origin, when sent, must name such a host too. A
// request without Host (HTTP/1.0 tools) passes: browsers always send one. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "http/beast.hpp"

namespace countersign {

class HostGuard {
 public:
  // `extra_hosts`: host names (no port) accepted besides the loopback ones.
  explicit HostGuard(std::vector<std::string> extra_hosts = {});

  // Why `request` is refused (a 403), or nullopt.
  std::optional<Error> Check(const HttpRequest& request) const;

  // The host of an authority ("host", "host:port", "[v6]:port"), lower-cased; empty when it
  // is malformed.
  static std::string HostOf(std::string_view authority);
  static bool IsLoopbackHost(std::string_view host);

 private:
  bool Allowed(std::string_view host) const;

  std::vector<std::string> extra_hosts_;
};

}  // namespace countersign
