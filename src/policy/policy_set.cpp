#include "policy/policy_set.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

#include "core/ascii.hpp"

namespace countersign {
namespace {

constexpr std::string_view kGroupPrefix = "group:";

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// One "field glob ~ value" clause of a match, skipped when the glob is "*".
void AddCondition(std::string& out, std::string_view field, std::string_view pattern,
                  std::string_view value) {
  if (pattern == "*") return;
  if (!out.empty()) out += ", ";
  out.append(field).append(" ").append(pattern).append(" ~ ").append(value);
}

}  // namespace

PolicySet::PolicySet(std::vector<Policy> policies,
                     std::map<std::string, std::vector<std::string>> groups,
                     std::vector<std::string> high_risk_actions)
    : policies_(std::move(policies)),
      groups_(std::move(groups)),
      high_risk_actions_(std::move(high_risk_actions)) {
  default_.name = "default";
  default_.source = "built-in";
}

std::vector<std::string> PolicySet::DefaultHighRiskActions() {
  // Destructive or irreversible by name. Kept short on purpose: a long list trips on
  // harmless actions and teaches people to ignore the flag. Replace it with [risk].
  return {"rm_rf*",           "wipe_*",        "*drop_database*", "*drop_table*",
          "*truncate_table*", "*delete_all*",  "*force_push*",    "*production*",
          "*transfer_funds*", "*disable_mfa*", "*grant_admin*"};
}

const std::string* PolicySet::HighRiskPattern(std::string_view action) const {
  const std::string lowered = AsciiLower(action);
  for (const auto& pattern : high_risk_actions_) {
    if (GlobMatch(AsciiLower(pattern), lowered)) return &pattern;
  }
  return nullptr;
}

bool PolicySet::IsHighRiskAction(std::string_view action) const {
  return HighRiskPattern(action) != nullptr;
}

PolicyVerdict PolicySet::Evaluate(const RequestFacts& facts) const {
  const std::string* listed = HighRiskPattern(facts.action);
  const bool declared_high = facts.risk == "high";
  const std::string_view risk = declared_high || listed != nullptr ? "high" : "normal";

  PolicyVerdict verdict;
  for (const auto& policy : policies_) {
    const PolicyMatch& match = policy.match;
    if (!GlobMatch(match.action, facts.action) || !GlobMatch(match.requester, facts.requester) ||
        !GlobMatch(match.tenant, facts.tenant) ||
        (!match.risk.empty() && !GlobMatch(match.risk, risk))) {
      continue;
    }
    std::string conditions;
    AddCondition(conditions, "action", match.action, facts.action);
    AddCondition(conditions, "requester", match.requester, facts.requester);
    AddCondition(conditions, "tenant", match.tenant, facts.tenant);
    if (!match.risk.empty() && match.risk != "*") {
      if (!conditions.empty()) conditions += ", ";
      conditions.append("risk ").append(risk);
    }
    verdict.policy = &policy;
    verdict.reason = "matched " + policy.name + ": " +
                     (conditions.empty() ? std::string("matches every request") : conditions);
    break;
  }
  if (verdict.policy == nullptr) {
    verdict.policy = &default_;
    verdict.reason = "no policy matched; built-in default";
  }

  const Policy& policy = *verdict.policy;
  verdict.high_risk = policy.risk == "high" || declared_high || listed != nullptr;
  if (policy.risk == "high") {
    verdict.reason += "; high risk: policy " + policy.name + " has risk high";
  } else if (declared_high) {
    verdict.reason += "; high risk: the request declared risk high";
  } else if (listed != nullptr) {
    verdict.reason += "; high risk: action " + std::string(facts.action) +
                      " is on the high-risk list (" + *listed + ")";
  }
  verdict.decision = policy.decision;
  if (verdict.decision == AutoDecision::kApprove && verdict.high_risk) {
    verdict.decision = AutoDecision::kNone;
    verdict.reason += "; automatic approval withheld: a high-risk request needs a person";
  }
  return verdict;
}

bool PolicySet::InGroup(std::string_view principal, std::string_view group) const {
  const auto found = groups_.find(std::string(group));
  if (found == groups_.end() || principal.empty()) return false;
  for (const auto& member : found->second) {
    if (StartsWith(member, kGroupPrefix)) {
      // One level of nesting only (the loader rejects deeper nesting and cycles), so this
      // never recurses further.
      const auto nested = groups_.find(member.substr(kGroupPrefix.size()));
      if (nested == groups_.end()) continue;
      for (const auto& inner : nested->second) {
        if (inner == principal) return true;
      }
    } else if (member == principal) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> PolicySet::Members(std::string_view group) const {
  std::vector<std::string> out;
  auto add = [&out](const std::string& name) {
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  };
  const auto found = groups_.find(std::string(group));
  if (found == groups_.end()) return out;
  for (const auto& member : found->second) {
    if (!StartsWith(member, kGroupPrefix)) {
      add(member);
      continue;
    }
    const auto nested = groups_.find(member.substr(kGroupPrefix.size()));
    if (nested == groups_.end()) continue;
    for (const auto& inner : nested->second) {
      if (!StartsWith(inner, kGroupPrefix)) add(inner);
    }
  }
  return out;
}

bool PolicySet::Satisfies(std::string_view entry, std::string_view principal,
                          const std::vector<std::string>& token_groups) const {
  if (entry.empty() || principal.empty()) return false;
  if (entry == "*" || entry == principal) return true;
  if (!StartsWith(entry, kGroupPrefix)) return false;
  const std::string_view group = entry.substr(kGroupPrefix.size());
  if (group.empty()) return false;
  if (InGroup(principal, group)) return true;
  return std::find(token_groups.begin(), token_groups.end(), group) != token_groups.end();
}

}  // namespace countersign
