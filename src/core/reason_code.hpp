// ReasonCode: why a request left pending, in words a program can branch on.
//
// The status says what happened (approved, denied, expired, ...); the reason code says how, so
// an agent can tell a person's denial from a policy's, or a timeout from an exhausted
// escalation, without parsing the human text. Every terminal state carries one; a pending
// request has none (kNone). The names are part of the API (reads, webhooks, events, the CLI's
// --json, the clients' exceptions, MCP tool results) and never change.
#pragma once

#include <optional>
#include <string_view>

namespace countersign {

enum class ReasonCode {
  kNone,
  kApproved,              // the approvers' quorum approved
  kApprovedByGrant,       // a standing grant approved it at creation
  kApprovedByPolicy,      // a policy's decision = "approve"
  kDeniedByPerson,        // the approvers' deny threshold denied
  kDeniedByPolicy,        // a policy's decision = "deny"
  kExpired,               // nobody decided in time (on_timeout expire or deny)
  kCancelledByRequester,  // its requester withdrew it
  kCancelledByAdmin,      // an admin of its tenant withdrew it
  kEscalationExhausted,   // on_timeout escalate, and the last tier's time ran out too
  kAnswered,              // a question, answered
  kDismissed,             // a conversation an analyst chose to do nothing about
  kEnded,                 // a conversation ended before its subject answered
};

const char* ReasonCodeName(ReasonCode code);
std::optional<ReasonCode> ParseReasonCode(std::string_view text);

}  // namespace countersign
