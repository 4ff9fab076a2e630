// The request model: what a human is asked to decide, and the votes cast on it.
//
// Plain value types with no behaviour beyond naming their enums; the engine is the only code
// that changes a request. Safe to copy between threads.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "core/clock.hpp"
#include "core/reason_code.hpp"

namespace countersign {

// A conversation (core/conversation.hpp) is an alert settled by chatting with its subject.
enum class Kind { kApproval, kVerification, kQuestion, kConversation };

// kDismissed and kEnded end conversations only: an analyst chose to do nothing, or ended the
// chat before the subject answered.
enum class RequestStatus {
  kPending,
  kApproved,
  kDenied,
  kAnswered,
  kExpired,
  kCancelled,
  kDismissed,
  kEnded
};

// Where choosing a choice leads.
enum class Outcome { kApproved, kDenied, kEscalate, kAnswered };

enum class OnTimeout { kExpire, kDeny, kEscalate };

const char* KindName(Kind kind);
const char* StatusName(RequestStatus status);
const char* OutcomeName(Outcome outcome);
const char* OnTimeoutName(OnTimeout on_timeout);
std::optional<Kind> ParseKind(std::string_view text);
std::optional<RequestStatus> ParseStatus(std::string_view text);
std::optional<Outcome> ParseOutcome(std::string_view text);
std::optional<OnTimeout> ParseOnTimeout(std::string_view text);

struct Choice {
  std::string id;
  std::string label;
  std::string style;  // "primary", "danger" or "default"
  Outcome outcome = Outcome::kApproved;

  friend bool operator==(const Choice&, const Choice&) = default;
};

// One escalation tier: who becomes eligible, for how long, and who is told.
struct EscalationTier {
  std::vector<std::string> approvers;  // principals, "group:NAME" or chat identities
  std::chrono::seconds timeout{0};     // 0: the policy's timeout
  std::vector<std::string> notify;

  friend bool operator==(const EscalationTier&, const EscalationTier&) = default;
};

// What a resolution to `status` means when nothing more specific is known: a person approved,
// a person denied, ... Also what requests resolved before reason codes were recorded read as.
ReasonCode DefaultReasonFor(RequestStatus status);

// A standing permission an approver may give with an approval (a policy's grant_options):
// scope "session" (the request's action in its session) or "requester" (its action whenever
// its requester asks: "always approve"), lasting `ttl`. Offered only on requests that are not
// high-risk.
struct GrantOption {
  std::string scope;
  std::chrono::seconds ttl{0};

  friend bool operator==(const GrantOption&, const GrantOption&) = default;
};

// What the executor reported after an approved action ran (POST /v1/requests/{id}/outcome).
struct ExecutionReport {
  std::string status;  // "succeeded" or "failed"
  std::optional<int> exit_code;
  std::string detail;
  std::string reported_by;
  TimePoint at;

  friend bool operator==(const ExecutionReport&, const ExecutionReport&) = default;
};

// The choices a request of `kind` gets when it names none.
std::vector<Choice> DefaultChoices(Kind kind);

struct Decision {
  std::string id;
  std::string request_id;
  std::string principal;
  std::string choice;
  Outcome outcome = Outcome::kApproved;
  std::string comment;
  std::string answer;                            // the free-text answer of a question
  std::optional<boost::json::object> arguments;  // edited arguments, when the approver edited
  TimePoint at;
  // The structured answer, when the request has a response_schema (core/response_schema.hpp).
  std::optional<boost::json::object> response = {};

  friend bool operator==(const Decision&, const Decision&) = default;
};

struct Request {
  std::string id;
  std::string tenant = "default";
  Kind kind = Kind::kApproval;
  std::string action;
  std::string title;
  boost::json::object details;
  boost::json::object arguments;
  std::string arguments_sha256;
  std::string requester;
  std::string session;
  RequestStatus status = RequestStatus::kPending;
  std::vector<Choice> choices;
  std::vector<std::string> approvers;
  int quorum = 1;
  std::string policy = "default";
  std::string policy_reason;
  std::string risk = "normal";  // "normal" or "high"
  int deny_threshold = 1;
  std::vector<EscalationTier> escalate_to;  // tiers not yet reached are escalate_to[level..]
  std::chrono::seconds tier_timeout{300};   // the policy timeout, for tiers that set none
  std::chrono::seconds remind_every{0};     // 0: no reminders
  TimePoint created_at;
  TimePoint deadline_at;
  OnTimeout on_timeout = OnTimeout::kExpire;
  int escalation_level = 0;
  std::vector<std::string> notify;
  std::string callback_url;
  std::string idempotency_key;
  std::vector<Decision> decisions;
  std::optional<TimePoint> resolved_at;
  std::vector<std::string> resolved_by;
  std::string answer;   // set when a question is answered
  std::string receipt;  // compact JWS, once approved
  // The form a decision's `response` must fill (core/response_schema.hpp), as the caller gave
  // it; checked when the request was created.
  std::optional<boost::json::object> response_schema;
  // Why it left pending (core/reason_code.hpp); kNone while pending.
  ReasonCode reason_code = ReasonCode::kNone;
  // What an approver may grant with an approval, from the policy; empty for high-risk requests.
  std::vector<GrantOption> grant_options;
  // "single_use": the executor must consume the receipt (POST /v1/receipts/consume) before it
  // acts, so a receipt runs its action once; "reusable" (the default) asks only that it verify.
  std::string receipt_use = "reusable";
  // An approval is expected to be followed by an execution report within this (0: none
  // expected); past it, the request counts as unreported (/metrics, the inbox).
  std::chrono::seconds report_within{0};
  std::optional<ExecutionReport> execution;

  bool pending() const { return status == RequestStatus::kPending; }
  const Choice* FindChoice(std::string_view choice_id) const;
  // The structured answer the request was resolved with: the response of the newest decision
  // carrying one whose outcome is the request's status (approved or answered); else null.
  const boost::json::object* ResolvedResponse() const;

  friend bool operator==(const Request&, const Request&) = default;
};

}  // namespace countersign
