#include "engine/gateway.hpp"

#include <algorithm>
#include <tuple>

#include <spdlog/spdlog.h>

#include "auth/receipt_id.hpp"
#include "core/counted_noun.hpp"
#include "core/mutex_lock.hpp"
#include "core/request_json.hpp"
#include "core/time_format.hpp"
#include "engine/field_rules.hpp"
#include "engine/grant_rules.hpp"
#include "engine/lifecycle.hpp"

namespace countersign {
namespace {

bool CanSee(const Actor& actor, const Request& r) {
  return r.tenant == actor.tenant && (actor.CanReadTenant() || r.requester == actor.name);
}

Error NotFound(std::string_view id) { return Error::NotFound("no request " + Echo(id)); }

Error ConflictWith(const Request& current, const std::string& message) {
  return Error::Conflict(message, std::make_shared<const Request>(current));
}

// Reads the request as the writer sees it, applying the actor's visibility.
Result<Request> LoadVisible(Transaction& txn, const Actor& actor, const std::string& id) {
  auto found = txn.FindRequest(actor.tenant, id);
  if (!found.ok()) return std::move(found).error();
  if (!found.value() || !CanSee(actor, *found.value())) return NotFound(id);
  return std::move(*found.value());
}

// Reads request `id` again inside the transaction (an idempotent replay answers with it).
Result<Gateway::RequestPtr> Reload(Transaction& txn, const std::string& tenant,
                                   const std::string& id) {
  auto found = txn.FindRequest(tenant, id);
  if (!found.ok()) return std::move(found).error();
  if (!found.value()) return Error::Internal("request " + id + " vanished inside its transaction");
  return std::make_shared<const Request>(std::move(*found.value()));
}

// How many expired idempotency keys one new key's write removes, oldest first: more than one,
// so that the expired ones never pile up, and few, so that a create stays quick.
constexpr int64_t kIdempotencyPurgeBatch = 16;

// The request an earlier submission with `r`'s idempotency key created, if any, within `ttl`.
// Keys belong to the requester: another principal reusing the same key gets a request of its
// own, never a view of someone else's. kConflict when the key came with a different body.
Result<Gateway::RequestPtr> FindReplay(Transaction& txn, const Request& r,
                                       const std::string& body_sha256, std::chrono::seconds ttl) {
  if (r.idempotency_key.empty()) return Gateway::RequestPtr();
  const std::string scoped_key = r.requester + '\n' + r.idempotency_key;
  const TimePoint expired_before = r.created_at - ttl;
  auto prior = txn.FindIdempotency(r.tenant, scoped_key);
  if (!prior.ok()) return std::move(prior).error();
  if (prior.value() && prior.value()->created_at < expired_before) {
    CS_RETURN_IF_ERROR(txn.DeleteIdempotency(r.tenant, scoped_key));
    prior.value().reset();
  }
  if (!prior.value()) {
    CS_RETURN_IF_ERROR(
        txn.InsertIdempotency({r.tenant, scoped_key, body_sha256, r.id, r.created_at}));
    auto purged = txn.PurgeIdempotency(expired_before, kIdempotencyPurgeBatch);
    if (!purged.ok()) return std::move(purged).error();
    return Gateway::RequestPtr();
  }
  auto earlier = Reload(txn, r.tenant, prior.value()->request_id);
  if (!earlier.ok()) return std::move(earlier).error();
  if (prior.value()->body_sha256 != body_sha256) {
    return Error::Conflict("idempotency key was used with a different body", earlier.value());
  }
  return earlier;
}

EventDraft RequestCreated(const Request& r, const std::string& actor) {
  return {r.created_at,
          r.tenant,
          r.id,
          "request.created",
          actor,
          {{"action", r.action},
           {"kind", KindName(r.kind)},
           {"title", r.title},
           {"requester", r.requester},
           {"session", r.session},
           {"quorum", r.quorum},
           {"approvers", StringsToJson(r.approvers)},
           {"policy", r.policy},
           {"policy_reason", r.policy_reason},
           {"risk", r.risk},
           {"deadline_at", FormatTime(r.deadline_at)},
           {"arguments_sha256", r.arguments_sha256}}};
}

}  // namespace

Gateway::Gateway(Store& store, Clock& clock, GatewayOptions options, const ReceiptSigner* signer)
    : store_(store),
      clock_(clock),
      options_(options),
      signer_(signer),
      ids_(clock),
      principal_limiter_(options.rate_per_principal, options.principal_window),
      action_limiter_(options.rate_per_action, options.action_window),
      policies_(std::make_shared<const PolicySet>()),
      builder_(options.default_timeout, options.max_timeout),
      alarms_(clock),
      scheduler_(
          clock,
          [this](const std::string& tenant, const std::string& id) {
            Expire(tenant, id, [this, tenant, id](Result<RequestPtr> r) {
              if (r.ok()) return;
              // The store refused the write (full queue, disk trouble): try again shortly
              // rather than leave the request pending past its deadline.
              spdlog::warn("expiring {} failed ({}); retrying in 1s", id, r.error().message);
              scheduler_.Retry(tenant, id, clock_.Now() + std::chrono::seconds(1));
            });
          },
          // The scheduler holds the next deadlines only, and reads on from the store's
          // pending requests in deadline order as they pass.
          [this](const DeadlineCursor& after, int limit) {
            return store_.ListPendingDeadlines(after, limit);
          }),
      reminders_(clock,
                 [this](const std::string& tenant, const std::string& id) { Remind(tenant, id); }),
      reads_(options.read_threads, options.read_queue) {
  if (signer_ != nullptr) {
    if (auto verifier = ReceiptVerifier::FromJwks(signer_->Jwks()); verifier.ok()) {
      seal_verifier_.emplace(std::move(verifier).value());
    }
  }
  store_.AddCommitListener([this](const std::vector<Event>& events) { changes_.Publish(events); });
  changes_.Subscribe("request counts",
                     [this](const std::vector<Event>& events) { counts_.Apply(events); });
}

Gateway::~Gateway() {
  StopReads();
  Stop();
}

void Gateway::StopReads() {
  reads_.Stop();
  alarms_.Stop();
}

Status Gateway::Start() {
  auto counts = store_.CountRequestsByStatus();
  if (!counts.ok()) return std::move(counts).error();
  counts_.Seed(std::move(counts).value());
  auto horizon = store_.LatestGrantExpiry();
  if (!horizon.ok()) return std::move(horizon).error();
  grant_horizon_.Set(horizon.value());
  auto reminding = store_.ListPendingReminders();
  if (!reminding.ok()) return std::move(reminding).error();
  const TimePoint now = clock_.Now();
  for (auto& p : reminding.value()) {
    // After a restart the next reminder is one interval away: no burst of missed ones.
    reminders_.Schedule(std::move(p.tenant), std::move(p.id), now + p.remind_every);
  }
  // The deadlines are not loaded here: the scheduler's thread reads them from the store a page
  // at a time, soonest first, so start-up and memory do not grow with the pending requests.
  const auto by_status = counts_.ByStatus();
  const auto pending = by_status.find(std::string(StatusName(RequestStatus::kPending)));
  spdlog::info("{} to schedule ({} with reminders); the deadline scheduler reads {} at a time",
               CountedNoun(pending == by_status.end() ? 0 : pending->second, "pending request"),
               reminding->size(), DeadlineScheduler::kDefaultWindow);
  if (options_.replicas) FollowOtherReplicas();
  scheduler_.Start();
  reminders_.Start();
  return Ok();
}

void Gateway::FollowOtherReplicas() {
  // Every replica hears every commit, its own included: scheduling twice costs a no-op
  // compare-and-set when the entry fires, and a waiter is woken once whoever reads first.
  changes_.Subscribe("other replicas", [this](const std::vector<Event>& events) {
    for (const Event& e : events) {
      if (e.request_id.empty()) continue;
      const bool scheduled = e.type == "request.created" || e.type == "request.escalated";
      const bool resolved = e.type == "request.resolved" || e.type == "request.expired" ||
                            e.type == "request.cancelled";
      if (scheduled) {
        (void)reads_.Post(
            [this, tenant = e.tenant, id = e.request_id] { ScheduleFromStore(tenant, id); });
      } else if (resolved && waiters_.Waiting(e.request_id)) {
        (void)reads_.Post([this, tenant = e.tenant, id = e.request_id] {
          auto found = store_.GetRequest(tenant, id);
          if (!found.ok()) {
            spdlog::warn("cannot read {} resolved on another replica: {}", id,
                         found.error().message);
            return;
          }
          if (!found.value() || found.value()->pending()) return;
          waiters_.Notify(std::make_shared<const Request>(std::move(*found.value())));
        });
      }
    }
  });
}

void Gateway::ScheduleFromStore(const std::string& tenant, const std::string& id) {
  auto found = store_.GetRequest(tenant, id);
  if (!found.ok()) {
    // The deadline is not lost: the replica that wrote the request scheduled it, and this
    // replica's scheduler reads it from the store when its window reaches that deadline.
    spdlog::warn("cannot schedule {} from another replica: {}", id, found.error().message);
    return;
  }
  if (!found.value() || !found.value()->pending()) return;
  const Request& r = *found.value();
  scheduler_.Schedule(r.tenant, r.id, r.deadline_at);
  if (r.remind_every.count() > 0 && r.escalation_level == 0) {
    reminders_.Schedule(r.tenant, r.id, r.created_at + r.remind_every);
  }
}

void Gateway::Stop() {
  reminders_.Stop();
  scheduler_.Stop();
  waiters_.CloseAll();
}

void Gateway::SetPolicies(std::shared_ptr<const PolicySet> policies) {
  MutexLock lock(policies_mu_);
  policies_ = std::move(policies);
}

std::shared_ptr<const PolicySet> Gateway::Policies() const {
  MutexLock lock(policies_mu_);
  return policies_;
}

Result<std::string> Gateway::IssueReceipt(const Request& r,
                                          const std::vector<std::string>& approved_by,
                                          const std::string& arguments_sha256,
                                          const std::string& response_sha256,
                                          const ReceiptConstraints& constraints,
                                          TimePoint at) const {
  if (!signer_) return std::string();
  ReceiptClaims claims{r.id,           r.tenant,    r.action, arguments_sha256,
                       "approved",     approved_by, at,       at + options_.receipt_ttl,
                       response_sha256};
  claims.jti = NewReceiptId();
  if (claims.jti.empty()) return Error::Internal("no random bytes for the receipt id of " + r.id);
  claims.receipt_use = r.receipt_use.empty() ? "reusable" : r.receipt_use;
  // Never past exp: Decide checked it against the same clock reading.
  if (constraints.not_after) claims.not_after = std::min(*constraints.not_after, claims.exp);
  claims.max_uses = constraints.max_uses;
  if (claims.max_uses == 0 && claims.receipt_use == "single_use") claims.max_uses = 1;
  std::string receipt = signer_->Sign(claims);
  if (receipt.empty()) return Error::Internal("signing the receipt of " + r.id + " failed");
  return receipt;
}

Result<Gateway::RequestPtr> Gateway::ApplyPlan(Transaction& txn, const Request& r,
                                               const TransitionPlan& plan) const {
  auto after = std::make_shared<Request>(r);
  // An approval's receipt is written by the resolving UPDATE, so it is signed first (a plan
  // that loses its compare-and-set drops it unused).
  std::string receipt;
  if (plan.receipt_arguments_sha256 && plan.resolve) {
    auto issued =
        IssueReceipt(r, plan.resolve->resolved_by, *plan.receipt_arguments_sha256,
                     plan.receipt_response_sha256, plan.receipt_constraints, plan.resolve->at);
    if (!issued.ok()) return std::move(issued).error();
    receipt = std::move(issued).value();
  }
  // The compare-and-set first: a plan that lost its race writes nothing.
  if (const auto& step = plan.escalate) {
    auto changed = txn.EscalateIfPending(r.id, step->level, step->deadline, step->approvers);
    if (!changed.ok()) return std::move(changed).error();
    if (!changed.value()) return ConflictWith(r, "request was resolved concurrently");
    after->escalation_level = step->level;
    after->deadline_at = step->deadline;
    after->approvers = step->approvers;
  }
  if (const auto& to = plan.resolve) {
    auto changed = txn.ResolveIfPending(r.id, to->status, to->at, to->resolved_by, to->answer,
                                        to->reason, receipt);
    if (!changed.ok()) return std::move(changed).error();
    if (!changed.value()) {
      if (!to->lost_race_is_conflict) return RequestPtr();
      return ConflictWith(r, "request was resolved concurrently");
    }
    after->status = to->status;
    after->resolved_at = to->at;
    after->resolved_by = to->resolved_by;
    after->answer = to->answer;
    after->reason_code = to->reason;
    after->receipt = std::move(receipt);
  }
  if (plan.execution) {
    auto changed = txn.SetExecutionIfUnreported(r.id, *plan.execution);
    if (!changed.ok()) return std::move(changed).error();
    if (!changed.value()) return ConflictWith(r, "its execution was reported concurrently");
    after->execution = plan.execution;
  }
  if (plan.record) {
    CS_RETURN_IF_ERROR(txn.InsertDecision(r, *plan.record));
    Decision recorded = *plan.record;
    recorded.request_id = r.id;
    // Where a read puts it: decisions come ordered by (at, id).
    auto later = std::upper_bound(after->decisions.begin(), after->decisions.end(), recorded,
                                  [](const Decision& a, const Decision& b) {
                                    return std::tie(a.at, a.id) < std::tie(b.at, b.id);
                                  });
    after->decisions.insert(later, std::move(recorded));
  }
  for (const EventDraft& event : plan.events) {
    auto appended = txn.AppendEvent(event);
    if (!appended.ok()) return std::move(appended).error();
  }
  if (plan.grant) CS_RETURN_IF_ERROR(txn.InsertGrant(*plan.grant));
#ifdef COUNTERSIGN_CHECK_TRANSITIONS
  // Builds other than Release (every test's) read the request back and insist on what the plan
  // made of it (CMakeLists.txt).
  auto stored = Reload(txn, r.tenant, r.id);
  if (!stored.ok()) return std::move(stored).error();
  if (!(*stored.value() == *after)) {
    return Error::Internal("request " + r.id +
                           " as stored differs from what its transition made of it");
  }
#endif
  return RequestPtr(std::move(after));
}

void Gateway::Create(const Actor& actor, NewRequest input, Callback<Created> done) {
  CreateWith(actor, std::move(input), nullptr, std::move(done));
}

void Gateway::CreateWith(const Actor& actor, NewRequest input, AlsoWrite also,
                         Callback<Created> done) {
  if (!actor.CanCreate()) {
    done(
        Error::Forbidden("role " + std::string(RoleName(actor.role)) + " may not create requests"));
    return;
  }
  const TimePoint now = clock_.Now();
  if (int64_t wait = principal_limiter_.Acquire(actor.tenant + '\n' + actor.name, now)) {
    done(Error::RateLimited(actor.name + " is submitting too fast", wait));
    return;
  }
  if (int64_t wait = action_limiter_.Acquire(actor.tenant + '\n' + input.action, now)) {
    // Refused: the attempt does not count against the principal's quota either.
    principal_limiter_.Release(actor.tenant + '\n' + actor.name, now);
    done(Error::RateLimited("too many requests for action " + input.action, wait));
    return;
  }
  auto built = builder_.Build(actor, input, *Policies(), ids_.Next("req_"), now);
  if (!built.ok()) {
    done(std::move(built).error());
    return;
  }
  RequestBuilder::Built& b = built.value();
  if (also) b.verdict = AutoVerdict{};  // a conversation asks its subject, always
  const Request& r = b.request;
  if (auto granted = ApplyGrants(b.verdict, r.tenant, r.action, r.session, r.requester, now);
      !granted.ok()) {
    done(std::move(granted).error());
    return;
  }
  auto request = std::make_shared<const Request>(std::move(b.request));
  auto fn = [this, request, body_sha256 = input.body_sha256, actor = actor.name,
             verdict = b.verdict, also](Transaction& txn) -> Result<Created> {
    auto replay = FindReplay(txn, *request, body_sha256, options_.idempotency_ttl);
    if (!replay.ok()) return std::move(replay).error();
    if (replay.value()) return Created{std::move(replay).value(), true};
    if (options_.max_pending_per_principal > 0 && verdict.AsksAPerson()) {
      auto pending = txn.CountPendingFrom(request->tenant, request->requester);
      if (!pending.ok()) return std::move(pending).error();
      if (pending.value() >= options_.max_pending_per_principal) {
        return Error::RateLimited(
            request->requester + " already has " + std::to_string(pending.value()) +
                " pending requests, the most [limits] max_pending_per_principal allows; "
                "decide, cancel or let some expire first",
            60);
      }
    }
    CS_RETURN_IF_ERROR(txn.InsertRequest(*request));
    auto event = txn.AppendEvent(RequestCreated(*request, actor));
    if (!event.ok()) return std::move(event).error();
    if (also) CS_RETURN_IF_ERROR(also(txn, *request));
    // Stored exactly as built, so there is nothing to read back unless it was decided.
    Created out{request, false};
    if (!verdict.AsksAPerson()) {
      auto stored = ApplyPlan(txn, *request,
                              PlanAutoDecision(*request, verdict.decision, verdict.decided_by));
      if (!stored.ok()) return std::move(stored).error();
      out.request = std::move(stored).value();
    }
    CS_RETURN_IF_ERROR(Announce(txn, out.request));
    return out;
  };
  Commit<Created>(std::move(fn), [this, conversation = bool(also), warnings = std::move(b.warnings),
                                  done = std::move(done)](Result<Created> created) mutable {
    if (created.ok() && !created->replayed) created->warnings = std::move(warnings);
    if (created.ok() && conversation && !created->replayed) PokeConversations();
    if (created.ok() && !created->replayed && created->request->pending()) {
      const Request& stored = *created->request;
      scheduler_.Schedule(stored.tenant, stored.id, stored.deadline_at);
      if (stored.remind_every.count() > 0) {
        reminders_.Schedule(stored.tenant, stored.id, stored.created_at + stored.remind_every);
      }
    }
    done(std::move(created));
  });
}

Status Gateway::ApplyGrants(AutoVerdict& verdict, const std::string& tenant,
                            const std::string& action, const std::string& session,
                            const std::string& requester, TimePoint now) {
  if (!verdict.grantable || !grant_horizon_.Covers(now)) return Ok();
  auto grant = store_.FindActiveGrant(tenant, action, session, requester, now);
  if (!grant.ok()) return std::move(grant).error();
  if (grant.value()) {
    verdict.decision = AutoDecision::kApprove;
    verdict.decided_by = "grant:" + grant.value()->id;
  }
  return Ok();
}

Result<bool> Gateway::WouldAskAPerson(const Actor& actor, const NewRequest& input) {
  AutoVerdict verdict = RequestBuilder::Route(actor, input, *Policies());
  CS_RETURN_IF_ERROR(
      ApplyGrants(verdict, actor.tenant, input.action, input.session, actor.name, clock_.Now()));
  return verdict.AsksAPerson();
}

void Gateway::Decide(const Actor& actor, std::string id, NewDecision input,
                     Callback<RequestPtr> done) {
  if (input.comment.size() > kMaxCommentBytes) {
    done(Error::Invalid("comment is longer than " + std::to_string(kMaxCommentBytes) + " bytes"));
    return;
  }
  if (input.answer.size() > kMaxAnswerBytes) {
    done(Error::Invalid("answer is longer than " + std::to_string(kMaxAnswerBytes) + " bytes"));
    return;
  }
  if (input.grant) {
    if (auto terms = CheckNewGrant(*input.grant, options_.max_timeout, true); !terms.ok()) {
      done(std::move(terms).error());
      return;
    }
  }
  const TimePoint now = clock_.Now();
  if (input.receipt && input.receipt->not_after) {
    // Whole seconds, as the claim carries it: a limit within the current second is past.
    const TimePoint not_after = std::chrono::floor<std::chrono::seconds>(*input.receipt->not_after);
    if (not_after <= now) {
      done(Error::InvalidField("receipt.not_after", "receipt.not_after is not in the future"));
      return;
    }
    if (not_after > now + options_.receipt_ttl) {
      done(Error::InvalidField("receipt.not_after",
                               "receipt.not_after is after the receipt expires (" +
                                   std::to_string(options_.receipt_ttl.count()) +
                                   " s after the approval)"));
      return;
    }
    input.receipt->not_after = not_after;
  }
  auto attempt = std::make_shared<DecisionAttempt>();
  attempt->actor = actor;
  Decision& d = attempt->decision;
  d.id = ids_.Next("dec_");
  d.request_id = id;
  d.principal = actor.name;
  d.choice = std::move(input.choice);
  d.comment = std::move(input.comment);
  d.answer = std::move(input.answer);
  d.arguments = std::move(input.arguments);
  d.response = std::move(input.response);
  d.at = now;
  attempt->grant = std::move(input.grant);
  attempt->receipt = input.receipt;
  if (attempt->grant) {
    attempt->grant_id = ids_.Next("grt_");
    grant_horizon_.Raise(d.at + std::chrono::seconds(attempt->grant->ttl_seconds));
  }
  attempt->via = std::move(input.via);
  auto policies = Policies();
  auto refusal = std::make_shared<std::optional<Error>>();
  auto fn = [this, id, attempt, policies, refusal](Transaction& txn) -> Result<RequestPtr> {
    auto loaded = LoadVisible(txn, attempt->actor, id);
    if (!loaded.ok()) return std::move(loaded).error();
    const Request& r = loaded.value();
    auto plan = PlanDecision(r, *attempt, *policies);
    if (!plan.ok()) return std::move(plan).error();
    *refusal = plan->refusal;
    auto applied = ApplyPlan(txn, r, plan.value());
    if (applied.ok() || !attempt->via || !plan->record || !IsRefusal(applied.error())) {
      return applied;
    }
    // Lost its compare-and-set to a concurrent change, so nothing was written: a chat
    // decision's refusal goes on the record too.
    *refusal = applied.error();
    return ApplyPlan(txn, r,
                     PlanRejection(r, attempt->actor.name, plan->record->choice,
                                   applied.error().message, attempt->via, attempt->decision.at));
  };
  CommitTransition(std::move(fn), [refusal, done = std::move(done)](Result<RequestPtr> r) {
    if (r.ok() && *refusal) {
      done(std::move(**refusal));
      return;
    }
    done(std::move(r));
  });
}

void Gateway::RejectCallback(std::string tenant, std::string id, DecisionVia via,
                             std::string reason, Callback<RequestPtr> done) {
  const TimePoint now = clock_.Now();
  auto fn = [this, tenant, id, via = std::optional<DecisionVia>(std::move(via)), reason,
             now](Transaction& txn) -> Result<RequestPtr> {
    auto loaded = txn.FindRequest(tenant, id);
    if (!loaded.ok()) return std::move(loaded).error();
    if (!loaded.value()) return NotFound(id);
    const Request& r = *loaded.value();
    return ApplyPlan(txn, r, PlanRejection(r, via->identity, "", reason, via, now));
  };
  CommitTransition(std::move(fn), std::move(done));
}

void Gateway::Note(std::string tenant, std::string id, std::string type, std::string actor,
                   boost::json::object data, Callback<Event> done) {
  if (type.empty() || type.size() > kMaxShortText || HasControlChars(type) ||
      type.starts_with("request.") || type.starts_with("decision.") || type.starts_with("grant.") ||
      type.starts_with("conversation.") || type.starts_with("execution.") ||
      type.starts_with("receipt.")) {
    done(Error::Invalid("a note's type must be 1 to 128 printable bytes and not an engine event"));
    return;
  }
  const TimePoint now = clock_.Now();
  auto fn = [this, tenant = std::move(tenant), id = std::move(id), type = std::move(type),
             actor = std::move(actor), data = std::move(data),
             now](Transaction& txn) -> Result<Event> {
    auto found = txn.FindRequest(tenant, id);
    if (!found.ok()) return std::move(found).error();
    if (!found.value()) return NotFound(id);
    auto event = txn.AppendEvent({now, tenant, id, type, actor, data});
    if (!event.ok()) return std::move(event).error();
    Event stored = txn.AppendedEvents().back();
    CS_RETURN_IF_ERROR(Announce(txn, std::make_shared<const Request>(std::move(*found.value()))));
    return stored;
  };
  Commit<Event>(std::move(fn), std::move(done));
}

void Gateway::SetNotifier(Notifier* notifier) {
  notifier_.store(notifier, std::memory_order_release);
}

void Gateway::Cancel(const Actor& actor, std::string id, std::string reason,
                     Callback<RequestPtr> done) {
  if (reason.size() > kMaxCommentBytes) {
    done(Error::Invalid("reason is longer than " + std::to_string(kMaxCommentBytes) + " bytes"));
    return;
  }
  const TimePoint now = clock_.Now();
  auto fn = [this, actor, id, reason, now](Transaction& txn) -> Result<RequestPtr> {
    auto loaded = LoadVisible(txn, actor, id);
    if (!loaded.ok()) return std::move(loaded).error();
    auto plan = PlanCancel(loaded.value(), actor, reason, now);
    if (!plan.ok()) return std::move(plan).error();
    auto cancelled = ApplyPlan(txn, loaded.value(), plan.value());
    if (cancelled.ok() && cancelled.value()) {
      CS_RETURN_IF_ERROR(CloseConversationOf(txn, *cancelled.value()));
    }
    return cancelled;
  };
  CommitTransition(std::move(fn), std::move(done));
}

void Gateway::Remind(std::string tenant, std::string id) {
  using Next = std::optional<TimePoint>;
  const TimePoint now = clock_.Now();
  auto fn = [this, tenant, id, now](Transaction& txn) -> Result<Next> {
    auto found = txn.FindRequest(tenant, id);
    if (!found.ok()) return std::move(found).error();
    if (!found.value()) return Next();
    const Request& r = *found.value();
    auto plan = PlanReminder(r, now);
    if (!plan) return Next();
    // Another replica's timer sent this interval's reminder: follow its rhythm instead.
    auto last = txn.LastEventAt(id, "request.reminded");
    if (!last.ok()) return std::move(last).error();
    if (last.value() && *last.value() > now - r.remind_every / 2) {
      return Next(*last.value() + r.remind_every);
    }
    auto reminded = ApplyPlan(txn, r, *plan);
    if (!reminded.ok()) return std::move(reminded).error();
    CS_RETURN_IF_ERROR(Announce(txn, reminded.value()));
    return Next(now + r.remind_every);
  };
  Commit<Next>(std::move(fn), [this, tenant, id](Result<Next> next) {
    if (!next.ok()) {
      spdlog::warn("reminder for {} failed ({}); retrying in 1s", id, next.error().message);
      reminders_.Schedule(tenant, id, clock_.Now() + std::chrono::seconds(1));
      return;
    }
    if (next.value()) reminders_.Schedule(tenant, id, *next.value());
  });
}

void Gateway::Expire(std::string tenant, std::string id, Callback<RequestPtr> done) {
  const TimePoint now = clock_.Now();
  auto fn = [this, tenant, id, now](Transaction& txn) -> Result<RequestPtr> {
    auto found = txn.FindRequest(tenant, id);
    if (!found.ok()) return std::move(found).error();
    if (!found.value()) return RequestPtr();
    auto plan = PlanTimeout(*found.value(), now);
    if (!plan) return RequestPtr();
    auto expired = ApplyPlan(txn, *found.value(), *plan);
    if (expired.ok() && expired.value()) {
      CS_RETURN_IF_ERROR(CloseConversationOf(txn, *expired.value()));
    }
    return expired;
  };
  CommitTransition(std::move(fn), std::move(done));
}

std::optional<Result<Gateway::RequestPtr>> Gateway::FindCached(const Actor& actor,
                                                               std::string_view id) const {
  if (!cache_) return std::nullopt;
  RequestPtr cached = cache_->Find(actor.tenant, id);
  if (!cached) return std::nullopt;
  if (!CanSee(actor, *cached)) return Result<RequestPtr>(NotFound(id));
  return Result<RequestPtr>(std::move(cached));
}

Result<Gateway::RequestPtr> Gateway::Get(const Actor& actor, std::string_view id) {
  if (cache_) {
    if (RequestPtr cached = cache_->Find(actor.tenant, id)) {
      if (!CanSee(actor, *cached)) return NotFound(id);
      return cached;
    }
  }
  const uint64_t generation = cache_ ? cache_->Generation() : 0;
  auto found = store_.GetRequest(actor.tenant, id);
  if (!found.ok()) return std::move(found).error();
  if (!found.value()) return NotFound(id);
  auto request = std::make_shared<const Request>(std::move(*found.value()));
  if (cache_) cache_->Put(generation, request);
  if (!CanSee(actor, *request)) return NotFound(id);
  return request;
}

Result<Gateway::RequestPtr> Gateway::GetForLinks(const Actor& actor, std::string_view id) {
  auto found = Get(actor, id);  // an agent sees only what it asked
  if (!found.ok()) return found;
  const Request& r = *found.value();
  // A link decides as the person it names: an approver may hand out those of a request it
  // could decide itself, never another team's.
  if (actor.role == Role::kApprover && !IsEligibleApprover(actor, r, *Policies())) {
    return Error::Forbidden(Echo(actor.name) + " is not among the approvers of " + r.id +
                            ", so it cannot hand out their links");
  }
  if (!r.pending()) {
    return ConflictWith(
        r, "request " + r.id + " is " + StatusName(r.status) + ": a link can no longer decide it");
  }
  return found;
}

void Gateway::EnableReadCache(size_t capacity) {
  cache_ = std::make_unique<RequestCache>(capacity);
  changes_.Subscribe("read cache", [cache = cache_.get()](const std::vector<Event>& events) {
    cache->Forget(events);
  });
}

Result<RequestPage> Gateway::List(const Actor& actor, RequestFilter filter) {
  filter.tenant = actor.tenant;
  if (!actor.CanReadTenant()) {
    if (!filter.requester.empty() && filter.requester != actor.name) return RequestPage{};
    filter.requester = actor.name;
  }
  return store_.ListRequests(filter);
}

void Gateway::CreateGrant(const Actor& actor, NewGrant input, Callback<Grant> done) {
  if (!actor.CanDecide()) {
    done(Error::Forbidden("only an approver or an admin may grant"));
    return;
  }
  if (auto terms = CheckNewGrant(input, options_.max_timeout, false); !terms.ok()) {
    done(std::move(terms).error());
    return;
  }
  if (Policies()->Evaluate({input.action, "", actor.tenant, ""}).high_risk) {
    done(Error::Invalid("a high-risk action can never be granted"));
    return;
  }
  const TimePoint now = clock_.Now();
  Grant grant = MakeGrant(ids_.Next("grt_"), actor.tenant, input.action, input, input.session,
                          input.requester, actor.name, now, "");
  grant_horizon_.Raise(grant.expires_at);
  auto fn = [grant = std::move(grant)](Transaction& txn) -> Result<Grant> {
    CS_RETURN_IF_ERROR(txn.InsertGrant(grant));
    auto event = txn.AppendEvent(GrantCreatedEvent(grant));
    if (!event.ok()) return std::move(event).error();
    return grant;
  };
  Commit<Grant>(std::move(fn), std::move(done));
}

Result<std::vector<Grant>> Gateway::ListGrants(const Actor& actor) {
  if (!actor.CanReadTenant())
    return Error::Forbidden("only an approver or an admin may list grants");
  return store_.ListGrants(actor.tenant);
}

void Gateway::RevokeGrant(const Actor& actor, std::string id, Callback<Grant> done) {
  if (!actor.CanDecide()) {
    done(Error::Forbidden("only an approver or an admin may revoke grants"));
    return;
  }
  const TimePoint now = clock_.Now();
  auto fn = [actor, id, now](Transaction& txn) -> Result<Grant> {
    auto changed = txn.RevokeGrant(actor.tenant, id, now);
    if (!changed.ok()) return std::move(changed).error();
    if (!changed.value()) return Error::NotFound("no active grant " + Echo(id));
    auto event =
        txn.AppendEvent({now, actor.tenant, "", "grant.revoked", actor.name, {{"grant_id", id}}});
    if (!event.ok()) return std::move(event).error();
    Grant revoked;
    revoked.id = id;
    revoked.tenant = actor.tenant;
    revoked.revoked_at = now;
    return revoked;
  };
  Commit<Grant>(std::move(fn), std::move(done));
}

void Gateway::RetryOutbox(const Actor& actor, std::string delivery_id, Callback<OutboxRow> done) {
  if (actor.role != Role::kAdmin) {
    done(Error::Forbidden("retrying a delivery needs an admin token"));
    return;
  }
  if (!IsWellFormedId(delivery_id, "dlv_")) {
    done(Error::NotFound("no delivery " + Echo(delivery_id)));
    return;
  }
  const TimePoint now = clock_.Now();
  const std::string scope = actor.IsOperator() ? std::string() : actor.tenant;
  auto fn = [actor, delivery_id, scope, now](Transaction& txn) -> Result<OutboxRow> {
    auto retried = txn.RetryOutbox(scope, delivery_id, now);
    if (!retried.ok()) return std::move(retried).error();
    if (!retried.value()) return Error::NotFound("no delivery " + Echo(delivery_id));
    OutboxRow row = std::move(*retried.value());
    if (row.state == "delivered") {
      return Error::Conflict("delivery " + delivery_id + " was delivered already");
    }
    auto event = txn.AppendEvent(
        {now,
         row.tenant,
         row.request_id,
         "outbox.retried",
         actor.name,
         {{"delivery_id", row.delivery_id}, {"destination", row.destination}, {"kind", row.kind}}});
    if (!event.ok()) return std::move(event).error();
    return row;
  };
  Commit<OutboxRow>(std::move(fn), std::move(done));
}

Status Gateway::Announce(Transaction& txn, const RequestPtr& current) const {
  Notifier* notifier = notifier_.load(std::memory_order_acquire);
  if (!notifier || !current || txn.AppendedEvents().empty()) return Ok();
  return notifier->Enqueue(txn, *current, txn.AppendedEvents());
}

template <typename T>
void Gateway::Commit(std::function<Result<T>(Transaction&)> change, Callback<T> done) {
  auto out = std::make_shared<std::optional<T>>();
  store_.Write(
      [change = std::move(change), out](Transaction& txn) -> Status {
        auto changed = change(txn);
        if (!changed.ok()) return std::move(changed).error();
        out->emplace(std::move(changed).value());
        return Ok();
      },
      [out, done = std::move(done)](Status s) {
        if (!s.ok()) {
          done(std::move(s).error());
          return;
        }
        done(std::move(**out));
      });
}

void Gateway::CommitTransition(std::function<Result<RequestPtr>(Transaction&)> change,
                               Callback<RequestPtr> done) {
  auto announced = [this, change = std::move(change)](Transaction& txn) -> Result<RequestPtr> {
    auto changed = change(txn);
    if (!changed.ok()) return changed;
    CS_RETURN_IF_ERROR(Announce(txn, changed.value()));
    return changed;
  };
  Commit<RequestPtr>(std::move(announced), [this, done = std::move(done)](Result<RequestPtr> r) {
    const RequestPtr current = r.ok() ? r.value() : nullptr;
    // Waiters first, so a long-poll is answered no later than the caller that resolved it.
    if (current && !current->pending()) waiters_.Notify(current);
    if (current && current->kind == Kind::kConversation) PokeConversations();
    // Escalation is the only change that moves a deadline; a stale entry costs a no-op.
    if (current && current->pending() && current->escalation_level > 0) {
      scheduler_.Schedule(current->tenant, current->id, current->deadline_at);
    }
    done(std::move(r));
  });
}

// The conversations' writes (gateway_conversations.cpp) commit through the same template.
template void Gateway::Commit<Gateway::ConversationChanged>(
    std::function<Result<ConversationChanged>(Transaction&)>, Callback<ConversationChanged>);
// So do the receipts' (gateway_receipts.cpp).
template void Gateway::Commit<ReceiptConsumption>(
    std::function<Result<ReceiptConsumption>(Transaction&)>, Callback<ReceiptConsumption>);

}  // namespace countersign
