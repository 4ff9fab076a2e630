// Gateway's conversations: alerts, the changes the conversation rules plan, and their reads.
#include <algorithm>

#include "core/mutex_lock.hpp"
#include "engine/gateway.hpp"

namespace countersign {
namespace {

Error NoConversation(std::string_view id) { return Error::NotFound("no conversation " + Echo(id)); }

}  // namespace

void Gateway::CreateAlert(const Actor& actor, NewAlert input, Callback<Created> done) {
  if (auto checked = CheckNewAlert(input); !checked.ok()) {
    done(std::move(checked).error());
    return;
  }
  auto alert = std::make_shared<const NewAlert>(input);
  AlsoWrite also = [alert, actor = actor.name](Transaction& txn, const Request& r) -> Status {
    Conversation c = alert->ToConversation(r.id, r.tenant, r.created_at);
    ConversationPlan posted = PlanPosted(r, c, actor);
    for (ConversationMessage m : posted.messages) {
      auto stored = txn.AppendMessage(m);
      if (!stored.ok()) return std::move(stored).error();
      c.last_seq = m.seq;
    }
    c.judged_through = c.last_seq;  // the properties note is nothing to judge
    CS_RETURN_IF_ERROR(txn.InsertConversation(c));
    for (const EventDraft& e : posted.events) {
      auto appended = txn.AppendEvent(e);
      if (!appended.ok()) return std::move(appended).error();
    }
    return Ok();
  };
  CreateWith(actor, input.ToNewRequest(), std::move(also), std::move(done));
}

Result<Gateway::ConversationChanged> Gateway::ApplyConversationPlan(
    Transaction& txn, const Request& r, const Conversation& c, const ConversationPlan& plan) const {
  ConversationChanged out;
  // The messages first: a redelivered one makes the whole change nothing.
  for (ConversationMessage m : plan.messages) {
    auto stored = txn.AppendMessage(m);
    if (!stored.ok()) return std::move(stored).error();
    if (!stored.value()) {
      if (!out.appended.empty()) {
        return Error::Internal("a change to " + r.id + " repeats only some of its messages");
      }
      out.request = std::make_shared<const Request>(r);
      out.conversation = std::make_shared<const Conversation>(c);
      return out;
    }
    out.appended.push_back(std::move(m));
  }
  if (const auto& to = plan.resolve) {
    auto changed =
        txn.ResolveIfPending(r.id, to->status, to->at, to->resolved_by, to->answer, to->reason, "");
    if (!changed.ok()) return std::move(changed).error();
    if (!changed.value()) {
      if (to->lost_race_is_conflict) {
        return Error::Conflict("request was resolved concurrently",
                               std::make_shared<const Request>(r));
      }
      // The request left pending meanwhile (its deadline): the conversation closes with it.
      auto reread = txn.FindRequest(r.tenant, r.id);
      if (!reread.ok()) return std::move(reread).error();
      if (!reread.value()) return Error::Internal("request " + r.id + " vanished");
      ConversationPlan gone = PlanRequestGone(*reread.value(), c, to->at);
      if (gone.conversation) CS_RETURN_IF_ERROR(txn.UpdateConversation(*gone.conversation));
      for (const EventDraft& e : gone.events) {
        auto appended = txn.AppendEvent(e);
        if (!appended.ok()) return std::move(appended).error();
      }
      out.request = std::make_shared<const Request>(std::move(*reread.value()));
      out.conversation =
          std::make_shared<const Conversation>(gone.conversation ? *gone.conversation : c);
      return out;
    }
  }
  std::optional<Conversation> next = plan.conversation;
  if (!out.appended.empty()) {
    if (!next) next = c;
    next->last_seq = out.appended.back().seq;
  }
  // Something new to show in the chat is due at once.
  if (next && next->step == ConversationStep::kNone &&
      (!out.appended.empty() || next->parent_version != c.parent_version)) {
    next->step_due = next->updated_at;
  }
  if (next) CS_RETURN_IF_ERROR(txn.UpdateConversation(*next));
  for (const EventDraft& e : plan.events) {
    auto appended = txn.AppendEvent(e);
    if (!appended.ok()) return std::move(appended).error();
  }
  auto reread = txn.FindRequest(r.tenant, r.id);
  if (!reread.ok()) return std::move(reread).error();
  if (!reread.value()) return Error::Internal("request " + r.id + " vanished");
  out.request = std::make_shared<const Request>(std::move(*reread.value()));
  out.conversation = std::make_shared<const Conversation>(next ? *next : c);
  CS_RETURN_IF_ERROR(Announce(txn, out.request));
  return out;
}

Status Gateway::CloseConversationOf(Transaction& txn, const Request& r) const {
  if (r.kind != Kind::kConversation || r.pending()) return Ok();
  auto found = txn.FindConversation(r.tenant, r.id);
  if (!found.ok()) return std::move(found).error();
  if (!found.value()) return Ok();
  ConversationPlan plan = PlanRequestGone(r, *found.value(), r.resolved_at.value_or(TimePoint()));
  if (plan.conversation) CS_RETURN_IF_ERROR(txn.UpdateConversation(*plan.conversation));
  for (const EventDraft& e : plan.events) {
    auto appended = txn.AppendEvent(e);
    if (!appended.ok()) return std::move(appended).error();
  }
  return Ok();
}

void Gateway::ChangeConversation(std::string tenant, std::string id, ConversationChange change,
                                 Callback<ConversationChanged> done) {
  const TimePoint now = clock_.Now();
  auto refusal = std::make_shared<std::optional<Error>>();
  auto fn = [this, tenant = std::move(tenant), id = std::move(id), change = std::move(change), now,
             refusal](Transaction& txn) -> Result<ConversationChanged> {
    auto found = txn.FindRequest(tenant, id);
    if (!found.ok()) return std::move(found).error();
    if (!found.value()) return NoConversation(id);
    auto conversation = txn.FindConversation(tenant, id);
    if (!conversation.ok()) return std::move(conversation).error();
    if (!conversation.value()) return NoConversation(id);
    auto plan = change(*found.value(), *conversation.value(), now);
    if (!plan.ok()) return std::move(plan).error();
    *refusal = plan->refusal;
    return ApplyConversationPlan(txn, *found.value(), *conversation.value(), plan.value());
  };
  Commit<ConversationChanged>(
      std::move(fn), [this, refusal, done = std::move(done)](Result<ConversationChanged> changed) {
        if (changed.ok()) {
          if (changed->request && !changed->request->pending()) {
            waiters_.Notify(changed->request);
          }
          PokeConversations();
        }
        if (changed.ok() && *refusal) {
          done(std::move(**refusal));
          return;
        }
        done(std::move(changed));
      });
}

void Gateway::SubjectSaid(std::string tenant, std::string subject, std::string text,
                          std::string external_id, bool with_judge,
                          Callback<ConversationChanged> done) {
  const TimePoint now = clock_.Now();
  auto fn = [this, tenant = std::move(tenant), subject = std::move(subject), text = std::move(text),
             external_id = std::move(external_id), with_judge,
             now](Transaction& txn) -> Result<ConversationChanged> {
    auto chatting = txn.FindConversationsWith(tenant, subject, ConversationPhase::kChatting);
    if (!chatting.ok()) return std::move(chatting).error();
    // Request ids sort by creation: the newest chat is the one the subject is answering.
    for (auto it = chatting->rbegin(); it != chatting->rend(); ++it) {
      auto found = txn.FindRequest(tenant, it->request_id);
      if (!found.ok()) return std::move(found).error();
      if (!found.value() || !found.value()->pending()) continue;
      ConversationPlan plan =
          PlanSubjectMessage(*found.value(), *it, text, external_id, with_judge, now);
      if (plan.empty()) continue;
      return ApplyConversationPlan(txn, *found.value(), *it, plan);
    }
    return ConversationChanged{};
  };
  Commit<ConversationChanged>(std::move(fn),
                              [this, done = std::move(done)](Result<ConversationChanged> changed) {
                                if (changed.ok() && !changed->appended.empty()) PokeConversations();
                                done(std::move(changed));
                              });
}

void Gateway::AnalystSaid(std::string tenant, std::string feed_ts, std::string identity,
                          std::optional<Actor> actor, std::string text, std::string external_id,
                          Callback<ConversationChanged> done) {
  const TimePoint now = clock_.Now();
  auto policies = Policies();
  auto refusal = std::make_shared<std::optional<Error>>();
  auto fn = [this, tenant = std::move(tenant), feed_ts = std::move(feed_ts),
             identity = std::move(identity), actor = std::move(actor), text = std::move(text),
             external_id = std::move(external_id), now, policies,
             refusal](Transaction& txn) -> Result<ConversationChanged> {
    auto conversation = txn.FindConversationByThread(tenant, feed_ts);
    if (!conversation.ok()) return std::move(conversation).error();
    if (!conversation.value()) return ConversationChanged{};
    const Conversation& c = *conversation.value();
    auto found = txn.FindRequest(tenant, c.request_id);
    if (!found.ok()) return std::move(found).error();
    if (!found.value()) return ConversationChanged{};
    const Request& r = *found.value();
    auto plan =
        PlanAnalystMessage(r, c, ActorOn(r, identity, actor, *policies), text, external_id, now);
    if (!plan.ok()) return std::move(plan).error();
    *refusal = plan->refusal;
    return ApplyConversationPlan(txn, r, c, plan.value());
  };
  Commit<ConversationChanged>(
      std::move(fn), [this, refusal, done = std::move(done)](Result<ConversationChanged> changed) {
        if (changed.ok() && !changed->appended.empty()) PokeConversations();
        if (changed.ok() && *refusal) {
          done(std::move(**refusal));
          return;
        }
        done(std::move(changed));
      });
}

Result<Conversation> Gateway::GetConversation(const Actor& actor, std::string_view id) {
  auto request = Get(actor, id);
  if (!request.ok()) return std::move(request).error();
  if (request.value()->kind != Kind::kConversation) return NoConversation(id);
  auto found = store_.GetConversation(actor.tenant, id);
  if (!found.ok()) return std::move(found).error();
  if (!found.value()) return NoConversation(id);
  return std::move(*found.value());
}

Result<std::vector<ConversationMessage>> Gateway::ListMessages(const Actor& actor,
                                                               std::string_view id, int64_t since,
                                                               int limit) {
  auto conversation = GetConversation(actor, id);
  if (!conversation.ok()) return std::move(conversation).error();
  return store_.ListMessages(id, since, std::clamp(limit, 1, 1000));
}

void Gateway::SetConversationListener(std::function<void()> listener) {
  MutexLock lock(conversation_mu_);
  conversation_listener_ = std::move(listener);
}

void Gateway::PokeConversations() {
  std::function<void()> listener;
  {
    MutexLock lock(conversation_mu_);
    listener = conversation_listener_;
  }
  if (listener) listener();
}

}  // namespace countersign
