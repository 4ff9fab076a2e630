// The conversation model: an alert about one person (the subject), settled by chatting with
// them in a direct message while the analysts watch the alert's thread (seed 001, the
// incident-response chat; docs/conversations.md).
//
// A conversation belongs to a request of kind kConversation, which stays pending while the
// chat runs and leaves pending exactly once, like every request. Plain value types; the engine
// is the only code that changes them (engine/conversation_rules.hpp). Safe to copy between
// threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "core/clock.hpp"

namespace countersign {

// Where a conversation is: its alert is in the feed (posted), an analyst started the chat
// (chatting), it is being wound up (closing: a summary is on its way, nothing is relayed any
// more), or it is over (closed: its request has left pending).
enum class ConversationPhase { kPosted, kChatting, kClosing, kClosed };

// The work a conversation waits for, done by the conversation worker off the network threads
// and recorded in the same transaction as its result, so a step interrupted by a crash is done
// again after restart (like an outbox row).
enum class ConversationStep {
  kNone,
  kGreet,  // write and send the greeting (the chat just started)
  kJudge,  // judge the transcript after the subject's newest message; nudge, or close
  kClose,  // write the summary, thank the subject when they answered, resolve the request
};

// Who said a message of the transcript.
enum class MessageRole {
  kSubject,  // the person the alert is about, in their direct message
  kBot,      // countersign, to the subject (greeting, nudge, thanks)
  kAnalyst,  // an analyst's words relayed to the subject
  kNote,     // a line for the analysts only (the summary, a refusal), never sent to the subject
};

const char* PhaseName(ConversationPhase phase);
const char* StepName(ConversationStep step);
const char* MessageRoleName(MessageRole role);
std::optional<ConversationPhase> ParsePhase(std::string_view text);
std::optional<ConversationStep> ParseStep(std::string_view text);
std::optional<MessageRole> ParseMessageRole(std::string_view text);

struct Alert {
  std::string id;  // the sender's own id for the alert (the seed's alerts.toml `id`); may be empty
  std::string name;
  std::string description;
  boost::json::object properties;  // string keys to scalar values

  friend bool operator==(const Alert&, const Alert&) = default;
};

// What a conversation established: whether the subject answered the question, and the summary
// the analysts read. Set when the conversation closes (the judge's verdict may come earlier).
struct ConversationResult {
  bool has_answered = false;
  std::optional<bool> is_aware;  // unknown unless the subject answered
  double confidence = 0;         // the judge's, 0..1; 1 when an analyst said so
  std::string reason;            // the judge's, or the analyst's button
  std::string summary;

  friend bool operator==(const ConversationResult&, const ConversationResult&) = default;
};

struct Conversation {
  std::string request_id;
  std::string tenant = "default";
  std::string subject;  // a chat identity, "slack:U123"
  std::string channel;  // the [[channel]] (Slack) that carries the chat
  Alert alert;
  std::string question;  // what the chat settles
  ConversationPhase phase = ConversationPhase::kPosted;
  ConversationStep step = ConversationStep::kNone;
  TimePoint step_due;         // when the worker should (re)try the step
  int step_attempts = 0;      // failed attempts at the current step
  int delivery_failures = 0;  // failed attempts in a row to show the chat
  int nudges = 0;             // re-asks sent so far
  int max_nudges = 3;
  std::string feed_channel;  // where the alert message is (Slack channel id) ...
  std::string feed_ts;       // ... and its ts: the thread's parent
  std::string dm_channel;    // the direct message with the subject, once opened
  std::string started_by;    // the analyst who started the chat
  // While closing: the status the request resolves to once the summary is written
  // (kAnswered or kEnded), and who closed it ("judge" or an analyst).
  std::optional<int> closing_status;
  std::string closed_by;
  int64_t judged_through = 0;  // the seq of the last message the judge has read
  // The analysts must settle it with their buttons: there is no model, the model was unsure,
  // or it could not be reached.
  bool needs_analyst = false;
  // Delivery to the chat, done by the conversation worker after each change: messages up to
  // delivered_through are shown (sent to the subject when they are for them, and mirrored into
  // the thread), and the alert message shows version parent_shown of parent_version.
  int64_t delivered_through = 0;
  // Messages to the subject up to here are sent (a message can be sent, then fail to mirror:
  // the retry mirrors it without sending it twice).
  int64_t sent_through = 0;
  int64_t last_seq = 0;  // the newest message's seq (kept by the gateway)
  int parent_version = 0;
  int parent_shown = 0;
  ConversationResult result;
  TimePoint updated_at;

  // Whether the chat shows everything: every message sent and the alert message up to date.
  bool delivered() const { return delivered_through >= last_seq && parent_shown >= parent_version; }
  // Whether the conversation worker has something to do for it.
  bool has_work() const { return step != ConversationStep::kNone || !delivered(); }
  bool open() const {
    return phase == ConversationPhase::kPosted || phase == ConversationPhase::kChatting;
  }

  friend bool operator==(const Conversation&, const Conversation&) = default;
};

// One message of a conversation's transcript, in order of seq (1, 2, ...).
struct ConversationMessage {
  std::string request_id;
  int64_t seq = 0;  // assigned by the store
  MessageRole role = MessageRole::kSubject;
  std::string author;  // a chat identity or principal; "countersign" for the bot
  std::string text;
  TimePoint at;
  // The chat's own id for the message (Slack's event ts), so a redelivered event is stored
  // once; empty for messages countersign wrote.
  std::string external_id;

  friend bool operator==(const ConversationMessage&, const ConversationMessage&) = default;
};

}  // namespace countersign
