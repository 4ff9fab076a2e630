#include "engine/lifecycle.hpp"

#include <algorithm>

#include "core/canonical_json.hpp"
#include "core/request_json.hpp"
#include "core/response_schema.hpp"
#include "core/sha256.hpp"
#include "core/time_format.hpp"
#include "engine/grant_rules.hpp"

namespace countersign {

bool IsEligibleApprover(const Actor& actor, const Request& r, const PolicySet& policies) {
  if (r.approvers.empty()) return true;
  for (const auto& a : r.approvers) {
    if (policies.Satisfies(a, actor.name, actor.groups)) return true;
  }
  return false;
}

namespace {

// Distinct principals whose decisions on `r`, then `latest`, have `outcome`, oldest first.
std::vector<std::string> DecidersWith(const Request& r, const Decision& latest, Outcome outcome) {
  std::vector<std::string> out;
  auto add = [&](const Decision& d) {
    if (d.outcome == outcome && std::find(out.begin(), out.end(), d.principal) == out.end()) {
      out.push_back(d.principal);
    }
  };
  for (const auto& d : r.decisions) add(d);
  add(latest);
  return out;
}

// The arguments an approval that completes the quorum agrees to: the newest edit among the
// approvals, or the request's own.
std::string ApprovedArgumentsSha256(const Request& r, const Decision& latest) {
  std::string out = r.arguments_sha256;
  auto consider = [&](const Decision& d) {
    if (d.outcome == Outcome::kApproved && d.arguments) {
      out = Sha256Hex(CanonicalJson(*d.arguments));
    }
  };
  for (const auto& d : r.decisions) consider(d);
  consider(latest);
  return out;
}

// The hash of the newest structured answer among the approvals, `latest` included; empty when
// none carried one.
std::string ApprovedResponseSha256(const Request& r, const Decision& latest) {
  std::string out;
  auto consider = [&](const Decision& d) {
    if (d.outcome == Outcome::kApproved && d.response) {
      out = Sha256Hex(CanonicalJson(*d.response));
    }
  };
  for (const auto& d : r.decisions) consider(d);
  consider(latest);
  return out;
}

// A decision's response against the request's form: one is needed to approve or answer a
// request that has a schema (an empty one passes when nothing is required); a denial may send
// one, checked the same way; a request without a schema takes none.
Status CheckResponse(const Request& r, const Decision& d) {
  if (!r.response_schema) {
    if (d.response) return Error::InvalidField("response", "this request has no response_schema");
    return Ok();
  }
  const bool fills = d.outcome == Outcome::kApproved || d.outcome == Outcome::kAnswered;
  if (!d.response && !fills) return Ok();
  auto schema = ResponseSchema::Parse(*r.response_schema);
  if (!schema.ok()) {
    return Error::Internal("the stored response_schema of " + r.id +
                           " is invalid: " + schema.error().message);
  }
  Status checked = schema->Validate(d.response ? *d.response : boost::json::object());
  if (!checked.ok() && !d.response) {
    // A chat button carries no form: say where the form is.
    Error error = std::move(checked).error();
    error.message = "this request asks for a form to be filled in (" + error.message +
                    "): open the form from your own link, or run `countersign decide " + r.id +
                    " --choice " + d.choice + " --field NAME=VALUE`";
    return error;
  }
  return checked;
}

boost::json::object ViaToJson(const DecisionVia& via) {
  boost::json::object o{{"channel", via.channel}, {"identity", via.identity}};
  if (!via.response_url.empty()) o["response_url"] = via.response_url;
  return o;
}

std::string ChoiceIds(const Request& r) {
  std::string out;
  for (const auto& c : r.choices) {
    if (!out.empty()) out += ", ";
    out += c.id;
  }
  return out;
}

Error ConflictWith(const Request& current, const std::string& message) {
  return Error::Conflict(message, std::make_shared<const Request>(current));
}

EventDraft DecisionRecorded(const Request& r, const Decision& d,
                            const std::optional<DecisionVia>& via) {
  boost::json::object data{{"decision_id", d.id},
                           {"choice", d.choice},
                           {"outcome", OutcomeName(d.outcome)},
                           {"comment", d.comment}};
  if (!d.answer.empty()) data["answer"] = d.answer;
  if (via) data["via"] = ViaToJson(*via);
  // Edited arguments are the call the approver agreed to: their hash goes on the record and,
  // if this approval completes the quorum, into the receipt.
  if (d.arguments) data["arguments_sha256"] = Sha256Hex(CanonicalJson(*d.arguments));
  if (d.response) data["response"] = *d.response;
  return {d.at, r.tenant, r.id, "decision.recorded", d.principal, std::move(data)};
}

// The resolution a decision `d` on `r` brings about, if any, given the votes cast so far.
std::optional<Resolution> ResolutionBy(const Request& r, const Decision& d) {
  Resolution out{RequestStatus::kPending, d.at, {}, d.answer};
  switch (d.outcome) {
    case Outcome::kDenied:
      out.resolved_by = DecidersWith(r, d, Outcome::kDenied);
      if (static_cast<int>(out.resolved_by.size()) < r.deny_threshold) return std::nullopt;
      out.status = RequestStatus::kDenied;
      out.reason = ReasonCode::kDeniedByPerson;
      return out;
    case Outcome::kAnswered:
      out.status = RequestStatus::kAnswered;
      out.reason = ReasonCode::kAnswered;
      out.resolved_by = {d.principal};
      return out;
    case Outcome::kApproved:
      out.resolved_by = DecidersWith(r, d, Outcome::kApproved);
      if (static_cast<int>(out.resolved_by.size()) < r.quorum) return std::nullopt;
      out.status = RequestStatus::kApproved;
      out.reason = ReasonCode::kApproved;
      return out;
    case Outcome::kEscalate:
      return std::nullopt;
  }
  return std::nullopt;
}

// The checks and the plan of PlanDecision, short of recording refusals; `choice` is the choice
// as far as the checks got (a question's empty choice becomes "answer").
Result<TransitionPlan> CheckDecision(const Request& r, const DecisionAttempt& attempt,
                                     const PolicySet& policies, std::string& choice) {
  const Actor& actor = attempt.actor;
  if (!actor.CanDecide()) {
    return Error::Forbidden("role " + std::string(RoleName(actor.role)) + " may not decide");
  }
  if (!r.pending()) {
    return ConflictWith(r, "request is already " + std::string(StatusName(r.status)));
  }
  if (actor.name == r.requester) {
    return Error::Forbidden("the requester may not decide its own request");
  }
  Decision d = attempt.decision;
  if (!IsEligibleApprover(actor, r, policies)) {
    // Refused, but on the record: the attempt is committed as an audit event and the caller
    // then hears 403.
    return PlanRejection(r, actor.name, choice, "not an approver of this request", attempt.via,
                         d.at,
                         Error::Forbidden(actor.name + " is not an approver of this request"));
  }
  for (const auto& prior : r.decisions) {
    if (prior.principal == actor.name && prior.outcome != Outcome::kEscalate) {
      return ConflictWith(r, actor.name + " has already decided this request");
    }
  }
  if (r.kind == Kind::kQuestion) {
    if (choice.empty()) choice = "answer";
    // A question with a form is answered by filling it; the text is then optional.
    if (d.answer.empty() && !r.response_schema) {
      return Error::Invalid("a question needs a non-empty answer");
    }
  }
  if (choice.empty()) return Error::Invalid("choice is required (one of: " + ChoiceIds(r) + ")");
  const Choice* picked = r.FindChoice(choice);
  if (!picked) {
    return Error::Invalid("unknown choice '" + choice + "' (one of: " + ChoiceIds(r) + ")");
  }
  d.choice = choice;
  d.outcome = picked->outcome;
  CS_RETURN_IF_ERROR(CheckResponse(r, d));
  const std::optional<NewGrant>& grant = attempt.grant;
  if (grant && d.outcome != Outcome::kApproved) {
    return Error::Invalid("a grant can only come with an approval");
  }
  if (attempt.receipt && d.outcome != Outcome::kApproved) {
    return Error::Invalid("receipt constraints can only come with an approval");
  }
  if (grant && r.risk == "high") return Error::Invalid("a high-risk action can never be granted");
  if (grant && grant->scope == "session" && r.session.empty()) {
    return Error::Invalid("a session grant needs a request made in a session");
  }

  TransitionPlan plan;
  plan.events.push_back(DecisionRecorded(r, d, attempt.via));
  if (d.outcome == Outcome::kEscalate) {
    TransitionPlan escalation = PlanEscalation(r, d.at, "choice", actor.name);
    plan.escalate = std::move(escalation.escalate);
    plan.events.push_back(std::move(escalation.events.front()));
  }
  plan.resolve = ResolutionBy(r, d);
  if (plan.resolve) {
    plan.events.push_back({d.at,
                           r.tenant,
                           r.id,
                           "request.resolved",
                           actor.name,
                           {{"status", StatusName(plan.resolve->status)},
                            {"reason_code", ReasonCodeName(plan.resolve->reason)},
                            {"resolved_by", StringsToJson(plan.resolve->resolved_by)}}});
    if (plan.resolve->status == RequestStatus::kApproved) {
      plan.receipt_arguments_sha256 = ApprovedArgumentsSha256(r, d);
      plan.receipt_response_sha256 = ApprovedResponseSha256(r, d);
      if (attempt.receipt) plan.receipt_constraints = *attempt.receipt;
      if (grant) {
        plan.grant = MakeGrant(attempt.grant_id, r.tenant, r.action, *grant, r.session, r.requester,
                               actor.name, d.at, r.id);
        plan.events.push_back(GrantCreatedEvent(*plan.grant));
      }
    }
  }
  plan.record = std::move(d);
  return plan;
}

}  // namespace

bool IsRefusal(const Error& error) {
  return error.code == ErrorCode::kForbidden || error.code == ErrorCode::kConflict ||
         error.code == ErrorCode::kInvalid;
}

Result<TransitionPlan> PlanDecision(const Request& r, const DecisionAttempt& attempt,
                                    const PolicySet& policies) {
  std::string choice = attempt.decision.choice;
  auto plan = CheckDecision(r, attempt, policies, choice);
  if (plan.ok() || !attempt.via || !IsRefusal(plan.error())) return plan;
  // A decision from a chat button that the rules refuse is put on the record (with where it
  // came from, so the person is told why) instead of only answering the caller.
  const std::string reason = plan.error().message;
  // A press without the form a request asks for: the person gets the form (a modal or a link
  // of their own, as their chat app allows) with the answer.
  const bool form_required =
      !attempt.decision.response && plan.error().field.starts_with("response");
  TransitionPlan rejected = PlanRejection(r, attempt.actor.name, choice, reason, attempt.via,
                                          attempt.decision.at, std::move(plan).error());
  if (form_required) rejected.events.back().data["form_required"] = true;
  return rejected;
}

TransitionPlan PlanRejection(const Request& r, const std::string& actor, const std::string& choice,
                             const std::string& reason, const std::optional<DecisionVia>& via,
                             TimePoint at, std::optional<Error> refusal) {
  boost::json::object data{{"choice", choice}, {"reason", reason}};
  if (via) data["via"] = ViaToJson(*via);
  TransitionPlan plan;
  plan.events.push_back({at, r.tenant, r.id, "decision.rejected", actor, std::move(data)});
  plan.refusal = std::move(refusal);
  return plan;
}

TransitionPlan PlanEscalation(const Request& r, TimePoint now, std::string_view reason,
                              const std::string& actor) {
  const auto level = static_cast<size_t>(r.escalation_level);
  Escalation step{r.escalation_level + 1, r.deadline_at, r.approvers, false};
  boost::json::object data{{"escalation_level", step.level}, {"reason", reason}};
  if (level < r.escalate_to.size()) {
    const EscalationTier& tier = r.escalate_to[level];
    // The tier's approvers join those already eligible; the clock restarts for them.
    for (const auto& a : tier.approvers) {
      if (std::find(step.approvers.begin(), step.approvers.end(), a) == step.approvers.end()) {
        step.approvers.push_back(a);
      }
    }
    const auto timeout = tier.timeout.count() > 0 ? tier.timeout : r.tier_timeout;
    step.deadline = std::max(step.deadline, now + timeout);
    step.tier_reached = true;
    data["approvers"] = StringsToJson(tier.approvers);
    data["notify"] = StringsToJson(tier.notify);
    data["deadline_at"] = FormatTime(step.deadline);
  } else {
    data["tier"] = "none left";
  }
  TransitionPlan plan;
  plan.escalate = std::move(step);
  plan.events.push_back({now, r.tenant, r.id, "request.escalated", actor, std::move(data)});
  return plan;
}

std::optional<TransitionPlan> PlanTimeout(const Request& r, TimePoint now) {
  // A stale scheduler entry: resolved meanwhile, or the deadline moved later.
  if (!r.pending() || r.deadline_at > now) return std::nullopt;
  if (r.on_timeout == OnTimeout::kEscalate &&
      static_cast<size_t>(r.escalation_level) < r.escalate_to.size()) {
    return PlanEscalation(r, now, "timeout", "system");
  }
  // Past the last tier (or with no tiers), an escalating request expires.
  const RequestStatus status =
      r.on_timeout == OnTimeout::kDeny ? RequestStatus::kDenied : RequestStatus::kExpired;
  // Escalating past the last tier is its own reason: people were asked, tier after tier.
  const ReasonCode reason = r.on_timeout == OnTimeout::kEscalate ? ReasonCode::kEscalationExhausted
                                                                 : ReasonCode::kExpired;
  TransitionPlan plan;
  plan.resolve = Resolution{status, now, {}, "", reason, false};
  plan.events.push_back({now,
                         r.tenant,
                         r.id,
                         "request.expired",
                         "system",
                         {{"status", StatusName(status)},
                          {"reason_code", ReasonCodeName(reason)},
                          {"on_timeout", OnTimeoutName(r.on_timeout)},
                          {"deadline_at", FormatTime(r.deadline_at)}}});
  return plan;
}

Result<TransitionPlan> PlanCancel(const Request& r, const Actor& actor, const std::string& reason,
                                  TimePoint now) {
  if (actor.role != Role::kAdmin && actor.name != r.requester) {
    return Error::Forbidden("only the requester or an admin may cancel a request");
  }
  if (!r.pending()) {
    return ConflictWith(r, "request is already " + std::string(StatusName(r.status)));
  }
  const ReasonCode code =
      actor.name == r.requester ? ReasonCode::kCancelledByRequester : ReasonCode::kCancelledByAdmin;
  TransitionPlan plan;
  plan.resolve = Resolution{RequestStatus::kCancelled, now, {actor.name}, "", code, true};
  plan.events.push_back({now,
                         r.tenant,
                         r.id,
                         "request.cancelled",
                         actor.name,
                         {{"reason", reason}, {"reason_code", ReasonCodeName(code)}}});
  return plan;
}

TransitionPlan PlanAutoDecision(const Request& r, AutoDecision decision,
                                const std::string& decided_by) {
  const RequestStatus status =
      decision == AutoDecision::kApprove ? RequestStatus::kApproved : RequestStatus::kDenied;
  ReasonCode reason = ReasonCode::kDeniedByPolicy;
  if (status == RequestStatus::kApproved) {
    reason = decided_by.starts_with("grant:") ? ReasonCode::kApprovedByGrant
                                              : ReasonCode::kApprovedByPolicy;
  }
  TransitionPlan plan;
  plan.resolve = Resolution{status, r.created_at, {decided_by}, "", reason, true};
  plan.events.push_back({r.created_at,
                         r.tenant,
                         r.id,
                         "request.resolved",
                         "system",
                         {{"status", StatusName(status)},
                          {"reason_code", ReasonCodeName(reason)},
                          {"resolved_by", boost::json::array{decided_by}},
                          {"automatic", true}}});
  if (status == RequestStatus::kApproved) plan.receipt_arguments_sha256 = r.arguments_sha256;
  return plan;
}

std::optional<TransitionPlan> PlanReminder(const Request& r, TimePoint now) {
  if (!r.pending() || r.remind_every.count() <= 0) return std::nullopt;
  TransitionPlan plan;
  plan.events.push_back({now,
                         r.tenant,
                         r.id,
                         "request.reminded",
                         "system",
                         {{"notify", StringsToJson(r.notify)},
                          {"approvers", StringsToJson(r.approvers)},
                          {"deadline_at", FormatTime(r.deadline_at)}}});
  return plan;
}

Result<TransitionPlan> PlanExecutionReport(const Request& r, const Actor& actor,
                                           const NewOutcome& input, TimePoint now) {
  // Not even an admin: the report says what the requester's own executor did.
  if (actor.name != r.requester) {
    return Error::Forbidden("only the requester of a request reports its execution");
  }
  if (r.status != RequestStatus::kApproved) {
    return ConflictWith(r, "only an approved request has an execution to report; this one is " +
                               std::string(StatusName(r.status)));
  }
  if (r.execution) {
    return ConflictWith(r, "its execution was already reported (" + r.execution->status + ", by " +
                               r.execution->reported_by + ")");
  }
  ExecutionReport report;
  report.status = input.status;
  if (input.exit_code) report.exit_code = static_cast<int>(*input.exit_code);
  report.detail = input.detail;
  report.reported_by = actor.name;
  report.at = now;
  boost::json::object data{{"status", report.status}, {"detail", report.detail}};
  if (report.exit_code) {
    data["exit_code"] = *report.exit_code;
  } else {
    data["exit_code"] = nullptr;
  }
  TransitionPlan plan;
  plan.events.push_back({now, r.tenant, r.id, "execution.reported", actor.name, std::move(data)});
  plan.execution = std::move(report);
  return plan;
}

}  // namespace countersign
