// NewRequest and NewDecision: what a caller asks for, parsed from the v1 JSON body.
//
// Parsing checks shapes and types (a wrong type is kMalformed, 400); Gateway checks meaning
// (a bad action name or an out-of-range timeout is kInvalid, 422).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/request.hpp"
#include "core/result.hpp"

namespace countersign {

struct NewRequest {
  std::string action;
  std::string title;
  boost::json::object details;
  boost::json::object arguments;
  std::string kind = "approval";
  std::optional<std::vector<Choice>> choices;
  std::vector<std::string> approvers;
  std::optional<int64_t> quorum;
  std::optional<int64_t> timeout_seconds;
  std::optional<std::string> on_timeout;  // unset: the policy's
  std::string risk;                       // "normal" or "high"; may only raise the policy's
  std::vector<std::string> notify;
  std::string callback_url;
  std::string session;
  std::string idempotency_key;
  std::string requester;    // from the body: display only unless auth is off
  std::string body_sha256;  // canonical hash of the whole body; set when a key is given
  // The form a decision must fill (core/response_schema.hpp); checked by the gateway.
  std::optional<boost::json::object> response_schema;
  // Set by NewAlert::ToNewRequest only: a conversation is created by POST /v1/alerts.
  bool from_alert = false;
};

// A grant given with an approval: "don't ask again" for this action.
struct NewGrant {
  std::string action;     // from the request when given with a decision
  std::string scope;      // "session", "requester" or "tenant"
  std::string session;    // for scope "session" (from the request when given with a decision)
  std::string requester;  // for scope "requester" (likewise)
  int64_t ttl_seconds = 0;
};

// Where a decision came from when it was not the API: a chat channel's button or a link.
// Recorded on the decision's audit event; a response_url gets the rejection, if any.
struct DecisionVia {
  std::string channel;       // the [[channel]] name, or "link"
  std::string identity;      // "slack:U024BE7LH"
  std::string response_url;  // where the platform takes an ephemeral answer (Slack)
};

// Limits an approver puts on the receipt of an approval ("receipt" in the decision body),
// enforced by POST /v1/receipts/consume.
struct ReceiptConstraints {
  std::optional<TimePoint> not_after;  // no use from then on; at most the receipt's exp
  int64_t max_uses = 0;                // 1..1000 counted uses; 0: not limited by the approver

  friend bool operator==(const ReceiptConstraints&, const ReceiptConstraints&) = default;
};

struct NewDecision {
  std::string choice;
  std::string comment;
  std::string answer;
  std::optional<boost::json::object> arguments;
  std::optional<boost::json::object> response;  // a structured answer (response_schema)
  std::string by;  // from the body: the decider's name when auth is off
  std::optional<NewGrant> grant;
  std::optional<DecisionVia> via;
  // {"not_after": RFC 3339 text or Unix seconds, "max_uses": N}; ranges checked by Gateway.
  std::optional<ReceiptConstraints> receipt;
};

Result<NewRequest> ParseNewRequest(const boost::json::value& body);
Result<NewDecision> ParseNewDecision(const boost::json::value& body);
// The "receipt" member of a decision: kMalformed on wrong types, kInvalid (naming the field)
// on an unreadable time or max_uses outside 1..kMaxReceiptUses.
inline constexpr int64_t kMaxReceiptUses = 1000;
Result<ReceiptConstraints> ParseReceiptConstraints(const boost::json::value& body);
// {"action", "scope", "session", "requester", "ttl_seconds"}; with a decision only scope and
// ttl_seconds.
Result<NewGrant> ParseNewGrant(const boost::json::value& body);

}  // namespace countersign
