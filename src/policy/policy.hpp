// Policy: one [[policy]] rule from the config file, and the built-in default.
//
// A policy decides, for the requests it matches, who may approve (approvers, quorum), how
// long they have (timeout, then on_timeout and the escalation tiers), who is told (notify),
// or that no human is asked at all (decision). Plain value type; immutable once loaded.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/request.hpp"

namespace countersign {

enum class AutoDecision { kNone, kApprove, kDeny };

// EscalationTier lives in core/request.hpp: a request keeps the tiers it was created with.

// Globs ('*' any run of characters, '?' one character); an empty risk matches any.
struct PolicyMatch {
  std::string action = "*";
  std::string requester = "*";
  std::string tenant = "*";
  std::string risk;
};

struct Policy {
  std::string name;
  PolicyMatch match;
  std::string risk = "normal";  // "normal" or "high"; high can never be auto-approved
  int quorum = 1;
  int deny_threshold = 1;              // distinct denials that resolve the request denied
  std::vector<std::string> approvers;  // empty: any approver of the tenant
  // What a request that names no timeout gets. A request may ask for more, up to max_timeout
  // when the policy sets one (the answer then warns that it was cut), else up to the server's
  // limit (GatewayOptions::max_timeout, 30 days).
  std::chrono::seconds timeout{300};
  std::optional<std::chrono::seconds> max_timeout;
  OnTimeout on_timeout = OnTimeout::kExpire;
  std::vector<EscalationTier> escalate_to;
  std::vector<std::string> notify;
  AutoDecision decision = AutoDecision::kNone;
  std::optional<std::chrono::seconds> remind_every;
  // The standing grants an approver may give with an approval ("session": this action in the
  // request's session; "requester": this action whenever this requester asks it, "always"
  // in the buttons), each for its ttl. Offered on approval requests that are not high-risk;
  // [] offers none.
  std::vector<GrantOption> grant_options = {{"session", std::chrono::hours(1)},
                                            {"requester", std::chrono::hours(24 * 30)}};
  std::string receipt_use = "reusable";  // or "single_use": executors consume the receipt
  // An approval is expected to be followed by an execution report within this (0: none).
  std::chrono::seconds report_within{0};
  std::string source;  // "file:line" where it was defined, or "built-in"
};

}  // namespace countersign
