#include "engine/gateway.hpp"

#include <algorithm>
#include <set>

#include <spdlog/spdlog.h>

#include "core/canonical_json.hpp"
#include "core/choice_meaning.hpp"
#include "core/request_json.hpp"
#include "core/sha256.hpp"
#include "core/time_format.hpp"

namespace countersign {
namespace {

constexpr size_t kMaxTitleBytes = 512;
constexpr size_t kMaxChoices = 10;
constexpr size_t kMaxApprovers = 100;
constexpr int64_t kMaxQuorum = 100;
constexpr size_t kMaxShortText = 128;
constexpr size_t kMaxCommentBytes = 4000;
constexpr size_t kMaxAnswerBytes = 10000;
constexpr size_t kMaxUrlBytes = 2048;

bool IsValidAction(const std::string& action) {
  if (action.empty() || action.size() > 128) return false;
  for (char c : action) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == ':' || c == '/' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool IsValidChoiceId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool HasControlChars(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

bool CanSee(const Actor& actor, const Request& r) {
  return r.tenant == actor.tenant && (actor.CanReadTenant() || r.requester == actor.name);
}

bool IsEligibleApprover(const Actor& actor, const Request& r, const PolicySet& policies) {
  if (r.approvers.empty()) return true;
  for (const auto& a : r.approvers) {
    if (policies.Satisfies(a, actor.name, actor.groups)) return true;
  }
  return false;
}

// Distinct principals whose decisions on `r` have `outcome`, oldest first.
std::vector<std::string> DecidersWith(const Request& r, Outcome outcome) {
  std::vector<std::string> out;
  for (const auto& d : r.decisions) {
    if (d.outcome == outcome && std::find(out.begin(), out.end(), d.principal) == out.end()) {
      out.push_back(d.principal);
    }
  }
  return out;
}

bool IsHigh(const Request& r) { return r.risk == "high"; }

boost::json::object ViaToJson(const DecisionVia& via) {
  boost::json::object o{{"channel", via.channel}, {"identity", via.identity}};
  if (!via.response_url.empty()) o["response_url"] = via.response_url;
  return o;
}

std::string ChoiceIds(const Request& r) {
  std::string out;
  for (const auto& c : r.choices) {
    if (!out.empty()) out += ", ";
    out += c.id;
  }
  return out;
}

Error NotFound(std::string_view id) { return Error::NotFound("no request " + std::string(id)); }

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

// Re-reads a request after a change, so callers get exactly what is stored.
Result<Gateway::RequestPtr> Reload(Transaction& txn, const std::string& tenant,
                                   const std::string& id) {
  auto found = txn.FindRequest(tenant, id);
  if (!found.ok()) return std::move(found).error();
  if (!found.value()) return Error::Internal("request " + id + " vanished inside its transaction");
  return std::make_shared<const Request>(std::move(*found.value()));
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
      scheduler_(clock,
                 [this](const std::string& tenant, const std::string& id) {
                   Expire(tenant, id, [this, tenant, id](Result<RequestPtr> r) {
                     if (r.ok()) return;
                     // The store refused the write (full queue, disk trouble): try again shortly
                     // rather than leave the request pending past its deadline.
                     spdlog::warn("expiring {} failed ({}); retrying in 1s", id, r.error().message);
                     scheduler_.Schedule(tenant, id, clock_.Now() + std::chrono::seconds(1));
                   });
                 }),
      reminders_(clock,
                 [this](const std::string& tenant, const std::string& id) { Remind(tenant, id); }) {
}

Gateway::~Gateway() { Stop(); }

Status Gateway::Start() {
  auto horizon = store_.LatestGrantExpiry();
  if (!horizon.ok()) return std::move(horizon).error();
  grant_horizon_ms_.store(horizon.value() ? ToUnixMillis(*horizon.value()) : 0,
                          std::memory_order_release);
  auto pending = store_.ListPendingDeadlines();
  if (!pending.ok()) return std::move(pending).error();
  const TimePoint now = clock_.Now();
  for (auto& p : pending.value()) {
    // After a restart the next reminder is one interval away: no burst of missed ones.
    if (p.remind_every.count() > 0) reminders_.Schedule(p.tenant, p.id, now + p.remind_every);
    scheduler_.Schedule(std::move(p.tenant), std::move(p.id), p.deadline);
  }
  spdlog::info("deadline scheduler holds {} pending requests", pending->size());
  scheduler_.Start();
  reminders_.Start();
  return Ok();
}

void Gateway::Stop() {
  reminders_.Stop();
  scheduler_.Stop();
  waiters_.CloseAll();
}

void Gateway::SetPolicies(std::shared_ptr<const PolicySet> policies) {
  std::lock_guard lock(policies_mu_);
  policies_ = std::move(policies);
}

std::shared_ptr<const PolicySet> Gateway::Policies() const {
  std::lock_guard lock(policies_mu_);
  return policies_;
}

Result<Gateway::Built> Gateway::BuildRequest(const Actor& actor, NewRequest& in,
                                             const PolicySet& policies) {
  if (in.action.empty()) return Error::Invalid("action is required");
  if (!IsValidAction(in.action)) {
    return Error::Invalid("action must match [A-Za-z0-9_.:/-]{1,128}");
  }
  if (in.title.empty()) return Error::Invalid("title is required");
  if (in.title.size() > kMaxTitleBytes) {
    return Error::Invalid("title is longer than " + std::to_string(kMaxTitleBytes) + " bytes");
  }
  auto kind = ParseKind(in.kind);
  if (!kind) return Error::Invalid("kind must be approval, verification or question");
  std::optional<OnTimeout> on_timeout;
  if (in.on_timeout) {
    on_timeout = ParseOnTimeout(*in.on_timeout);
    if (!on_timeout) return Error::Invalid("on_timeout must be expire, deny or escalate");
  }
  if (!in.risk.empty() && in.risk != "normal" && in.risk != "high") {
    return Error::Invalid("risk must be normal or high");
  }

  Request r;
  r.kind = *kind;
  if (in.choices && *kind != Kind::kQuestion) {
    if (in.choices->empty() || in.choices->size() > kMaxChoices) {
      return Error::Invalid("choices must hold 1 to " + std::to_string(kMaxChoices) + " entries");
    }
    std::set<std::string> seen;
    for (auto& c : *in.choices) {
      if (!IsValidChoiceId(c.id)) {
        return Error::Invalid("choice id '" + c.id + "' must match [A-Za-z0-9_-]{1,64}");
      }
      if (!seen.insert(c.id).second) return Error::Invalid("choice id '" + c.id + "' repeats");
      if (c.outcome == Outcome::kAnswered) {
        return Error::Invalid("only a question can be answered; use approved, denied or escalate");
      }
      if (c.label.empty() || c.label.size() > 75) {
        return Error::Invalid("choice label must be 1 to 75 bytes");
      }
      CS_RETURN_IF_ERROR(ChoiceMeaning::Check(c));
      c.style = ChoiceMeaning::Style(c);
    }
    r.choices = std::move(*in.choices);
  } else {
    r.choices = DefaultChoices(*kind);
  }

  if (in.approvers.size() > kMaxApprovers) {
    return Error::Invalid("at most " + std::to_string(kMaxApprovers) + " approvers");
  }
  for (const auto& a : in.approvers) {
    if (a.empty() || a.size() > kMaxShortText || HasControlChars(a)) {
      return Error::Invalid("each approver must be a name of 1 to 128 printable bytes");
    }
  }
  if (in.quorum && (*in.quorum < 1 || *in.quorum > kMaxQuorum)) {
    return Error::Invalid("quorum must be between 1 and " + std::to_string(kMaxQuorum));
  }
  if (in.timeout_seconds &&
      (*in.timeout_seconds < 1 || *in.timeout_seconds > options_.max_timeout.count())) {
    return Error::Invalid("timeout_seconds must be between 1 and " +
                          std::to_string(options_.max_timeout.count()));
  }
  if (in.session.size() > kMaxShortText || HasControlChars(in.session)) {
    return Error::Invalid("session must be at most 128 printable bytes");
  }
  if (in.idempotency_key.size() > 255 || HasControlChars(in.idempotency_key)) {
    return Error::Invalid("idempotency_key must be at most 255 printable bytes");
  }
  if (!in.callback_url.empty() &&
      (in.callback_url.size() > kMaxUrlBytes || HasControlChars(in.callback_url) ||
       in.callback_url.find(' ') != std::string::npos ||
       (in.callback_url.rfind("http://", 0) != 0 && in.callback_url.rfind("https://", 0) != 0))) {
    return Error::Invalid("callback_url must be an http or https URL");
  }
  for (const auto& n : in.notify) {
    if (n.empty() || n.size() > kMaxShortText || HasControlChars(n)) {
      return Error::Invalid("each notify entry must be 1 to 128 printable bytes");
    }
  }

  // The policy sets the rules; the request may only make them stricter.
  const PolicyVerdict verdict = policies.Evaluate({in.action, actor.name, actor.tenant, in.risk});
  const Policy& policy = *verdict.policy;
  const bool builtin = verdict.policy == &policies.default_policy();
  const std::chrono::seconds policy_timeout = builtin ? options_.default_timeout : policy.timeout;
  const int64_t timeout = std::min<int64_t>(in.timeout_seconds.value_or(policy_timeout.count()),
                                            policy_timeout.count());
  const int64_t quorum = std::max<int64_t>(in.quorum.value_or(1), policy.quorum);
  std::vector<std::string> approvers = policy.approvers;
  if (!in.approvers.empty()) {
    for (const auto& a : in.approvers) {
      const bool allowed =
          policy.approvers.empty() ||
          std::any_of(policy.approvers.begin(), policy.approvers.end(), [&](const auto& e) {
            return e == a || (a.rfind("group:", 0) != 0 && policies.Satisfies(e, a, {}));
          });
      if (!allowed) {
        return Error::Invalid("approver " + a + " is not allowed by policy " + policy.name);
      }
    }
    approvers = std::move(in.approvers);
  }
  const bool has_group = std::any_of(approvers.begin(), approvers.end(),
                                     [](const auto& a) { return a.rfind("group:", 0) == 0; });
  if (!approvers.empty() && !has_group && static_cast<size_t>(quorum) > approvers.size()) {
    return Error::Invalid("quorum " + std::to_string(quorum) +
                          " needs at least that many approvers");
  }
  r.on_timeout = policy.on_timeout;
  if (on_timeout && *on_timeout != policy.on_timeout) {
    if (policy.on_timeout != OnTimeout::kExpire) {
      return Error::Invalid("policy " + policy.name + " sets on_timeout to " +
                            OnTimeoutName(policy.on_timeout) + "; a request can not change it");
    }
    r.on_timeout = *on_timeout;
  }

  r.id = ids_.Next("req_");
  r.tenant = actor.tenant;
  r.action = std::move(in.action);
  r.title = std::move(in.title);
  r.details = std::move(in.details);
  r.arguments = std::move(in.arguments);
  r.arguments_sha256 = Sha256Hex(CanonicalJson(r.arguments));
  r.requester = actor.name;
  r.session = std::move(in.session);
  r.approvers = std::move(approvers);
  r.quorum = static_cast<int>(quorum);
  r.policy = policy.name;
  r.policy_reason = verdict.reason;
  r.risk = verdict.high_risk ? "high" : "normal";
  r.deny_threshold = policy.deny_threshold;
  r.escalate_to = policy.escalate_to;
  r.tier_timeout = policy_timeout;
  r.created_at = clock_.Now();
  r.deadline_at = r.created_at + std::chrono::seconds(timeout);
  r.remind_every = policy.remind_every.value_or(std::chrono::seconds(0));
  r.notify = policy.notify;
  for (auto& n : in.notify) {
    if (std::find(r.notify.begin(), r.notify.end(), n) == r.notify.end()) {
      r.notify.push_back(std::move(n));
    }
  }
  r.callback_url = std::move(in.callback_url);
  r.idempotency_key = std::move(in.idempotency_key);

  Built built{std::move(r), AutoDecision::kNone, ""};
  // The verdict has already applied the high-risk rule: never auto-approved.
  if (verdict.decision != AutoDecision::kNone) {
    built.decision = verdict.decision;
    built.decided_by = "policy:" + policy.name;
  }
  return built;
}

Status Gateway::IssueReceipt(Transaction& txn, const Request& approved,
                             const std::string& arguments_sha256, TimePoint at) const {
  if (!signer_) return Ok();
  ReceiptClaims claims{approved.id,
                       approved.tenant,
                       approved.action,
                       arguments_sha256,
                       "approved",
                       approved.resolved_by,
                       at,
                       at + options_.receipt_ttl};
  const std::string receipt = signer_->Sign(claims);
  if (receipt.empty()) return Error::Internal("signing the receipt of " + approved.id + " failed");
  return txn.SetReceipt(approved.id, receipt);
}

Result<bool> Gateway::Escalate(Transaction& txn, const Request& r, TimePoint now,
                               const char* reason, const std::string& actor) const {
  const auto level = static_cast<size_t>(r.escalation_level);
  std::vector<std::string> approvers = r.approvers;
  TimePoint deadline = r.deadline_at;
  boost::json::object data{{"escalation_level", r.escalation_level + 1}, {"reason", reason}};
  const bool has_tier = level < r.escalate_to.size();
  if (has_tier) {
    const EscalationTier& tier = r.escalate_to[level];
    // The tier's approvers join those already eligible; the clock restarts for them.
    for (const auto& a : tier.approvers) {
      if (std::find(approvers.begin(), approvers.end(), a) == approvers.end()) {
        approvers.push_back(a);
      }
    }
    const auto timeout = tier.timeout.count() > 0 ? tier.timeout : r.tier_timeout;
    deadline = std::max(deadline, now + timeout);
    data["approvers"] = StringsToJson(tier.approvers);
    data["notify"] = StringsToJson(tier.notify);
    data["deadline_at"] = FormatTime(deadline);
  } else {
    data["tier"] = "none left";
  }
  auto changed = txn.EscalateIfPending(r.id, r.escalation_level + 1, deadline, approvers);
  if (!changed.ok()) return std::move(changed).error();
  if (!changed.value()) return ConflictWith(r, "request was resolved concurrently");
  auto event = txn.AppendEvent({now, r.tenant, r.id, "request.escalated", actor, std::move(data)});
  if (!event.ok()) return std::move(event).error();
  return has_tier;
}

void Gateway::Create(const Actor& actor, NewRequest input, Callback<Created> done) {
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
    done(Error::RateLimited("too many requests for action " + input.action, wait));
    return;
  }
  auto policies = Policies();
  auto built = BuildRequest(actor, input, *policies);
  if (!built.ok()) {
    done(std::move(built).error());
    return;
  }
  Built& b = built.value();
  if (b.decision == AutoDecision::kNone && !IsHigh(b.request) &&
      ToUnixMillis(now) < grant_horizon_ms_.load(std::memory_order_acquire)) {
    auto grant = store_.FindActiveGrant(b.request.tenant, b.request.action, b.request.session, now);
    if (!grant.ok()) {
      done(std::move(grant).error());
      return;
    }
    if (grant.value()) {
      b.decision = AutoDecision::kApprove;
      b.decided_by = "grant:" + grant.value()->id;
    }
  }
  auto request = std::make_shared<Request>(std::move(b.request));
  const AutoDecision decision = b.decision;
  const std::string decided_by = b.decided_by;
  auto out = std::make_shared<Created>();
  const std::string body_sha256 = input.body_sha256;

  auto fn = [this, request, out, body_sha256, actor, decision,
             decided_by](Transaction& txn) -> Status {
    const Request& r = *request;
    if (!r.idempotency_key.empty()) {
      // Keys belong to the requester: another principal reusing the same key gets a request
      // of its own, never a view of someone else's.
      const std::string scoped_key = r.requester + '\n' + r.idempotency_key;
      auto prior = txn.FindIdempotency(r.tenant, scoped_key);
      if (!prior.ok()) return std::move(prior).error();
      if (prior.value()) {
        auto earlier = Reload(txn, r.tenant, prior.value()->request_id);
        if (!earlier.ok()) return std::move(earlier).error();
        if (prior.value()->body_sha256 != body_sha256) {
          return Error::Conflict("idempotency key was used with a different body", earlier.value());
        }
        out->request = earlier.value();
        out->replayed = true;
        return Ok();
      }
      CS_RETURN_IF_ERROR(txn.InsertIdempotency({r.tenant, scoped_key, body_sha256, r.id}));
    }
    CS_RETURN_IF_ERROR(txn.InsertRequest(r));
    auto event = txn.AppendEvent({r.created_at,
                                  r.tenant,
                                  r.id,
                                  "request.created",
                                  actor.name,
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
                                   {"arguments_sha256", r.arguments_sha256}}});
    if (!event.ok()) return std::move(event).error();
    if (decision != AutoDecision::kNone) {
      const RequestStatus status =
          decision == AutoDecision::kApprove ? RequestStatus::kApproved : RequestStatus::kDenied;
      auto changed = txn.ResolveIfPending(r.id, status, r.created_at, {decided_by}, "");
      if (!changed.ok()) return std::move(changed).error();
      auto resolved = txn.AppendEvent({r.created_at,
                                       r.tenant,
                                       r.id,
                                       "request.resolved",
                                       "system",
                                       {{"status", StatusName(status)},
                                        {"resolved_by", boost::json::array{decided_by}},
                                        {"automatic", true}}});
      if (!resolved.ok()) return std::move(resolved).error();
      if (status == RequestStatus::kApproved) {
        Request approved = r;
        approved.resolved_by = {decided_by};
        CS_RETURN_IF_ERROR(IssueReceipt(txn, approved, r.arguments_sha256, r.created_at));
      }
    }
    if (decision == AutoDecision::kNone) {
      // Stored exactly as built, so there is nothing to read back.
      out->request = request;
    } else {
      auto stored = Reload(txn, r.tenant, r.id);
      if (!stored.ok()) return std::move(stored).error();
      out->request = std::move(stored).value();
    }
    return Announce(txn, out->request);
  };
  store_.Write(std::move(fn), [this, out, done = std::move(done)](Status s) {
    if (!s.ok()) {
      done(std::move(s).error());
      return;
    }
    const Request& r = *out->request;
    if (!out->replayed && r.pending()) {
      scheduler_.Schedule(r.tenant, r.id, r.deadline_at);
      if (r.remind_every.count() > 0) {
        reminders_.Schedule(r.tenant, r.id, r.created_at + r.remind_every);
      }
    }
    done(std::move(*out));
  });
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
    if (input.grant->scope != "session" && input.grant->scope != "tenant") {
      done(Error::Invalid("grant.scope must be session or tenant"));
      return;
    }
    if (input.grant->ttl_seconds < 1 || input.grant->ttl_seconds > options_.max_timeout.count()) {
      done(Error::Invalid("grant.ttl_seconds is required, between 1 and " +
                          std::to_string(options_.max_timeout.count())));
      return;
    }
  }
  auto decision = std::make_shared<Decision>();
  decision->id = ids_.Next("dec_");
  decision->request_id = id;
  decision->principal = actor.name;
  decision->choice = std::move(input.choice);
  decision->comment = std::move(input.comment);
  decision->answer = std::move(input.answer);
  decision->arguments = std::move(input.arguments);
  decision->at = clock_.Now();
  auto policies = Policies();
  auto grant = input.grant ? std::make_shared<NewGrant>(*input.grant) : nullptr;
  const std::string grant_id = grant ? ids_.Next("grt_") : "";
  if (grant) RaiseGrantHorizon(decision->at + std::chrono::seconds(grant->ttl_seconds));
  auto refusal = std::make_shared<std::optional<Error>>();

  std::optional<DecisionVia> via = std::move(input.via);
  auto attempt = [this, actor, id, decision, policies, grant, grant_id, refusal,
                  via](Transaction& txn) -> Result<RequestPtr> {
    auto loaded = LoadVisible(txn, actor, id);
    if (!loaded.ok()) return std::move(loaded).error();
    Request& r = loaded.value();
    if (!actor.CanDecide()) {
      return Error::Forbidden("role " + std::string(RoleName(actor.role)) + " may not decide");
    }
    if (!r.pending()) {
      return ConflictWith(r, "request is already " + std::string(StatusName(r.status)));
    }
    if (actor.name == r.requester) {
      return Error::Forbidden("the requester may not decide its own request");
    }
    Decision& d = *decision;
    if (!IsEligibleApprover(actor, r, *policies)) {
      // Refused, but on the record: the attempt is committed as an audit event and the
      // caller then hears 403.
      *refusal = Error::Forbidden(actor.name + " is not an approver of this request");
      return Reject(txn, r, actor.name, d.choice, "not an approver of this request", via, d.at);
    }
    for (const auto& prior : r.decisions) {
      if (prior.principal == actor.name && prior.outcome != Outcome::kEscalate) {
        return ConflictWith(r, actor.name + " has already decided this request");
      }
    }
    if (r.kind == Kind::kQuestion) {
      if (d.choice.empty()) d.choice = "answer";
      if (d.answer.empty()) return Error::Invalid("a question needs a non-empty answer");
    }
    if (d.choice.empty())
      return Error::Invalid("choice is required (one of: " + ChoiceIds(r) + ")");
    const Choice* choice = r.FindChoice(d.choice);
    if (!choice) {
      return Error::Invalid("unknown choice '" + d.choice + "' (one of: " + ChoiceIds(r) + ")");
    }
    d.outcome = choice->outcome;
    if (grant && d.outcome != Outcome::kApproved) {
      return Error::Invalid("a grant can only come with an approval");
    }
    if (grant && IsHigh(r)) return Error::Invalid("a high-risk action can never be granted");
    if (grant && grant->scope == "session" && r.session.empty()) {
      return Error::Invalid("a session grant needs a request made in a session");
    }
    CS_RETURN_IF_ERROR(txn.InsertDecision(r, d));
    boost::json::object data{{"decision_id", d.id},
                             {"choice", d.choice},
                             {"outcome", OutcomeName(d.outcome)},
                             {"comment", d.comment}};
    if (!d.answer.empty()) data["answer"] = d.answer;
    if (via) data["via"] = ViaToJson(*via);
    // Edited arguments are the call the approver agreed to: their hash goes on the record
    // and, if this approval completes the quorum, into the receipt.
    if (d.arguments) data["arguments_sha256"] = Sha256Hex(CanonicalJson(*d.arguments));
    auto recorded =
        txn.AppendEvent({d.at, r.tenant, r.id, "decision.recorded", actor.name, std::move(data)});
    if (!recorded.ok()) return std::move(recorded).error();
    r.decisions.push_back(d);

    std::optional<RequestStatus> resolution;
    std::vector<std::string> resolved_by;
    switch (d.outcome) {
      case Outcome::kDenied:
        resolved_by = DecidersWith(r, Outcome::kDenied);
        if (static_cast<int>(resolved_by.size()) >= r.deny_threshold) {
          resolution = RequestStatus::kDenied;
        }
        break;
      case Outcome::kAnswered:
        resolution = RequestStatus::kAnswered;
        resolved_by = {actor.name};
        break;
      case Outcome::kApproved:
        resolved_by = DecidersWith(r, Outcome::kApproved);
        if (static_cast<int>(resolved_by.size()) >= r.quorum) resolution = RequestStatus::kApproved;
        break;
      case Outcome::kEscalate: {
        auto escalated = Escalate(txn, r, d.at, "choice", actor.name);
        if (!escalated.ok()) return std::move(escalated).error();
        break;
      }
    }
    if (resolution) {
      auto changed = txn.ResolveIfPending(r.id, *resolution, d.at, resolved_by, d.answer);
      if (!changed.ok()) return std::move(changed).error();
      if (!changed.value()) return ConflictWith(r, "request was resolved concurrently");
      auto resolved = txn.AppendEvent(
          {d.at,
           r.tenant,
           r.id,
           "request.resolved",
           actor.name,
           {{"status", StatusName(*resolution)}, {"resolved_by", StringsToJson(resolved_by)}}});
      if (!resolved.ok()) return std::move(resolved).error();
      if (*resolution == RequestStatus::kApproved) {
        // The newest edit among the approvals is what was finally agreed to.
        std::string arguments_sha256 = r.arguments_sha256;
        for (const auto& prior : r.decisions) {
          if (prior.outcome == Outcome::kApproved && prior.arguments) {
            arguments_sha256 = Sha256Hex(CanonicalJson(*prior.arguments));
          }
        }
        r.resolved_by = resolved_by;
        CS_RETURN_IF_ERROR(IssueReceipt(txn, r, arguments_sha256, d.at));
        if (grant) {
          Grant g{grant_id,
                  r.tenant,
                  r.action,
                  grant->scope,
                  grant->scope == "session" ? r.session : "",
                  actor.name,
                  d.at,
                  d.at + std::chrono::seconds(grant->ttl_seconds),
                  std::nullopt,
                  r.id};
          CS_RETURN_IF_ERROR(txn.InsertGrant(g));
          auto granted = txn.AppendEvent({d.at,
                                          r.tenant,
                                          r.id,
                                          "grant.created",
                                          actor.name,
                                          {{"grant_id", g.id},
                                           {"action", g.action},
                                           {"scope", g.scope},
                                           {"session", g.session},
                                           {"expires_at", FormatTime(g.expires_at)}}});
          if (!granted.ok()) return std::move(granted).error();
        }
      }
    }
    return Reload(txn, r.tenant, r.id);
  };
  // A decision from a chat button that the rules refuse is put on the record (with where it
  // came from, so the person is told why) instead of only answering the caller.
  auto fn = [this, attempt = std::move(attempt), actor, id, decision, refusal,
             via](Transaction& txn) -> Result<RequestPtr> {
    auto result = attempt(txn);
    if (result.ok() || !via) return result;
    const ErrorCode code = result.error().code;
    if (code != ErrorCode::kForbidden && code != ErrorCode::kConflict &&
        code != ErrorCode::kInvalid) {
      return result;
    }
    auto loaded = txn.FindRequest(actor.tenant, id);
    if (!loaded.ok() || !loaded.value()) return result;
    *refusal = result.error();
    return Reject(txn, *loaded.value(), actor.name, decision->choice, result.error().message, via,
                  decision->at);
  };
  CommitTransition(std::move(fn), [refusal, done = std::move(done)](Result<RequestPtr> r) {
    if (r.ok() && *refusal) {
      done(std::move(**refusal));
      return;
    }
    done(std::move(r));
  });
}

Result<Gateway::RequestPtr> Gateway::Reject(Transaction& txn, const Request& r,
                                            const std::string& actor, const std::string& choice,
                                            const std::string& reason,
                                            const std::optional<DecisionVia>& via,
                                            TimePoint at) const {
  boost::json::object data{{"choice", choice}, {"reason", reason}};
  if (via) data["via"] = ViaToJson(*via);
  auto rejected =
      txn.AppendEvent({at, r.tenant, r.id, "decision.rejected", actor, std::move(data)});
  if (!rejected.ok()) return std::move(rejected).error();
  return Reload(txn, r.tenant, r.id);
}

void Gateway::RejectCallback(std::string tenant, std::string id, DecisionVia via,
                             std::string reason, Callback<RequestPtr> done) {
  const TimePoint now = clock_.Now();
  auto fn = [this, tenant, id, via = std::optional<DecisionVia>(std::move(via)), reason,
             now](Transaction& txn) -> Result<RequestPtr> {
    auto loaded = txn.FindRequest(tenant, id);
    if (!loaded.ok()) return std::move(loaded).error();
    if (!loaded.value()) return Error::NotFound("no request " + id);
    return Reject(txn, *loaded.value(), via->identity, "", reason, via, now);
  };
  CommitTransition(std::move(fn), std::move(done));
}

void Gateway::Note(std::string tenant, std::string id, std::string type, std::string actor,
                   boost::json::object data, Callback<Event> done) {
  if (type.empty() || type.size() > kMaxShortText || HasControlChars(type) ||
      type.starts_with("request.") || type.starts_with("decision.") || type.starts_with("grant.")) {
    done(Error::Invalid("a note's type must be 1 to 128 printable bytes and not an engine event"));
    return;
  }
  const TimePoint now = clock_.Now();
  auto out = std::make_shared<Event>();
  store_.Write(
      [this, tenant = std::move(tenant), id = std::move(id), type = std::move(type),
       actor = std::move(actor), data = std::move(data), now, out](Transaction& txn) -> Status {
        auto found = txn.FindRequest(tenant, id);
        if (!found.ok()) return std::move(found).error();
        if (!found.value()) return NotFound(id);
        auto event = txn.AppendEvent({now, tenant, id, type, actor, data});
        if (!event.ok()) return std::move(event).error();
        *out = txn.AppendedEvents().back();
        return Announce(txn, std::make_shared<const Request>(std::move(*found.value())));
      },
      [out, done = std::move(done)](Status s) {
        if (!s.ok()) {
          done(std::move(s).error());
          return;
        }
        done(std::move(*out));
      });
}

void Gateway::RaiseGrantHorizon(TimePoint expires_at) {
  const int64_t ms = ToUnixMillis(expires_at);
  int64_t seen = grant_horizon_ms_.load(std::memory_order_acquire);
  while (seen < ms && !grant_horizon_ms_.compare_exchange_weak(seen, ms)) {
  }
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
  auto fn = [actor, id, reason, now](Transaction& txn) -> Result<RequestPtr> {
    auto loaded = LoadVisible(txn, actor, id);
    if (!loaded.ok()) return std::move(loaded).error();
    const Request& r = loaded.value();
    if (actor.role != Role::kAdmin && actor.name != r.requester) {
      return Error::Forbidden("only the requester or an admin may cancel a request");
    }
    if (!r.pending()) {
      return ConflictWith(r, "request is already " + std::string(StatusName(r.status)));
    }
    auto changed = txn.ResolveIfPending(r.id, RequestStatus::kCancelled, now, {actor.name}, "");
    if (!changed.ok()) return std::move(changed).error();
    if (!changed.value()) return ConflictWith(r, "request was resolved concurrently");
    auto event = txn.AppendEvent(
        {now, r.tenant, r.id, "request.cancelled", actor.name, {{"reason", reason}}});
    if (!event.ok()) return std::move(event).error();
    return Reload(txn, r.tenant, r.id);
  };
  CommitTransition(std::move(fn), std::move(done));
}

void Gateway::Remind(std::string tenant, std::string id) {
  const TimePoint now = clock_.Now();
  auto next = std::make_shared<std::optional<TimePoint>>();
  store_.Write(
      [this, tenant, id, now, next](Transaction& txn) -> Status {
        auto found = txn.FindRequest(tenant, id);
        if (!found.ok()) return std::move(found).error();
        if (!found.value() || !found.value()->pending()) return Ok();
        const Request& r = *found.value();
        if (r.remind_every.count() <= 0) return Ok();
        auto event = txn.AppendEvent({now,
                                      r.tenant,
                                      r.id,
                                      "request.reminded",
                                      "system",
                                      {{"notify", StringsToJson(r.notify)},
                                       {"approvers", StringsToJson(r.approvers)},
                                       {"deadline_at", FormatTime(r.deadline_at)}}});
        if (!event.ok()) return std::move(event).error();
        *next = now + r.remind_every;
        return Announce(txn, std::make_shared<const Request>(r));
      },
      [this, tenant, id, next](Status s) {
        if (!s.ok()) {
          spdlog::warn("reminder for {} failed ({}); retrying in 1s", id, s.error().message);
          reminders_.Schedule(tenant, id, clock_.Now() + std::chrono::seconds(1));
          return;
        }
        if (*next) reminders_.Schedule(tenant, id, **next);
      });
}

void Gateway::Expire(std::string tenant, std::string id, Callback<RequestPtr> done) {
  const TimePoint now = clock_.Now();
  auto fn = [this, tenant, id, now](Transaction& txn) -> Result<RequestPtr> {
    auto found = txn.FindRequest(tenant, id);
    if (!found.ok()) return std::move(found).error();
    if (!found.value()) return RequestPtr();
    const Request& r = *found.value();
    // A stale scheduler entry: resolved meanwhile, or the deadline moved later.
    if (!r.pending() || r.deadline_at > now) return RequestPtr();
    if (r.on_timeout == OnTimeout::kEscalate &&
        static_cast<size_t>(r.escalation_level) < r.escalate_to.size()) {
      auto escalated = Escalate(txn, r, now, "timeout", "system");
      if (!escalated.ok()) return std::move(escalated).error();
      return Reload(txn, r.tenant, r.id);
    }
    // Past the last tier (or with no tiers), an escalating request expires.
    const RequestStatus status =
        r.on_timeout == OnTimeout::kDeny ? RequestStatus::kDenied : RequestStatus::kExpired;
    auto changed = txn.ResolveIfPending(r.id, status, now, {}, "");
    if (!changed.ok()) return std::move(changed).error();
    if (!changed.value()) return RequestPtr();
    auto event = txn.AppendEvent({now,
                                  r.tenant,
                                  r.id,
                                  "request.expired",
                                  "system",
                                  {{"status", StatusName(status)},
                                   {"on_timeout", OnTimeoutName(r.on_timeout)},
                                   {"deadline_at", FormatTime(r.deadline_at)}}});
    if (!event.ok()) return std::move(event).error();
    return Reload(txn, r.tenant, r.id);
  };
  CommitTransition(std::move(fn), std::move(done));
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

void Gateway::EnableReadCache(size_t capacity) {
  cache_ = std::make_unique<RequestCache>(capacity);
  store_.AddCommitListener(
      [cache = cache_.get()](const std::vector<Event>& events) { cache->Forget(events); });
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
  if (!IsValidAction(input.action)) {
    done(Error::Invalid("action must match [A-Za-z0-9_.:/-]{1,128}"));
    return;
  }
  if (input.scope != "session" && input.scope != "tenant") {
    done(Error::Invalid("scope must be session or tenant"));
    return;
  }
  if (input.scope == "session" && (input.session.empty() || input.session.size() > kMaxShortText)) {
    done(Error::Invalid("a session grant needs a session of 1 to 128 bytes"));
    return;
  }
  if (input.ttl_seconds < 1 || input.ttl_seconds > options_.max_timeout.count()) {
    done(Error::Invalid("ttl_seconds is required, between 1 and " +
                        std::to_string(options_.max_timeout.count())));
    return;
  }
  if (Policies()->Evaluate({input.action, "", actor.tenant, ""}).high_risk) {
    done(Error::Invalid("a high-risk action can never be granted"));
    return;
  }
  const TimePoint now = clock_.Now();
  // Decided before the braced list moves input.scope away.
  std::string session = input.scope == "session" ? std::move(input.session) : std::string();
  auto grant = std::make_shared<Grant>(
      Grant{ids_.Next("grt_"), actor.tenant, std::move(input.action), std::move(input.scope),
            std::move(session), actor.name, now, now + std::chrono::seconds(input.ttl_seconds),
            std::nullopt, ""});
  RaiseGrantHorizon(grant->expires_at);
  store_.Write(
      [grant](Transaction& txn) -> Status {
        const Grant& g = *grant;
        CS_RETURN_IF_ERROR(txn.InsertGrant(g));
        auto event = txn.AppendEvent({g.created_at,
                                      g.tenant,
                                      "",
                                      "grant.created",
                                      g.created_by,
                                      {{"grant_id", g.id},
                                       {"action", g.action},
                                       {"scope", g.scope},
                                       {"session", g.session},
                                       {"expires_at", FormatTime(g.expires_at)}}});
        if (!event.ok()) return std::move(event).error();
        return Ok();
      },
      [grant, done = std::move(done)](Status s) {
        if (!s.ok()) {
          done(std::move(s).error());
          return;
        }
        done(*grant);
      });
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
  auto out = std::make_shared<Grant>();
  store_.Write(
      [actor, id, now, out](Transaction& txn) -> Status {
        auto changed = txn.RevokeGrant(actor.tenant, id, now);
        if (!changed.ok()) return std::move(changed).error();
        if (!changed.value()) return Error::NotFound("no active grant " + id);
        auto event = txn.AppendEvent(
            {now, actor.tenant, "", "grant.revoked", actor.name, {{"grant_id", id}}});
        if (!event.ok()) return std::move(event).error();
        out->id = id;
        out->tenant = actor.tenant;
        out->revoked_at = now;
        return Ok();
      },
      [out, done = std::move(done)](Status s) {
        if (!s.ok()) {
          done(std::move(s).error());
          return;
        }
        done(*out);
      });
}

Status Gateway::Announce(Transaction& txn, const RequestPtr& current) const {
  Notifier* notifier = notifier_.load(std::memory_order_acquire);
  if (!notifier || !current || txn.AppendedEvents().empty()) return Ok();
  return notifier->Enqueue(txn, *current, txn.AppendedEvents());
}

void Gateway::CommitTransition(std::function<Result<RequestPtr>(Transaction&)> change,
                               Callback<RequestPtr> done) {
  auto out = std::make_shared<RequestPtr>();
  store_.Write(
      [this, change = std::move(change), out](Transaction& txn) -> Status {
        auto changed = change(txn);
        if (!changed.ok()) return std::move(changed).error();
        *out = std::move(changed).value();
        return Announce(txn, *out);
      },
      [this, out, done = std::move(done)](Status s) {
        if (!s.ok()) {
          done(std::move(s).error());
          return;
        }
        // Waiters first, so a long-poll is answered no later than the caller that resolved it.
        if (*out && !(*out)->pending()) waiters_.Notify(*out);
        // Escalation is the only change that moves a deadline; a stale entry costs a no-op.
        if (*out && (*out)->pending() && (*out)->escalation_level > 0) {
          scheduler_.Schedule((*out)->tenant, (*out)->id, (*out)->deadline_at);
        }
        done(*out);
      });
}

}  // namespace countersign
