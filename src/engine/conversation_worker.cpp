#include "engine/conversation_worker.hpp"

#include <future>

#include <spdlog/spdlog.h>

#include "core/mutex_lock.hpp"

namespace countersign {
namespace {

// How long the worker sleeps when nothing is due; a poke wakes it sooner.
constexpr std::chrono::seconds kIdleWait{60};
// How long a conversation whose chat is not configured waits before it is looked at again.
constexpr std::chrono::seconds kNoChatWait{300};
constexpr int kMessagesPerPass = 100;

int64_t LastSeq(const std::vector<ConversationMessage>& transcript) {
  return transcript.empty() ? 0 : transcript.back().seq;
}

}  // namespace

ConversationWorker::ConversationWorker(Gateway& gateway, Store& store, Clock& clock,
                                       std::map<std::string, ConversationChat*> chats,
                                       std::string default_chat,
                                       const ConversationAssistant& assistant,
                                       ConversationWorkerOptions options)
    : gateway_(gateway),
      store_(store),
      clock_(clock),
      chats_(std::move(chats)),
      default_chat_(std::move(default_chat)),
      assistant_(assistant),
      options_(options) {}

ConversationWorker::~ConversationWorker() { Stop(); }

void ConversationWorker::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void ConversationWorker::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  // Never started (RunOnce alone): nothing is in flight, and the assistant may be gone.
  if (!thread_.joinable()) return;
  // A model call in flight fails at once; its step is done again after the restart.
  assistant_.Cancel();
  cv_.notify_all();
  thread_.join();
}

bool ConversationWorker::Stopping() {
  MutexLock lock(mu_);
  return stopping_;
}

void ConversationWorker::Poke() {
  {
    MutexLock lock(mu_);
    poked_ = true;
  }
  cv_.notify_all();
}

void ConversationWorker::Loop() {
  for (;;) {
    {
      MutexLock lock(mu_);
      if (stopping_) return;
      poked_ = false;
    }
    const int handled = RunOnce();
    TimePoint wake_at = clock_.Now() + kIdleWait;
    if (handled < options_.batch) {
      auto next = store_.NextConversationDue();
      if (next.ok() && next.value()) wake_at = std::min(wake_at, *next.value());
    } else {
      wake_at = clock_.Now();  // a full batch: more may be due
    }
    MutexLock lock(mu_);
    while (!stopping_ && !poked_ && clock_.Now() < wake_at) {
      clock_.WaitUntil(lock.native(), cv_, wake_at);
    }
    if (stopping_) return;
  }
}

int ConversationWorker::RunOnce() {
  auto due = store_.ListDueConversations(clock_.Now(), options_.batch);
  if (!due.ok()) {
    spdlog::warn("conversations: cannot read the work due: {}", due.error().message);
    return 0;
  }
  for (const auto& c : due.value()) {
    if (Stopping()) break;
    Handle(c.tenant, c.request_id);
  }
  return static_cast<int>(due->size());
}

ConversationChat* ConversationWorker::ChatFor(const Conversation& c) const {
  auto it = chats_.find(c.channel.empty() ? default_chat_ : c.channel);
  return it == chats_.end() ? nullptr : it->second;
}

std::optional<Gateway::ConversationChanged> ConversationWorker::Commit(
    const Conversation& c, Gateway::ConversationChange change) {
  std::promise<Result<Gateway::ConversationChanged>> promise;
  auto future = promise.get_future();
  gateway_.ChangeConversation(c.tenant, c.request_id, std::move(change),
                              [&promise](Result<Gateway::ConversationChanged> changed) {
                                promise.set_value(std::move(changed));
                              });
  auto changed = future.get();
  if (!changed.ok()) {
    spdlog::warn("conversation {}: cannot record a change: {}", c.request_id,
                 changed.error().message);
    return std::nullopt;
  }
  return std::move(changed).value();
}

