#include "engine/conversation_rules.hpp"

#include <algorithm>

#include <boost/json/serialize.hpp>

#include "core/conversation_json.hpp"

namespace countersign {
namespace {

constexpr char kBot[] = "countersign";

Error ConflictWith(const Request& r, const std::string& message) {
  return Error::Conflict(message, std::make_shared<const Request>(r));
}

EventDraft Draft(const Request& r, TimePoint at, std::string type, std::string actor,
                 boost::json::object data) {
  return {at, r.tenant, r.id, std::move(type), std::move(actor), std::move(data)};
}

boost::json::object CallData(const ModelCall& call) {
  boost::json::object o{{"model", call.model.empty() ? "template" : call.model},
                        {"input_bytes", call.input_bytes},
                        {"latency_ms", call.latency_ms},
                        {"output", call.output}};
  if (!call.error.empty()) o["error"] = call.error;
  return o;
}

// A message to append, and its audit event (the text is on the record: the transcript is
// what the analysts and the auditors read).
void AddMessage(ConversationPlan& plan, const Request& r, MessageRole role, std::string author,
                std::string text, std::string external_id, TimePoint at) {
  plan.events.push_back(Draft(r, at, "conversation.message", author,
                              {{"role", MessageRoleName(role)}, {"text", text}}));
  ConversationMessage m;
  m.request_id = r.id;
  m.role = role;
  m.author = std::move(author);
  m.text = std::move(text);
  m.at = at;
  m.external_id = std::move(external_id);
  plan.messages.push_back(std::move(m));
}

// A refusal on the record, as a decision.rejected event like every refused press (a chat
// button's press is answered through its `via`), then heard by the caller as `error`.
ConversationPlan Refusal(const Request& r, const ConversationActor& by, const char* what,
                         const std::string& reason, Error error, TimePoint now) {
  ConversationPlan plan;
  TransitionPlan rejected = PlanRejection(r, by.name(), what, reason, by.via, now);
  plan.events = std::move(rejected.events);
  plan.refusal = std::move(error);
  return plan;
}

// Refuses an analyst who may not act on `r`, on the record.
std::optional<ConversationPlan> RefuseIneligible(const Request& r, const ConversationActor& by,
                                                 const char* what, TimePoint now) {
  if (by.eligible) return std::nullopt;
  const std::string reason =
      by.principal.empty() ? "not authorised: " + by.identity + " is not mapped to a principal"
                           : "not authorised: " + by.principal + " is not an analyst of this alert";
  return Refusal(r, by, what, reason, Error::Forbidden(reason), now);
}

// Why `c` takes no more actions, or nullopt while it is open.
std::optional<std::string> Closed(const Request& r, const Conversation& c) {
  if (r.pending() && c.open()) return std::nullopt;
  return std::string("the conversation is already ") + PhaseName(c.phase) + " (request " +
         StatusName(r.status) + ")";
}

// A press that comes too early or too late: refused as a conflict, on the record.
ConversationPlan Conflict(const Request& r, const ConversationActor& by, const char* what,
                          const std::string& reason, TimePoint now) {
  return Refusal(r, by, what, reason, ConflictWith(r, reason), now);
}

// Moves `c` to closing toward `status`, for the worker to summarise.
Conversation Closing(const Conversation& c, RequestStatus status, const std::string& by,
                     TimePoint now) {
  Conversation next = c;
  next.phase = ConversationPhase::kClosing;
  next.closing_status = static_cast<int>(status);
  next.closed_by = by;
  next.step = ConversationStep::kClose;
  next.step_due = now;
  next.step_attempts = 0;
  next.parent_version += 1;
  next.updated_at = now;
  return next;
}

// Leaves pending toward `status`, with the request.resolved event every resolution has.
void Resolve(ConversationPlan& plan, const Request& r, RequestStatus status, const std::string& by,
             std::string answer, bool lost_race_is_conflict, TimePoint now) {
  plan.resolve = Resolution{
      status, now, {by}, std::move(answer), DefaultReasonFor(status), lost_race_is_conflict};
  plan.events.push_back(Draft(r, now, "request.resolved", by,
                              {{"status", StatusName(status)},
                               {"reason_code", ReasonCodeName(DefaultReasonFor(status))},
                               {"resolved_by", boost::json::array{boost::json::string(by)}}}));
}

}  // namespace

ConversationActor ActorOn(const Request& r, const std::string& identity,
                          const std::optional<Actor>& actor, const PolicySet& policies,
                          std::optional<DecisionVia> via) {
  ConversationActor out;
  out.identity = identity;
  out.via = std::move(via);
  if (!actor) return out;
  out.principal = actor->name;
  // The person the alert is about never settles it, whatever their role.
  const auto* subject = r.details.if_contains("subject");
  const bool is_subject = subject && subject->is_string() && subject->get_string() == identity;
  out.eligible = !is_subject && actor->CanDecide() && actor->name != r.requester &&
                 IsEligibleApprover(*actor, r, policies);
  return out;
}

std::string PropertiesText(const Alert& alert) {
  if (alert.properties.empty()) return "This alert has no properties.";
  std::string text;
  for (const auto& [key, value] : alert.properties) {
    const std::string shown = PropertyText(value);
    text += "The value of " + std::string(key) + " for this alert is " + shown + ".\n";
  }
  text.pop_back();
  return text;
}

ConversationPlan PlanPosted(const Request& r, const Conversation& c, const std::string& actor) {
  ConversationPlan plan;
  plan.events.push_back(
      Draft(r, r.created_at, "conversation.posted", actor,
            {{"subject", c.subject}, {"alert", c.alert.name}, {"max_nudges", c.max_nudges}}));
  AddMessage(plan, r, MessageRole::kNote, kBot, PropertiesText(c.alert), "", r.created_at);
  plan.conversation = c;
  return plan;
}

std::chrono::seconds StepBackoff(int attempts) {
  const int capped = std::clamp(attempts, 0, 9);
  return std::min(std::chrono::seconds(int64_t{1} << capped), std::chrono::seconds(300));
}

Result<ConversationPlan> PlanStartChat(const Request& r, const Conversation& c,
                                       const ConversationActor& by, TimePoint now) {
  if (auto refused = RefuseIneligible(r, by, "start a chat", now)) return *std::move(refused);
  if (auto closed = Closed(r, c)) return Conflict(r, by, "start a chat", *closed, now);
  if (c.phase != ConversationPhase::kPosted) {
    const std::string reason = "the chat was already started by " + c.started_by;
    return Refusal(r, by, "start a chat", reason, ConflictWith(r, reason), now);
  }
  ConversationPlan plan;
  Conversation next = c;
  next.phase = ConversationPhase::kChatting;
  next.started_by = by.name();
  next.step = ConversationStep::kGreet;
  next.step_due = now;
  next.step_attempts = 0;
  next.parent_version += 1;
  next.updated_at = now;
  plan.conversation = std::move(next);
  plan.events.push_back(Draft(r, now, "conversation.started", by.name(),
                              {{"identity", by.identity}, {"subject", c.subject}}));
  return plan;
}

Result<ConversationPlan> PlanDismiss(const Request& r, const Conversation& c,
                                     const ConversationActor& by, TimePoint now) {
  if (auto refused = RefuseIneligible(r, by, "dismiss", now)) return *std::move(refused);
  if (auto closed = Closed(r, c)) return Conflict(r, by, "dismiss", *closed, now);
  ConversationPlan plan;
  Conversation next = c;
  next.phase = ConversationPhase::kClosed;
  next.step = ConversationStep::kNone;
  next.closed_by = by.name();
  next.parent_version += 1;
  next.updated_at = now;
  plan.conversation = std::move(next);
  plan.events.push_back(
      Draft(r, now, "conversation.dismissed", by.name(), {{"identity", by.identity}}));
  Resolve(plan, r, RequestStatus::kDismissed, by.name(), "", true, now);
  return plan;
}

Result<ConversationPlan> PlanEndChat(const Request& r, const Conversation& c,
                                     const ConversationActor& by, TimePoint now) {
  if (auto refused = RefuseIneligible(r, by, "end the chat", now)) return *std::move(refused);
  if (auto closed = Closed(r, c)) return Conflict(r, by, "end the chat", *closed, now);
  if (c.phase != ConversationPhase::kChatting) {
    return Conflict(r, by, "end the chat", "the chat has not started; dismiss the alert instead",
                    now);
  }
  ConversationPlan plan;
  plan.conversation = Closing(c, RequestStatus::kEnded, by.name(), now);
  plan.events.push_back(
      Draft(r, now, "conversation.ending", by.name(), {{"identity", by.identity}}));
  return plan;
}

Result<ConversationPlan> PlanAnalystVerdict(const Request& r, const Conversation& c,
                                            const ConversationActor& by, bool is_aware,
                                            TimePoint now) {
  if (auto refused = RefuseIneligible(r, by, "settle the chat", now)) return *std::move(refused);
  if (auto closed = Closed(r, c)) return Conflict(r, by, "settle the chat", *closed, now);
  if (c.phase != ConversationPhase::kChatting) {
    return Conflict(r, by, "settle the chat",
                    "the chat has not started; there is no answer to confirm", now);
  }
  ConversationPlan plan;
  Conversation next = Closing(c, RequestStatus::kAnswered, by.name(), now);
  next.result.has_answered = true;
  next.result.is_aware = is_aware;
  next.result.confidence = 1;
  next.result.reason = by.name() + (is_aware ? " confirmed" : " denied") + " it for the user";
  plan.conversation = std::move(next);
  plan.events.push_back(Draft(r, now, "conversation.settled", by.name(),
                              {{"identity", by.identity}, {"is_aware", is_aware}}));
  return plan;
}

ConversationPlan PlanSubjectMessage(const Request& r, const Conversation& c, std::string text,
                                    std::string external_id, bool with_judge, TimePoint now) {
  ConversationPlan plan;
  if (!r.pending() || c.phase != ConversationPhase::kChatting) return plan;
  AddMessage(plan, r, MessageRole::kSubject, c.subject, std::move(text), std::move(external_id),
             now);
  Conversation next = c;
  next.updated_at = now;
  // A reply while the greeting is still being written waits for it: the judge comes after.
  if (with_judge && !c.needs_analyst && next.step == ConversationStep::kNone) {
    next.step = ConversationStep::kJudge;
    next.step_due = now;
    next.step_attempts = 0;
  }
  plan.conversation = std::move(next);
  return plan;
}

Result<ConversationPlan> PlanAnalystMessage(const Request& r, const Conversation& c,
                                            const ConversationActor& by, std::string text,
                                            std::string external_id, TimePoint now) {
  if (auto refused = RefuseIneligible(r, by, "write to the user", now)) return *std::move(refused);
  if (auto closed = Closed(r, c)) return Conflict(r, by, "write to the user", *closed, now);
  if (c.phase != ConversationPhase::kChatting) {
    return Conflict(r, by, "write to the user", "the chat has not started; press Start chat first",
                    now);
  }
  ConversationPlan plan;
  AddMessage(plan, r, MessageRole::kAnalyst, by.name(), std::move(text), std::move(external_id),
             now);
  Conversation next = c;
  next.updated_at = now;
  // An analyst's words are nothing for the judge to read: with nothing else waiting, the judge
  // is past them too (the message takes the next seq).
  if (c.judged_through == c.last_seq) next.judged_through = c.last_seq + 1;
  plan.conversation = std::move(next);
  return plan;
}

ConversationPlan PlanGreeting(const Request& r, const Conversation& c, std::string text,
                              const ModelCall& call, bool with_judge, TimePoint now) {
  ConversationPlan plan;
  if (!r.pending() || c.step != ConversationStep::kGreet) return plan;
  plan.events.push_back(Draft(r, now, "conversation.model", kBot, [&] {
    auto data = CallData(call);
    data["use"] = "greeting";
    return data;
  }()));
  AddMessage(plan, r, MessageRole::kBot, kBot, std::move(text), "", now);
  Conversation next = c;
  // Replies that came while the greeting was written (nothing else is in the transcript yet)
  // are judged now.
  const bool replies = c.last_seq > c.judged_through;
  next.step = with_judge && replies && !c.needs_analyst ? ConversationStep::kJudge
                                                        : ConversationStep::kNone;
  next.step_due = now;
  next.step_attempts = 0;
  next.updated_at = now;
  plan.conversation = std::move(next);
  return plan;
}

ConversationPlan PlanJudgement(const Request& r, const Conversation& c, const Verdict& verdict,
                               int64_t judged_through, const ModelCall& call, std::string nudge,
                               const ModelCall& nudge_call, TimePoint now) {
  ConversationPlan plan;
  if (!r.pending() || c.step != ConversationStep::kJudge) return plan;
  auto data = CallData(call);
  data["use"] = "judge";
  data["has_answered"] = verdict.has_answered;
  data["is_aware"] = verdict.is_aware ? boost::json::value(*verdict.is_aware) : nullptr;
  data["confidence"] = verdict.confidence;
  data["reason"] = verdict.reason;
  data["judged_through"] = judged_through;
  plan.events.push_back(Draft(r, now, "conversation.judged", kBot, std::move(data)));
  Conversation next = c;
  next.judged_through = std::max(c.judged_through, judged_through);
  // Messages that came while the judge was thinking are judged next.
  const bool more = c.last_seq > judged_through;
  next.step = more ? ConversationStep::kJudge : ConversationStep::kNone;
  next.step_due = now;
  next.step_attempts = 0;
  next.updated_at = now;
  if (more) {
    // Messages came while the judge was reading: judge the whole transcript again before
    // closing or asking again.
  } else if (verdict.has_answered && verdict.confidence >= kMinConfidence) {
    next = Closing(next, RequestStatus::kAnswered, "judge", now);
    next.result.has_answered = true;
    next.result.is_aware = verdict.is_aware;
    next.result.confidence = verdict.confidence;
    next.result.reason = verdict.reason;
  } else if (verdict.has_answered) {
    next.needs_analyst = true;
    next.parent_version += 1;
    AddMessage(plan, r, MessageRole::kNote, kBot,
               "The model thinks the user has answered, but is not sure (confidence " +
                   std::to_string(static_cast<int>(verdict.confidence * 100)) +
                   "%): please read the chat and settle it with the buttons.",
               "", now);
  } else if (!nudge.empty() && c.nudges < c.max_nudges) {
    auto nudged = CallData(nudge_call);
    nudged["use"] = "nudge";
    plan.events.push_back(Draft(r, now, "conversation.model", kBot, std::move(nudged)));
    next.nudges += 1;
    AddMessage(plan, r, MessageRole::kBot, kBot, std::move(nudge), "", now);
  } else if (c.nudges >= c.max_nudges && !c.needs_analyst) {
    next.needs_analyst = true;
    next.parent_version += 1;
    AddMessage(plan, r, MessageRole::kNote, kBot,
               "No answer after " + std::to_string(c.nudges) +
                   " reminders; countersign will not ask again. Settle it with the buttons.",
               "", now);
  }
  plan.conversation = std::move(next);
  return plan;
}

ConversationPlan PlanClose(const Request& r, const Conversation& c, std::string summary,
                           const ModelCall& call, TimePoint now) {
  ConversationPlan plan;
  if (c.step != ConversationStep::kClose || !c.closing_status) return plan;
  auto data = CallData(call);
  data["use"] = "summary";
  plan.events.push_back(Draft(r, now, "conversation.model", kBot, std::move(data)));
  const auto status = static_cast<RequestStatus>(*c.closing_status);
  if (status == RequestStatus::kAnswered) {
    AddMessage(plan, r, MessageRole::kBot, kBot,
               "Thank you for your answer. The security team has what it needs.", "", now);
  }
  AddMessage(plan, r, MessageRole::kNote, kBot, "Summary: " + summary, "", now);
  Conversation next = c;
  next.result.summary = std::move(summary);
  next.phase = ConversationPhase::kClosed;
  next.step = ConversationStep::kNone;
  next.step_attempts = 0;
  next.parent_version += 1;
  next.updated_at = now;
  boost::json::object closed{{"status", StatusName(status)},
                             {"has_answered", next.result.has_answered}};
  closed["is_aware"] =
      next.result.is_aware ? boost::json::value(*next.result.is_aware) : boost::json::value();
  plan.events.push_back(Draft(r, now, "conversation.closed", c.closed_by, std::move(closed)));
  plan.conversation = std::move(next);
  if (r.pending()) {
    Resolve(plan, r, status, c.closed_by, plan.conversation->result.summary, false, now);
  }
  return plan;
}

ConversationPlan PlanStepFailed(const Request& r, const Conversation& c, const std::string& why,
                                int max_attempts, std::chrono::seconds retry_after, TimePoint now) {
  ConversationPlan plan;
  if (c.step == ConversationStep::kNone) return plan;
  Conversation next = c;
  next.step_attempts += 1;
  next.step_due = now + std::max(StepBackoff(next.step_attempts), retry_after);
  next.updated_at = now;
  plan.events.push_back(
      Draft(r, now, "conversation.step_failed", kBot,
            {{"step", StepName(c.step)}, {"attempt", next.step_attempts}, {"error", why}}));
  if (c.step == ConversationStep::kJudge && next.step_attempts >= max_attempts) {
    // The judge cannot be reached: the analysts settle it, and the chat goes on meanwhile.
    next.step = ConversationStep::kNone;
    next.step_attempts = 0;
    if (!next.needs_analyst) {
      next.needs_analyst = true;
      next.parent_version += 1;
      AddMessage(plan, r, MessageRole::kNote, kBot,
                 "The model could not be reached (" + why +
                     "); read the chat and settle it with the buttons.",
                 "", now);
    }
  }
  plan.conversation = std::move(next);
  return plan;
}

ConversationPlan PlanRequestGone(const Request& r, const Conversation& c, TimePoint now) {
  ConversationPlan plan;
  if (r.pending() || c.phase == ConversationPhase::kClosed) return plan;
  Conversation next = c;
  next.phase = ConversationPhase::kClosed;
  next.step = ConversationStep::kNone;
  next.parent_version += 1;
  next.updated_at = now;
  plan.conversation = std::move(next);
  plan.events.push_back(
      Draft(r, now, "conversation.closed", kBot, {{"status", StatusName(r.status)}}));
  return plan;
}

ConversationPlan PlanDeliveryFailed(const Request& r, const Conversation& c, const std::string& why,
                                    std::chrono::seconds retry_after, TimePoint now) {
  ConversationPlan plan;
  Conversation next = c;
  next.delivery_failures += 1;
  next.step_due =
      now + (retry_after.count() > 0 ? retry_after : StepBackoff(next.delivery_failures));
  plan.conversation = std::move(next);
  // Only the first failure in a row goes on the record: a long outage is one event, not many.
  if (c.delivery_failures == 0) {
    plan.events.push_back(Draft(r, now, "conversation.delivery_failed", kBot, {{"error", why}}));
  }
  return plan;
}

ConversationPlan PlanDelivered(const Conversation& c, int64_t through, int64_t sent_through,
                               int shown, const std::string& feed_channel,
                               const std::string& feed_ts, const std::string& dm_channel) {
  ConversationPlan plan;
  Conversation next = c;
  next.delivered_through = std::max(c.delivered_through, through);
  next.sent_through = std::max(c.sent_through, sent_through);
  next.delivery_failures = 0;
  next.parent_shown = std::max(c.parent_shown, shown);
  if (!feed_ts.empty()) {
    next.feed_channel = feed_channel;
    next.feed_ts = feed_ts;
  }
  if (!dm_channel.empty()) next.dm_channel = dm_channel;
  if (!(next == c)) plan.conversation = std::move(next);
  return plan;
}

}  // namespace countersign
