// Conversation rules: what each thing that happens to a conversation changes, as a plan.
//
// Like engine/lifecycle.hpp, each function takes the request and its conversation as the
// store's writer has just read them, what happened (an analyst's button, the subject's direct
// message, the worker's greeting, verdict or summary) and the time, and returns the plan that
// makes it so: the conversation as it is to be stored, the messages to append, the audit
// events, and the resolution when the request leaves pending. Gateway::ChangeConversation
// commits it in one transaction. Nothing here touches a store or a clock; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/conversation.hpp"
#include "core/request.hpp"
#include "core/result.hpp"
#include "engine/lifecycle.hpp"
#include "store/store.hpp"

namespace countersign {

struct ConversationPlan {
  std::optional<Conversation> conversation;  // nullopt: unchanged
  std::vector<ConversationMessage> messages;
  std::vector<EventDraft> events;
  std::optional<Resolution> resolve;
  // Refused, but on the record: the plan is committed, then the caller hears this error.
  std::optional<Error> refusal;

  bool empty() const { return !conversation && messages.empty() && events.empty(); }
};

// Who pressed a button or wrote in the thread: the chat identity ("slack:U123"), the principal
// it maps to (empty when unmapped), and whether that principal may act on this request.
struct ConversationActor {
  std::string identity;
  std::string principal;
  bool eligible = false;
  std::optional<DecisionVia> via;  // the chat button; a refusal is answered there

  const std::string& name() const { return principal.empty() ? identity : principal; }
};

// The ConversationActor for chat user `identity` acting on `r`: `actor` is the principal that
// identity maps to (nullopt when unmapped), eligible when it may decide, is not the requester,
// and is among the request's approvers under `policies`.
ConversationActor ActorOn(const Request& r, const std::string& identity,
                          const std::optional<Actor>& actor, const PolicySet& policies,
                          std::optional<DecisionVia> via = std::nullopt);

// A model call, as the audit records it.
struct ModelCall {
  std::string model;  // empty: no model (a template)
  int64_t input_bytes = 0;
  std::string output;
  int64_t latency_ms = 0;
  std::string error;  // why the call failed, when it did (a fallback was used)
};

// The judge's reading of the transcript.
struct Verdict {
  bool has_answered = false;
  std::optional<bool> is_aware;
  double confidence = 0;
  std::string reason;
};

// Below this confidence an "answered" verdict asks the analysts instead of closing.
inline constexpr double kMinConfidence = 0.7;
// Backoff of a failed step: attempt n waits min(2^n s, 5 min).
std::chrono::seconds StepBackoff(int attempts);

// The properties of an alert, one sentence each ("The value of K for this alert is V."), or a
// line saying it has none: the first note of the thread.
std::string PropertiesText(const Alert& alert);
// An alert just created: its conversation.posted event and the properties note, written with
// the request (`c` is stored as it is).
ConversationPlan PlanPosted(const Request& r, const Conversation& c, const std::string& actor);
// Start chat: an eligible analyst, once, while the alert is only posted. The worker greets.
Result<ConversationPlan> PlanStartChat(const Request& r, const Conversation& c,
                                       const ConversationActor& by, TimePoint now);
// Do nothing: resolves dismissed at once; nothing is relayed from then on.
Result<ConversationPlan> PlanDismiss(const Request& r, const Conversation& c,
                                     const ConversationActor& by, TimePoint now);
// End chat: stops the relay at once; the worker writes the summary and resolves ended.
Result<ConversationPlan> PlanEndChat(const Request& r, const Conversation& c,
                                     const ConversationActor& by, TimePoint now);
// User confirmed / User denied (the analysts' verdict): closes as answered with `is_aware`.
Result<ConversationPlan> PlanAnalystVerdict(const Request& r, const Conversation& c,
                                            const ConversationActor& by, bool is_aware,
                                            TimePoint now);
// The subject's direct message. Recorded only while chatting (an empty plan otherwise, and
// for a redelivered message, which AppendMessage drops); with a judge, the worker judges it.
ConversationPlan PlanSubjectMessage(const Request& r, const Conversation& c, std::string text,
                                    std::string external_id, bool with_judge, TimePoint now);
// An analyst's thread reply addressed to the bot, relayed to the subject while chatting.
Result<ConversationPlan> PlanAnalystMessage(const Request& r, const Conversation& c,
                                            const ConversationActor& by, std::string text,
                                            std::string external_id, TimePoint now);

// The worker's results. Each applies only while the conversation still waits for that step
// (an empty plan otherwise: the chat moved on while the model was thinking).
// With a judge, replies that came while the greeting was written are judged next.
ConversationPlan PlanGreeting(const Request& r, const Conversation& c, std::string text,
                              const ModelCall& call, bool with_judge, TimePoint now);
// `judged_through` is the last message the judge read (it judges again when more came
// meanwhile); `nudge` the re-ask to send
// when the subject has not answered (empty when the nudges are used up).
// `nudge_call` is the model call that wrote the nudge (unused without a nudge).
ConversationPlan PlanJudgement(const Request& r, const Conversation& c, const Verdict& verdict,
                               int64_t judged_through, const ModelCall& call, std::string nudge,
                               const ModelCall& nudge_call, TimePoint now);
// The summary: thanks the subject when they answered, posts it, and resolves the request.
ConversationPlan PlanClose(const Request& r, const Conversation& c, std::string summary,
                           const ModelCall& call, TimePoint now);
// A step that failed (the model down): retried after a backoff; after `max_attempts` the
// analysts are asked to settle it with their buttons.
// `retry_after` (when not zero) is how long the model server asked to wait.
ConversationPlan PlanStepFailed(const Request& r, const Conversation& c, const std::string& why,
                                int max_attempts, std::chrono::seconds retry_after, TimePoint now);
// The request left pending some other way (its deadline, a cancellation): the chat closes.
ConversationPlan PlanRequestGone(const Request& r, const Conversation& c, TimePoint now);
// Showing the chat failed (Slack down or rate-limited): the worker tries again after
// `retry_after` (its own backoff when zero).
ConversationPlan PlanDeliveryFailed(const Request& r, const Conversation& c, const std::string& why,
                                    std::chrono::seconds retry_after, TimePoint now);
// The worker showed messages up to `through` (sent those for the subject up to
// `sent_through`) and parent version `shown`, and knows where the alert message is.
ConversationPlan PlanDelivered(const Conversation& c, int64_t through, int64_t sent_through,
                               int shown, const std::string& feed_channel,
                               const std::string& feed_ts, const std::string& dm_channel);

}  // namespace countersign
