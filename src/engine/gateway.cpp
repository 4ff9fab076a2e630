#include "engine/gateway.hpp"

#include <set>

#include <spdlog/spdlog.h>

#include "core/canonical_json.hpp"
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

bool IsEligibleApprover(const Actor& actor, const Request& r) {
  if (r.approvers.empty()) return true;
  for (const auto& a : r.approvers) {
    if (a == actor.name) return true;
    if (a.rfind("group:", 0) == 0 && actor.InGroup(a.substr(6))) return true;
  }
  return false;
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

Gateway::Gateway(Store& store, Clock& clock, GatewayOptions options)
    : store_(store),
      clock_(clock),
      options_(options),
      ids_(clock),
      scheduler_(clock, [this](const std::string& tenant, const std::string& id) {
        Expire(tenant, id, [this, tenant, id](Result<RequestPtr> r) {
          if (r.ok()) return;
          // The store refused the write (full queue, disk trouble): try again shortly rather
          // than leave the request pending past its deadline.
          spdlog::warn("expiring {} failed ({}); retrying in 1s", id, r.error().message);
          scheduler_.Schedule(tenant, id, clock_.Now() + std::chrono::seconds(1));
        });
      }) {}

Gateway::~Gateway() { Stop(); }

Status Gateway::Start() {
  auto pending = store_.ListPendingDeadlines();
  if (!pending.ok()) return std::move(pending).error();
  for (auto& p : pending.value()) scheduler_.Schedule(p.tenant, p.id, p.deadline);
  spdlog::info("deadline scheduler holds {} pending requests", pending->size());
  scheduler_.Start();
  return Ok();
}

void Gateway::Stop() {
  scheduler_.Stop();
  waiters_.CloseAll();
}

Result<Request> Gateway::BuildRequest(const Actor& actor, NewRequest& in) {
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
  auto on_timeout = ParseOnTimeout(in.on_timeout);
  if (!on_timeout) return Error::Invalid("on_timeout must be expire, deny or escalate");

  Request r;
  r.kind = *kind;
  r.on_timeout = *on_timeout;
  if (in.choices && *kind != Kind::kQuestion) {
    if (in.choices->empty() || in.choices->size() > kMaxChoices) {
      return Error::Invalid("choices must hold 1 to " + std::to_string(kMaxChoices) + " entries");
    }
    std::set<std::string> seen;
    for (const auto& c : *in.choices) {
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
    }
    r.choices = std::move(*in.choices);
  } else {
    r.choices = DefaultChoices(*kind);
  }

  if (in.approvers.size() > kMaxApprovers) {
    return Error::Invalid("at most " + std::to_string(kMaxApprovers) + " approvers");
  }
  bool has_group = false;
  for (const auto& a : in.approvers) {
    if (a.empty() || a.size() > kMaxShortText || HasControlChars(a)) {
      return Error::Invalid("each approver must be a name of 1 to 128 printable bytes");
    }
    has_group = has_group || a.rfind("group:", 0) == 0;
  }
  const int64_t quorum = in.quorum.value_or(1);
  if (quorum < 1 || quorum > kMaxQuorum) {
    return Error::Invalid("quorum must be between 1 and " + std::to_string(kMaxQuorum));
  }
  if (!in.approvers.empty() && !has_group && static_cast<size_t>(quorum) > in.approvers.size()) {
    return Error::Invalid("quorum " + std::to_string(quorum) +
                          " needs at least that many approvers");
  }
  const int64_t timeout = in.timeout_seconds.value_or(options_.default_timeout.count());
  if (timeout < 1 || timeout > options_.max_timeout.count()) {
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

  r.id = ids_.Next("req_");
  r.tenant = actor.tenant;
  r.action = std::move(in.action);
  r.title = std::move(in.title);
  r.details = std::move(in.details);
  r.arguments = std::move(in.arguments);
  r.arguments_sha256 = Sha256Hex(CanonicalJson(r.arguments));
  r.requester = actor.name;
  r.session = std::move(in.session);
  r.approvers = std::move(in.approvers);
  r.quorum = static_cast<int>(quorum);
  r.created_at = clock_.Now();
  r.deadline_at = r.created_at + std::chrono::seconds(timeout);
  r.notify = std::move(in.notify);
  r.callback_url = std::move(in.callback_url);
  r.idempotency_key = std::move(in.idempotency_key);
  return r;
}

void Gateway::Create(const Actor& actor, NewRequest input, Callback<Created> done) {
  if (!actor.CanCreate()) {
    done(
        Error::Forbidden("role " + std::string(RoleName(actor.role)) + " may not create requests"));
    return;
  }
  auto built = BuildRequest(actor, input);
  if (!built.ok()) {
    done(std::move(built).error());
    return;
  }
  auto request = std::make_shared<Request>(std::move(built).value());
  auto out = std::make_shared<Created>();
  const std::string body_sha256 = input.body_sha256;

  auto fn = [request, out, body_sha256, actor](Transaction& txn) -> Status {
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
                                   {"deadline_at", FormatTime(r.deadline_at)},
                                   {"arguments_sha256", r.arguments_sha256}}});
    if (!event.ok()) return std::move(event).error();
    out->request = request;
    return Ok();
  };
  store_.Write(std::move(fn), [this, out, done = std::move(done)](Status s) {
    if (!s.ok()) {
      done(std::move(s).error());
      return;
    }
    if (!out->replayed) {
      scheduler_.Schedule(out->request->tenant, out->request->id, out->request->deadline_at);
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
  auto decision = std::make_shared<Decision>();
  decision->id = ids_.Next("dec_");
  decision->request_id = id;
  decision->principal = actor.name;
  decision->choice = std::move(input.choice);
  decision->comment = std::move(input.comment);
  decision->answer = std::move(input.answer);
  decision->arguments = std::move(input.arguments);
  decision->at = clock_.Now();
  auto fn = [actor, id, decision](Transaction& txn) -> Result<RequestPtr> {
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
    if (!IsEligibleApprover(actor, r)) {
      return Error::Forbidden(actor.name + " is not an approver of this request");
    }
    for (const auto& d : r.decisions) {
      if (d.principal == actor.name && d.outcome != Outcome::kEscalate) {
        return ConflictWith(r, actor.name + " has already decided this request");
      }
    }
    Decision& d = *decision;
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
    CS_RETURN_IF_ERROR(txn.InsertDecision(r, d));
    boost::json::object data{{"decision_id", d.id},
                             {"choice", d.choice},
                             {"outcome", OutcomeName(d.outcome)},
                             {"comment", d.comment}};
    if (!d.answer.empty()) data["answer"] = d.answer;
    if (d.arguments) data["arguments_sha256"] = Sha256Hex(CanonicalJson(*d.arguments));
    auto recorded =
        txn.AppendEvent({d.at, r.tenant, r.id, "decision.recorded", actor.name, std::move(data)});
    if (!recorded.ok()) return std::move(recorded).error();

    std::optional<RequestStatus> resolution;
    std::vector<std::string> resolved_by;
    switch (d.outcome) {
      case Outcome::kDenied:
        resolution = RequestStatus::kDenied;
        resolved_by = {actor.name};
        break;
      case Outcome::kAnswered:
        resolution = RequestStatus::kAnswered;
        resolved_by = {actor.name};
        break;
      case Outcome::kApproved: {
        for (const auto& prior : r.decisions) {
          if (prior.outcome == Outcome::kApproved) resolved_by.push_back(prior.principal);
        }
        resolved_by.push_back(actor.name);
        if (static_cast<int>(resolved_by.size()) >= r.quorum) resolution = RequestStatus::kApproved;
        break;
      }
      case Outcome::kEscalate: {
        auto changed = txn.EscalateIfPending(r.id, r.escalation_level + 1, r.deadline_at);
        if (!changed.ok()) return std::move(changed).error();
        auto escalated =
            txn.AppendEvent({d.at,
                             r.tenant,
                             r.id,
                             "request.escalated",
                             actor.name,
                             {{"escalation_level", r.escalation_level + 1}, {"reason", "choice"}}});
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
    }
    return Reload(txn, r.tenant, r.id);
  };
  CommitTransition(std::move(fn), std::move(done));
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

void Gateway::Expire(std::string tenant, std::string id, Callback<RequestPtr> done) {
  const TimePoint now = clock_.Now();
  auto fn = [tenant, id, now](Transaction& txn) -> Result<RequestPtr> {
    auto found = txn.FindRequest(tenant, id);
    if (!found.ok()) return std::move(found).error();
    if (!found.value()) return RequestPtr();
    const Request& r = *found.value();
    // A stale scheduler entry: resolved meanwhile, or the deadline moved later.
    if (!r.pending() || r.deadline_at > now) return RequestPtr();
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
  auto found = store_.GetRequest(actor.tenant, id);
  if (!found.ok()) return std::move(found).error();
  if (!found.value() || !CanSee(actor, *found.value())) return NotFound(id);
  return std::make_shared<const Request>(std::move(*found.value()));
}

Result<RequestPage> Gateway::List(const Actor& actor, RequestFilter filter) {
  filter.tenant = actor.tenant;
  if (!actor.CanReadTenant()) {
    if (!filter.requester.empty() && filter.requester != actor.name) return RequestPage{};
    filter.requester = actor.name;
  }
  return store_.ListRequests(filter);
}

void Gateway::CommitTransition(std::function<Result<RequestPtr>(Transaction&)> change,
                               Callback<RequestPtr> done) {
  auto out = std::make_shared<RequestPtr>();
  store_.Write(
      [change = std::move(change), out](Transaction& txn) -> Status {
        auto changed = change(txn);
        if (!changed.ok()) return std::move(changed).error();
        *out = std::move(changed).value();
        return Ok();
      },
      [this, out, done = std::move(done)](Status s) {
        if (!s.ok()) {
          done(std::move(s).error());
          return;
        }
        // Waiters first, so a long-poll is answered no later than the caller that resolved it.
        if (*out && !(*out)->pending()) waiters_.Notify(*out);
        done(*out);
      });
}

}  // namespace countersign