void ConversationWorker::Handle(const std::string& tenant, const std::string& id) {
  auto request = gateway_.GetInTenant(tenant, id);
  auto conversation = store_.GetConversation(tenant, id);
  if (!request.ok() || !conversation.ok() || !conversation.value()) {
    spdlog::warn("conversation {}: cannot read it", id);
    return;
  }
  const Conversation& c = *conversation.value();
  ConversationChat* chat = ChatFor(c);
  if (!chat) {
    const std::string why = "no Slack channel named '" +
                            (c.channel.empty() ? default_chat_ : c.channel) +
                            "' is configured for conversations";
    spdlog::error("conversation {}: {}", id, why);
    Commit(c, [why](const Request& r, const Conversation& now_c, TimePoint now) {
      return Result<ConversationPlan>(PlanDeliveryFailed(r, now_c, why, kNoChatWait, now));
    });
    return;
  }
  if (!c.delivered() || c.feed_ts.empty()) {
    if (!Deliver(*request.value(), c, *chat)) return;
    // Read again: delivery changed it, and the step may have moved meanwhile.
    request = gateway_.GetInTenant(tenant, id);
    conversation = store_.GetConversation(tenant, id);
    if (!request.ok() || !conversation.ok() || !conversation.value()) return;
  }
  const Conversation& fresh = *conversation.value();
  if (fresh.step != ConversationStep::kNone && fresh.step_due <= clock_.Now()) {
    Step(fresh);
  }
}

bool ConversationWorker::Deliver(const Request& r, Conversation c, ConversationChat& chat) {
  const bool with_model = assistant_.judges();
  int shown = c.parent_shown;
  int64_t through = c.delivered_through;
  int64_t sent = c.sent_through;
  const std::string feed_before = c.feed_ts;
  // Records what was shown so far, and the failure when there was one.
  const auto record = [&](const Error* failure) {
    const std::string channel = c.feed_channel, ts = c.feed_ts, dm = c.dm_channel;
    std::optional<Error> error;
    if (failure) error = *failure;
    // A failure before anything new was shown is one more in a row (its backoff grows);
    // after some progress it is the first.
    const bool progressed = through != c.delivered_through || sent != c.sent_through ||
                            shown != c.parent_shown || ts != feed_before;
    Commit(c, [=](const Request& now_r, const Conversation& now_c, TimePoint now) {
      if (error && !progressed) {
        return Result<ConversationPlan>(PlanDeliveryFailed(
            now_r, now_c, error->message,
            std::chrono::seconds(error->code == ErrorCode::kRateLimited ? error->retry_after_seconds
                                                                        : 0),
            now));
      }
      ConversationPlan plan = PlanDelivered(now_c, through, sent, shown, channel, ts, dm);
      if (!error) return Result<ConversationPlan>(std::move(plan));
      const Conversation after = plan.conversation ? *plan.conversation : now_c;
      ConversationPlan failed = PlanDeliveryFailed(
          now_r, after, error->message,
          std::chrono::seconds(error->code == ErrorCode::kRateLimited ? error->retry_after_seconds
                                                                      : 0),
          now);
      return Result<ConversationPlan>(std::move(failed));
    });
    if (failure) {
      spdlog::warn("conversation {}: the chat failed: {}", c.request_id, failure->message);
    }
    return failure == nullptr;
  };

  if (c.feed_ts.empty()) {
    auto ref = chat.PostAlert(r, c, with_model);
    if (!ref.ok()) return record(&ref.error());
    c.feed_channel = ref->channel;
    c.feed_ts = ref->ts;
    shown = c.parent_version;
    // On the record at once, so that a crash does not post the alert twice.
    if (!record(nullptr)) return false;
  } else if (c.parent_shown < c.parent_version) {
    auto updated = chat.UpdateAlert(r, c, with_model);
    if (!updated.ok()) return record(&updated.error());
    shown = c.parent_version;
  }
  auto messages = store_.ListMessages(c.request_id, c.delivered_through, kMessagesPerPass);
  if (!messages.ok()) {
    spdlog::warn("conversation {}: cannot read its messages: {}", c.request_id,
                 messages.error().message);
    return false;
  }
  for (const auto& m : messages.value()) {
    const bool for_subject = m.role == MessageRole::kBot || m.role == MessageRole::kAnalyst;
    if (for_subject && m.seq > sent) {
      auto dm = chat.SendToSubject(c, m);
      if (!dm.ok()) return record(&dm.error());
      c.dm_channel = dm.value();
      sent = m.seq;
    }
    // Sent but not mirrored: the next attempt mirrors it without sending it again.
    if (auto mirrored = chat.Mirror(c, m); !mirrored.ok()) return record(&mirrored.error());
    through = m.seq;
  }
  return record(nullptr);
}

