// AisocHostAllowList: which URLs a verification may make the server POST to (its webhook_url
// and timeline_url), from [compat.aisoc] allow_hosts.
//
// The server calls these URLs on a caller's behalf, so they are checked before anything is
// created or sent. A pattern is a host name ("hooks.slack.com", matched exactly) or a
// wildcard ("*.webhook.office.com", matching any name below that domain but not the domain
// itself); names compare case-insensitively and a pattern never names a port. A URL passes
// when it is https, carries no user info, does not percent-encode its host, and a pattern
// matches its host. Plain http passes
// only for a loopback host (localhost, 127.0.0.0/8, ::1) that a pattern names exactly, which
// is what tests and a local relay use. Immutable; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace countersign {

class AisocHostAllowList {
 public:
  explicit AisocHostAllowList(std::vector<std::string> patterns);

  // Ok, or kInvalid saying why `url` may not be called, naming `field` ("webhook_url").
  Status Check(std::string_view field, std::string_view url) const;

 private:
  // Whether an exact pattern names `host` (lower case); with `wildcards`, a wildcard too.
  bool Matches(std::string_view host, bool wildcards) const;

  std::vector<std::string> patterns_;  // lower case
};

}  // namespace countersign
