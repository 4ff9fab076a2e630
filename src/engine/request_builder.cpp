#include "engine/request_builder.hpp"

#include <algorithm>
#include <set>

#include "core/canonical_json.hpp"
#include "core/choice_meaning.hpp"
#include "core/response_schema.hpp"
#include "core/sha256.hpp"
#include "engine/field_rules.hpp"

namespace countersign {
namespace {

PolicyVerdict Evaluate(const Actor& actor, const NewRequest& input, const PolicySet& policies) {
  return policies.Evaluate({input.action, actor.name, actor.tenant, input.risk});
}

AutoVerdict VerdictOf(const PolicyVerdict& verdict) {
  AutoVerdict out;
  // The verdict has already applied the high-risk rule: never auto-approved.
  if (verdict.decision != AutoDecision::kNone) {
    out.decision = verdict.decision;
    out.decided_by = "policy:" + verdict.policy->name;
  }
  // No grant covers a high-risk action.
  out.grantable = out.AsksAPerson() && !verdict.high_risk;
  return out;
}

Status CheckChoices(const std::vector<Choice>& choices) {
  if (choices.empty() || choices.size() > kMaxChoices) {
    return Error::Invalid("choices must hold 1 to " + std::to_string(kMaxChoices) + " entries");
  }
  std::set<std::string> seen;
  for (const auto& c : choices) {
    if (!IsValidChoiceId(c.id)) {
      return Error::Invalid("choice id '" + c.id + "' must match [A-Za-z0-9_-]{1,64}");
    }
    if (!seen.insert(c.id).second) return Error::Invalid("choice id '" + c.id + "' repeats");
    if (c.outcome == Outcome::kAnswered) {
      return Error::Invalid("only a question can be answered; use approved, denied or escalate");
    }
    if (c.label.empty() || c.label.size() > 75) {
      return Error::Invalid("choice label must be 1 to 75 bytes");
    }
    CS_RETURN_IF_ERROR(ChoiceMeaning::Check(c));
  }
  return Ok();
}

bool IsCallbackUrl(const std::string& url) {
  return url.size() <= kMaxUrlBytes && !HasControlChars(url) &&
         url.find(' ') == std::string::npos &&
         (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0);
}

// The approvers of a request under `policy`: the policy's, or those the request names when
// the policy allows each of them.
Result<std::vector<std::string>> MergeApprovers(std::vector<std::string>& asked,
                                                const Policy& policy, const PolicySet& policies) {
  if (asked.empty()) return policy.approvers;
  for (const auto& a : asked) {
    const bool allowed =
        policy.approvers.empty() ||
        std::any_of(policy.approvers.begin(), policy.approvers.end(), [&](const auto& e) {
          return e == a || (a.rfind("group:", 0) != 0 && policies.Satisfies(e, a, {}));
        });
    if (!allowed)
      return Error::Invalid("approver " + a + " is not allowed by policy " + policy.name);
  }
  return std::move(asked);
}

}  // namespace

RequestBuilder::RequestBuilder(std::chrono::seconds default_timeout,
                               std::chrono::seconds max_timeout)
    : default_timeout_(default_timeout), max_timeout_(max_timeout) {}

AutoVerdict RequestBuilder::Route(const Actor& actor, const NewRequest& input,
                                  const PolicySet& policies) {
  return VerdictOf(Evaluate(actor, input, policies));
}

Status RequestBuilder::CheckFields(const NewRequest& in) const {
  if (in.action.empty()) return Error::Invalid("action is required");
  if (!IsValidAction(in.action)) return Error::Invalid("action must match [A-Za-z0-9_.:/-]{1,128}");
  if (in.title.empty()) return Error::Invalid("title is required");
  if (in.title.size() > kMaxTitleBytes) {
    return Error::Invalid("title is longer than " + std::to_string(kMaxTitleBytes) + " bytes");
  }
  const auto kind = ParseKind(in.kind);
  if (!kind || (*kind == Kind::kConversation && !in.from_alert)) {
    return Error::Invalid(
        "kind must be approval, verification or question (a conversation is created by POST "
        "/v1/alerts)");
  }
  if (in.on_timeout && !ParseOnTimeout(*in.on_timeout)) {
    return Error::Invalid("on_timeout must be expire, deny or escalate");
  }
  if (!in.risk.empty() && in.risk != "normal" && in.risk != "high") {
    return Error::Invalid("risk must be normal or high");
  }
  if (in.choices && *kind != Kind::kQuestion) CS_RETURN_IF_ERROR(CheckChoices(*in.choices));
  if (in.approvers.size() > kMaxApprovers) {
    return Error::Invalid("at most " + std::to_string(kMaxApprovers) + " approvers");
  }
  for (const auto& a : in.approvers) {
    if (a.empty() || a.size() > kMaxShortText || HasControlChars(a)) {
      return Error::Invalid("each approver must be a name of 1 to 128 printable bytes");
    }
  }
  if (in.quorum && (*in.quorum < 1 || *in.quorum > kMaxQuorum)) {
    return Error::Invalid("quorum must be between 1 and " + std::to_string(kMaxQuorum));
  }
  if (in.timeout_seconds &&
      (*in.timeout_seconds < 1 || *in.timeout_seconds > max_timeout_.count())) {
    return Error::Invalid("timeout_seconds must be between 1 and " +
                          std::to_string(max_timeout_.count()));
  }
  if (in.session.size() > kMaxShortText || HasControlChars(in.session)) {
    return Error::Invalid("session must be at most 128 printable bytes");
  }
  if (in.idempotency_key.size() > 255 || HasControlChars(in.idempotency_key)) {
    return Error::Invalid("idempotency_key must be at most 255 printable bytes");
  }
  if (!in.callback_url.empty() && !IsCallbackUrl(in.callback_url)) {
    return Error::Invalid("callback_url must be an http or https URL");
  }
  for (const auto& n : in.notify) {
    if (n.empty() || n.size() > kMaxShortText || HasControlChars(n)) {
      return Error::Invalid("each notify entry must be 1 to 128 printable bytes");
    }
  }
  if (in.response_schema) {
    if (*kind == Kind::kConversation) {
      return Error::Invalid("a conversation can not have a response_schema");
    }
    auto schema = ResponseSchema::Parse(*in.response_schema);
    if (!schema.ok()) return std::move(schema).error();
  }
  return Ok();
}

Result<RequestBuilder::Built> RequestBuilder::Build(const Actor& actor, NewRequest& in,
                                                    const PolicySet& policies, std::string id,
                                                    TimePoint now) const {
  CS_RETURN_IF_ERROR(CheckFields(in));
  Request r;
  r.kind = *ParseKind(in.kind);
  if (in.choices && r.kind != Kind::kQuestion) {
    r.choices = std::move(*in.choices);
    // A button's colour follows its outcome; the request may only ask for neutral.
    for (auto& c : r.choices) c.style = ChoiceMeaning::Style(c);
  } else {
    r.choices = DefaultChoices(r.kind);
  }

  // The policy sets the rules; the request may only make them stricter.
  const PolicyVerdict verdict = Evaluate(actor, in, policies);
  const Policy& policy = *verdict.policy;
  const bool builtin = verdict.policy == &policies.default_policy();
  // The policy's timeout is what a request gets when it names none; only a policy's
  // max_timeout cuts what a request asks for (CheckFields holds it to max_timeout_).
  const std::chrono::seconds policy_timeout = builtin ? default_timeout_ : policy.timeout;
  int64_t timeout = in.timeout_seconds.value_or(policy_timeout.count());
  std::vector<std::string> warnings;
  if (policy.max_timeout && timeout > policy.max_timeout->count()) {
    warnings.push_back("timeout_seconds " + std::to_string(timeout) + " was cut to " +
                       std::to_string(policy.max_timeout->count()) + ": policy " + policy.name +
                       " allows at most that (max_timeout)");
    timeout = policy.max_timeout->count();
  }
  const int64_t quorum = std::max<int64_t>(in.quorum.value_or(1), policy.quorum);
  auto approvers = MergeApprovers(in.approvers, policy, policies);
  if (!approvers.ok()) return std::move(approvers).error();
  const bool has_group = std::any_of(approvers->begin(), approvers->end(),
                                     [](const auto& a) { return a.rfind("group:", 0) == 0; });
  if (!approvers->empty() && !has_group && static_cast<size_t>(quorum) > approvers->size()) {
    return Error::Invalid("quorum " + std::to_string(quorum) +
                          " needs at least that many approvers");
  }
  r.on_timeout = policy.on_timeout;
  if (in.on_timeout && *ParseOnTimeout(*in.on_timeout) != policy.on_timeout) {
    if (policy.on_timeout != OnTimeout::kExpire) {
      return Error::Invalid("policy " + policy.name + " sets on_timeout to " +
                            OnTimeoutName(policy.on_timeout) + "; a request can not change it");
    }
    r.on_timeout = *ParseOnTimeout(*in.on_timeout);
  }

  r.id = std::move(id);
  r.tenant = actor.tenant;
  r.action = std::move(in.action);
  r.title = std::move(in.title);
  r.details = std::move(in.details);
  r.arguments = std::move(in.arguments);
  r.arguments_sha256 = Sha256Hex(CanonicalJson(r.arguments));
  r.response_schema = std::move(in.response_schema);
  r.requester = actor.name;
  r.session = std::move(in.session);
  r.approvers = std::move(approvers).value();
  r.quorum = static_cast<int>(quorum);
  r.policy = policy.name;
  r.policy_reason = verdict.reason;
  r.risk = verdict.high_risk ? "high" : "normal";
  r.deny_threshold = policy.deny_threshold;
  r.escalate_to = policy.escalate_to;
  r.tier_timeout = policy_timeout;
  r.created_at = now;
  r.deadline_at = r.created_at + std::chrono::seconds(timeout);
  r.remind_every = policy.remind_every.value_or(std::chrono::seconds(0));
  // Standing grants are for approvals a person makes, never for high-risk ones; a session
  // grant needs a session to be about.
  if (r.kind == Kind::kApproval && r.risk != "high") {
    for (const auto& option : policy.grant_options) {
      if (option.scope == "session" && r.session.empty()) continue;
      // No grant outlasts the server's longest timeout (what Decide allows a grant), so every
      // option offered can be given.
      r.grant_options.push_back({option.scope, std::min(option.ttl, max_timeout_)});
    }
  }
  r.receipt_use = policy.receipt_use;
  r.report_within = policy.report_within;
  r.notify = policy.notify;
  for (auto& n : in.notify) {
    if (std::find(r.notify.begin(), r.notify.end(), n) == r.notify.end()) {
      r.notify.push_back(std::move(n));
    }
  }
  r.callback_url = std::move(in.callback_url);
  r.idempotency_key = std::move(in.idempotency_key);
  return Built{std::move(r), VerdictOf(verdict), std::move(warnings)};
}

}  // namespace countersign