void ConversationWorker::Step(const Conversation& c) {
  const bool last_attempt = c.step_attempts + 1 >= options_.max_step_attempts;
  const auto failed = [&](const Error& error) {
    // A call cut short by the shutdown is no failure: the step is done again after restart.
    if (Stopping()) return;
    spdlog::warn("conversation {}: {} failed: {}", c.request_id, StepName(c.step), error.message);
    const int max = options_.max_step_attempts;
    const std::chrono::seconds retry_after(
        error.code == ErrorCode::kRateLimited ? error.retry_after_seconds : 0);
    Commit(c, [why = error.message, max, retry_after](const Request& now_r,
                                                      const Conversation& now_c, TimePoint now) {
      return Result<ConversationPlan>(PlanStepFailed(now_r, now_c, why, max, retry_after, now));
    });
  };
  switch (c.step) {
    case ConversationStep::kNone:
      return;
    case ConversationStep::kGreet: {
      ModelCall call;
      auto text = assistant_.Greeting(c, call);
      if (!text.ok()) {
        if (!last_attempt) return failed(text.error());
        ModelCall fallback;
        fallback.error = text.error().message;
        text = templates_.Greeting(c, fallback);
        call = fallback;
      }
      Commit(c, [text = text.value(), call, judges = assistant_.judges()](
                    const Request& now_r, const Conversation& now_c, TimePoint now) {
        return Result<ConversationPlan>(PlanGreeting(now_r, now_c, text, call, judges, now));
      });
      return;
    }
    case ConversationStep::kJudge: {
      auto transcript = store_.ListMessages(c.request_id, 0, 1000);
      if (!transcript.ok()) return failed(transcript.error());
      ModelCall call;
      auto verdict = assistant_.Judge(c, transcript.value(), call);
      if (!verdict.ok()) return failed(verdict.error());
      std::string nudge;
      ModelCall nudge_call;
      if (!verdict->has_answered && c.nudges < c.max_nudges) {
        auto written = assistant_.Nudge(c, transcript.value(), nudge_call);
        if (!written.ok()) {
          nudge_call.model.clear();  // the template's words, with the model's error
          written = templates_.Nudge(c, transcript.value(), nudge_call);
        }
        nudge = written.value();
      }
      // What the judge read: the transcript as fetched (a very long one is cut, so never less
      // than the conversation's newest message when the step began).
      const int64_t judged_through = std::max(c.last_seq, LastSeq(transcript.value()));
      Commit(c, [verdict = verdict.value(), judged_through, call, nudge, nudge_call](
                    const Request& now_r, const Conversation& now_c, TimePoint now) {
        return Result<ConversationPlan>(
            PlanJudgement(now_r, now_c, verdict, judged_through, call, nudge, nudge_call, now));
      });
      return;
    }
    case ConversationStep::kClose: {
      auto transcript = store_.ListMessages(c.request_id, 0, 1000);
      if (!transcript.ok()) return failed(transcript.error());
      ModelCall call;
      auto summary = assistant_.Summary(c, transcript.value(), call);
      if (!summary.ok()) {
        if (!last_attempt) return failed(summary.error());
        ModelCall fallback;
        fallback.error = summary.error().message;
        summary = templates_.Summary(c, transcript.value(), fallback);
        call = fallback;
      }
      Commit(c, [summary = summary.value(), call](const Request& now_r, const Conversation& now_c,
                                                  TimePoint now) {
        return Result<ConversationPlan>(PlanClose(now_r, now_c, summary, call, now));
      });
      return;
    }
  }
}

}  // namespace countersign
