// Grant: a standing "don't ask again" for one action, in one session, for one requester or in
// a whole tenant.
#pragma once

#include <optional>
#include <string>

#include "core/clock.hpp"

namespace countersign {

struct Grant {
  std::string id;  // "grt_…"
  std::string tenant;
  std::string action;
  std::string scope;      // "session", "requester" or "tenant"
  std::string session;    // for scope "session"
  std::string requester;  // for scope "requester": whose requests it approves
  std::string created_by;
  TimePoint created_at;
  TimePoint expires_at;
  std::optional<TimePoint> revoked_at;
  std::string request_id;  // the decision that created it, if any

  bool ActiveAt(TimePoint now) const { return !revoked_at && expires_at > now; }
};

}  // namespace countersign
