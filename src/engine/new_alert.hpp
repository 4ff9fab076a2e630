// NewAlert: what POST /v1/alerts (and `countersign alert send`) asks for: a conversation with
// the person an alert is about (docs/conversations.md).
//
// Two body shapes are read. The v1 shape:
//   {"subject": "slack:U123", "alert": {"id", "name", "description", "properties": {...}},
//    "question", "approvers", "timeout_seconds", "max_nudges", "channel", "notify",
//    "callback_url", "idempotency_key", "requester"}
// and the seed bot's alert (its alerts.toml entry as JSON), flat:
//   {"id", "name", "description", "user_id": "U123", "properties": {...}}
// in which user_id is a Slack user id. Parsing checks shapes (kMalformed); CheckNewAlert checks
// meaning (kInvalid, naming the field).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "core/conversation.hpp"
#include "core/result.hpp"
#include "engine/new_request.hpp"

namespace countersign {

inline constexpr char kDefaultQuestion[] = "Was the user aware of this activity?";
inline constexpr int kDefaultMaxNudges = 3;
inline constexpr int kMaxNudgesLimit = 10;
inline constexpr size_t kMaxAlertProperties = 50;

struct NewAlert {
  std::string subject;  // a chat identity ("slack:U123") or a principal mapped to one
  Alert alert;
  std::string question;
  std::vector<std::string> approvers;  // the analysts who may act; the policy's when empty
  std::optional<int64_t> timeout_seconds;
  std::optional<int64_t> max_nudges;
  std::string channel;  // the Slack [[channel]] to use; the first one when empty
  std::vector<std::string> notify;
  std::string callback_url;
  std::string idempotency_key;
  std::string requester;
  std::string body_sha256;  // canonical hash of the whole body; set when a key is given

  // The request that carries the conversation: kind conversation, action "alert.NAME" (the
  // alert's name made into an action), the alert's name as title and the alert, the subject
  // and the question as details.
  NewRequest ToNewRequest() const;
  // The conversation of request `request_id` of `tenant`, as posted.
  Conversation ToConversation(const std::string& request_id, const std::string& tenant,
                              TimePoint now) const;
};

Result<NewAlert> ParseNewAlert(const boost::json::value& body);
// The checks of meaning, after the subject is resolved to a chat identity.
Status CheckNewAlert(const NewAlert& alert);
// "alert." and the alert's name in lower case, every run of other characters than [a-z0-9]
// made one "_", at most 100 characters; "alert.unnamed" when nothing is left.
std::string AlertAction(const std::string& name);

}  // namespace countersign
