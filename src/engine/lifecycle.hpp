// Lifecycle: the rules of a request's life, as plain functions returning a transition plan.
//
// Each function takes a request as the store's writer has just read it (with its decisions),
// what happened to it (a decision, a deadline, an escalation, a cancellation, ...) and the
// time, and returns the TransitionPlan that makes it so: what to write, in one transaction.
// Nothing here touches a store or a clock, so the rules are unit-tested on values; Gateway
// commits the plans (see Gateway::ApplyPlan). An error is a refusal the caller hears
// (kForbidden, kConflict with the current request, kInvalid) and means nothing is written.
// Pure functions of their arguments; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/actor.hpp"
#include "core/grant.hpp"
#include "core/request.hpp"
#include "core/result.hpp"
#include "engine/new_outcome.hpp"
#include "engine/new_request.hpp"
#include "policy/policy.hpp"
#include "policy/policy_set.hpp"
#include "store/store.hpp"

namespace countersign {

// Leaving pending, as one compare-and-set on the request.
struct Resolution {
  RequestStatus status = RequestStatus::kPending;
  TimePoint at;
  std::vector<std::string> resolved_by;
  std::string answer;
  ReasonCode reason = ReasonCode::kNone;  // why, for a program (core/reason_code.hpp)
  // Whether losing the compare-and-set to a concurrent change is a conflict for the caller
  // (a decision, a cancellation) or merely nothing left to do (a deadline that came late).
  bool lost_race_is_conflict = true;

  friend bool operator==(const Resolution&, const Resolution&) = default;
};

// Moving a pending request to its next escalation level, as one compare-and-set.
struct Escalation {
  int level = 0;  // the new escalation level
  TimePoint deadline;
  std::vector<std::string> approvers;  // every approver eligible from now on
  bool tier_reached = false;           // false: no tier was left, only the level rose

  friend bool operator==(const Escalation&, const Escalation&) = default;
};

// What one state change writes, in this order: the compare-and-set (escalate, resolve or the
// execution report), the decision, the events, the receipt and the grant. An empty plan writes
// nothing.
struct TransitionPlan {
  std::optional<Decision> record;  // a decision to insert
  std::optional<Escalation> escalate;
  std::optional<Resolution> resolve;
  std::vector<EventDraft> events;
  // With an approval: sign a receipt binding these arguments (their SHA-256).
  std::optional<std::string> receipt_arguments_sha256;
  std::string receipt_response_sha256;     // and this structured answer, when it has one
  ReceiptConstraints receipt_constraints;  // and the limits the approval put on it
  std::optional<Grant> grant;              // given with the approval
  // The executor's report, as one compare-and-set: set only while none was reported.
  std::optional<ExecutionReport> execution;
  // A refusal put on the record: the plan is committed, then the caller hears this error.
  std::optional<Error> refusal;
};

// A decision as the gateway received it, with what the rules need besides the request.
struct DecisionAttempt {
  Actor actor;
  Decision decision;  // id, request_id, principal, choice, comment, answer, arguments, at
  std::optional<NewGrant> grant;  // asked with an approval; its terms already checked
  std::string grant_id;           // the id that grant gets
  std::optional<DecisionVia> via;
  // Limits on the receipt, asked with an approval (the one completing the quorum sets them);
  // their ranges already checked.
  std::optional<ReceiptConstraints> receipt;
};

// Whether `actor` is among the approvers of `r` (anyone, when `r` names none).
bool IsEligibleApprover(const Actor& actor, const Request& r, const PolicySet& policies);

// Whether an error is a refusal by the rules (forbidden, conflict, invalid), which a decision
// from a chat button puts on the record, rather than a failure of the store.
bool IsRefusal(const Error& error);

// Applies a decision to pending request `r`: the actor must be allowed to decide (not the
// requester: separation of duties), an eligible approver (else the attempt is recorded as
// decision.rejected and refused with kForbidden), not have decided already (an escalate vote
// aside), and pick one of its choices (a question defaults to "answer" and needs one). Then
// the decision is recorded and, by its choice's outcome: an approval resolves approved when
// `r.quorum` distinct principals have approved (with a receipt binding the newest edited
// arguments among the approvals, and the grant asked with it); a denial resolves denied when
// `r.deny_threshold` distinct principals have denied; an answer resolves answered; escalate
// moves the request to its next tier (see PlanEscalation). With `attempt.via` set, every
// refusal is put on the record (decision.rejected, naming where it came from) and carried as
// the plan's refusal instead of being returned as an error.
Result<TransitionPlan> PlanDecision(const Request& r, const DecisionAttempt& attempt,
                                    const PolicySet& policies);

// A refused decision on the record: one decision.rejected event by `actor` naming `choice`,
// `reason` and `via` when given; the request itself does not change. `refusal` is what the
// caller then hears (none for a refusal the caller already knows about).
TransitionPlan PlanRejection(const Request& r, const std::string& actor, const std::string& choice,
                             const std::string& reason, const std::optional<DecisionVia>& via,
                             TimePoint at, std::optional<Error> refusal = std::nullopt);

// Moves pending `r` to its next escalation tier: the tier's approvers join those eligible
// and the deadline becomes at least `now` plus the tier's timeout (the policy's when it sets
// none). With no tier left only the level rises. One request.escalated event by `actor`
// giving `reason` ("choice" or "timeout").
TransitionPlan PlanEscalation(const Request& r, TimePoint now, std::string_view reason,
                              const std::string& actor);

// What `r`'s deadline does at `now`: nothing (nullopt) when `r` is no longer pending or its
// deadline is still ahead (a stale timer); with on_timeout escalate and a tier left, an
// escalation; otherwise it resolves denied (on_timeout deny) or expired, with a
// request.expired event, and a resolution that lost its race is nothing to do.
std::optional<TransitionPlan> PlanTimeout(const Request& r, TimePoint now);

// Cancels `r` for `actor`, who must be its requester or an admin; kConflict when `r` is no
// longer pending.
Result<TransitionPlan> PlanCancel(const Request& r, const Actor& actor, const std::string& reason,
                                  TimePoint now);

// Resolves a request just created at once, as a policy or a grant (`decided_by`) decided:
// approved (with a receipt of its arguments) or denied, by "system", marked automatic.
TransitionPlan PlanAutoDecision(const Request& r, AutoDecision decision,
                                const std::string& decided_by);

// A reminder for `r` at `now` (request.reminded, naming who to nudge), or nullopt when `r` is
// no longer pending or has no reminders.
std::optional<TransitionPlan> PlanReminder(const Request& r, TimePoint now);

// The executor's report on `r` (POST /v1/requests/{id}/outcome), `input` already checked
// (CheckNewOutcome): only its requester reports (kForbidden otherwise), only on an approved
// request and only once (kConflict with `r` otherwise; the first report stands). Sets the
// execution report (reported_by `actor`, at `now`) with one execution.reported event whose
// data are status, exit_code and detail.
Result<TransitionPlan> PlanExecutionReport(const Request& r, const Actor& actor,
                                           const NewOutcome& input, TimePoint now);

}  // namespace countersign
