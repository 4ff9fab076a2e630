// PolicySet: the loaded policies, groups and high-risk action names, and the one function
// that picks the policy for a new request.
//
// Evaluate() walks the policies in file order and returns the first whose match holds, or
// the built-in default (quorum 1, any approver, 300 s, expire). An action named in the
// high-risk list (built in, overridable from config) is high risk whatever policy matched.
// For `match.risk`, a request counts as "high" when it declared risk "high" or its action is
// on the high-risk list, and as "normal" otherwise (a request can not declare itself out of
// a high-risk policy).
// Pure and immutable: share it as std::shared_ptr<const PolicySet> and swap the pointer on
// reload. Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "policy/glob.hpp"
#include "policy/policy.hpp"

namespace countersign {

struct RequestFacts {
  std::string_view action;
  std::string_view requester;
  std::string_view tenant;
  std::string_view risk;  // as the request declared it ("" when it did not)
};

struct PolicyVerdict {
  const Policy* policy = nullptr;  // never null; points into the PolicySet
  std::string reason;              // e.g. "matched prod-deploys: action deploy_* ~ deploy_x"
  bool high_risk = false;
  // What to do without asking anyone: the policy's decision, except that an automatic
  // approval of a high-risk request becomes kNone (a human is asked under the policy's
  // approvers and quorum instead). Automatic denials stand.
  AutoDecision decision = AutoDecision::kNone;
};

class PolicySet {
 public:
  PolicySet() : PolicySet({}, {}, DefaultHighRiskActions()) {}
  PolicySet(std::vector<Policy> policies, std::map<std::string, std::vector<std::string>> groups,
            std::vector<std::string> high_risk_actions);

  PolicyVerdict Evaluate(const RequestFacts& facts) const;

  // Whether `principal` is a member of group `group` as the config's [groups] says.
  bool InGroup(std::string_view principal, std::string_view group) const;
  // Whether `principal` satisfies an approvers entry: the name itself, "group:NAME" it is a
  // member of (config groups or `token_groups`), or "*".
  bool Satisfies(std::string_view entry, std::string_view principal,
                 const std::vector<std::string>& token_groups) const;
  bool IsHighRiskAction(std::string_view action) const;
  // The first high-risk glob that `action` matches, or nullptr. Compared case-insensitively,
  // so "Deploy_PRODUCTION" does not slip past "*production*".
  const std::string* HighRiskPattern(std::string_view action) const;
  // The principals of config group `group`, with the members of a nested "group:OTHER"
  // entry listed in its place; empty for an unknown group. Token groups are not included.
  std::vector<std::string> Members(std::string_view group) const;

  const std::vector<Policy>& policies() const { return policies_; }
  const Policy& default_policy() const { return default_; }
  const std::map<std::string, std::vector<std::string>>& groups() const { return groups_; }
  const std::vector<std::string>& high_risk_actions() const { return high_risk_actions_; }

  // Action globs that are high risk unless the config replaces the list.
  static std::vector<std::string> DefaultHighRiskActions();

 private:
  std::vector<Policy> policies_;
  std::map<std::string, std::vector<std::string>> groups_;
  std::vector<std::string> high_risk_actions_;
  Policy default_;
};

}  // namespace countersign
