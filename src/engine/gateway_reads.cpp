// The gateway's reads that are not about one request: audit, principals, health, feeds.
#include <algorithm>
#include <utility>

#include <spdlog/spdlog.h>

#include "core/mutex_lock.hpp"
#include "engine/audit_sealer.hpp"
#include "engine/gateway.hpp"

namespace countersign {

struct Gateway::Verification {
  Actor actor;
  bool full = false;
  AuditCheckpoint from;  // where this verification started
  AuditReport total;     // the chunks so far, added up
  SignedPoint last_signed;
  Callback<AuditVerification> done;
  VerifyProgress progress;
  int64_t total_events = -1;  // to check, read at the first chunk; -1 before
};

Error Gateway::ReadsBusy() {
  Error e = Error::Unavailable("the store is busy: too many reads are waiting; try again");
  e.retry_after_seconds = 1;
  return e;
}

Result<Gateway::RequestPtr> Gateway::GetInTenant(std::string_view tenant, std::string_view id) {
  auto found = store_.GetRequest(tenant, id);
  if (!found.ok()) return std::move(found).error();
  if (!found.value()) return Error::NotFound("no request " + Echo(id));
  return std::make_shared<const Request>(std::move(*found.value()));
}

Result<std::vector<Event>> Gateway::ListAudit(const Actor& actor, EventFilter filter) {
  if (!actor.CanReadTenant()) {
    return Error::Forbidden("reading the audit log needs an approver or admin");
  }
  filter.tenant = actor.tenant;
  return store_.ListEvents(filter);
}

Result<std::vector<Event>> Gateway::ListRequestEvents(const Actor& actor, std::string_view id,
                                                      int64_t since, int limit) {
  auto visible = Get(actor, id);
  if (!visible.ok()) return std::move(visible).error();
  EventFilter filter;
  filter.tenant = actor.tenant;
  filter.request_id = std::string(id);
  filter.since = since;
  filter.limit = limit;
  return store_.ListEvents(filter);
}

void Gateway::VerifyAudit(const Actor& actor, bool full, Callback<AuditVerification> done,
                          VerifyProgress progress) {
  if (!actor.IsOperator()) {
    done(Error::Forbidden("verifying the audit chain needs an admin of the default tenant"));
    return;
  }
  auto v = std::make_shared<Verification>();
  v->actor = actor;
  {
    MutexLock lock(verified_mu_);
    v->full = full || verified_.seq == 0;
    if (!v->full) {
      v->from = verified_;
      v->last_signed = signed_;
    }
  }
  v->total.checkpoint = v->from;
  v->done = std::move(done);
  v->progress = std::move(progress);
  if (!reads_.Post([this, v] { VerifyChunk(v); })) v->done(ReadsBusy());
}

void Gateway::VerifyChunk(std::shared_ptr<Verification> v) {
  if (v->progress && v->total_events < 0) {
    // How far the chain reaches now: the progress's 100 %. Events appended meanwhile are
    // checked too, and the count stops at 100 %.
    EventFilter last;
    last.newest_first = true;
    last.limit = 1;
    auto newest = store_.ListEvents(last);
    const int64_t end = newest.ok() && !newest->empty() ? newest->front().seq : 0;
    v->total_events = std::max<int64_t>(0, end - v->from.seq);
  }
  auto chunk = store_.VerifyAudit(v->total.checkpoint, std::max<int64_t>(1, options_.verify_chunk));
  if (!chunk.ok()) {
    v->done(std::move(chunk).error());
    return;
  }
  AuditReport& total = v->total;
  total.events_checked += chunk->events_checked;
  total.ok = chunk->ok;
  total.first_bad_seq = chunk->first_bad_seq;
  total.reason = std::move(chunk->reason);
  total.checkpoint = std::move(chunk->checkpoint);
  total.reached_end = chunk->reached_end;
  for (const Event& checkpoint : chunk->signed_checkpoints) {
    std::string wrong = seal_verifier_ ? AuditSealer::Check(*seal_verifier_, checkpoint)
                                       : "no receipt key to check the checkpoint at seq " +
                                             std::to_string(checkpoint.seq) + " with";
    if (!wrong.empty()) {
      total.ok = false;
      total.first_bad_seq = checkpoint.seq;
      total.reason = std::move(wrong);
      total.reached_end = false;
      // Good up to the event the checkpoint claims to sign, no further.
      total.checkpoint = AuditCheckpoint{checkpoint.seq - 1, checkpoint.prev_hash, {}};
      break;
    }
    v->last_signed = SignedPoint{checkpoint.seq - 1, checkpoint.seq, checkpoint.at};
  }
  if (v->progress) {
    v->progress(std::min(total.events_checked, v->total_events), v->total_events);
  }
  if (total.ok && !total.reached_end) {
    // Behind the reads queued meanwhile: a long verification never holds up the others.
    if (!reads_.Post([this, v] { VerifyChunk(v); })) v->done(ReadsBusy());
    return;
  }
  FinishVerification(std::move(v));
}

void Gateway::FinishVerification(std::shared_ptr<Verification> v) {
  AuditCheckpoint reached = v->total.checkpoint;
  reached.verified_at = clock_.Now();
  if (v->total.ok) {
    MutexLock lock(verified_mu_);
    // Two verifications may overlap: keep the one that got further.
    if (reached.seq >= verified_.seq) {
      verified_ = reached;
      signed_ = v->last_signed;
    }
  } else {
    spdlog::error("audit chain broken at event {}: {}", v->total.first_bad_seq, v->total.reason);
  }
  v->done(AuditVerification{std::move(v->total), v->full, v->from.seq, v->last_signed});
  // Persisted for the record ("last verified"), never trusted back: see VerifyAudit.
  store_.Write([reached](Transaction& txn) { return txn.PutAuditCheckpoint(reached); },
               [](Status s) {
                 if (!s.ok()) spdlog::warn("audit checkpoint not stored: {}", s.error().message);
               });
}

Actor Gateway::PrincipalActor(const std::string& tenant, const std::string& principal) {
  Actor actor{principal, Role::kApprover, tenant, {}};
  auto principals = store_.ListPrincipals(tenant);
  if (!principals.ok()) return actor;
  for (const auto& p : principals.value()) {
    if (p.name != principal || p.revoked_at) continue;
    for (const auto& group : p.groups) {
      if (!actor.InGroup(group)) actor.groups.push_back(group);
    }
  }
  return actor;
}

Result<std::vector<OutboxRow>> Gateway::ListOutbox(const Actor& actor, const std::string& state,
                                                   const std::string& request_id, int limit) {
  if (actor.role != Role::kAdmin)
    return Error::Forbidden("reading the outbox needs an admin token");
  const std::string tenant = actor.IsOperator() ? std::string() : actor.tenant;
  return store_.ListOutbox(tenant, state, request_id, limit);
}

Result<int64_t> Gateway::CountPending(std::string_view tenant) {
  return store_.CountPending(tenant);
}

Status Gateway::CheckReady() {
  CS_RETURN_IF_ERROR(store_.Ping());
  // Reads answering is not enough: after an I/O error the writer is stopped for good.
  return store_.WriterHealth();
}

StoreSnapshot Gateway::StoreState() const {
  StoreSnapshot out;
  out.requests_by_status = counts_.ByStatus();
  out.stats = store_.Stats();
  return out;
}

std::unique_ptr<EventFeed> Gateway::OpenFeed(EventBus& bus, const Actor& actor,
                                             std::string request_id, std::optional<int64_t> since,
                                             std::string session) {
  // Replay pages and visibility look-ups run on the read executor, never on the stream's
  // network thread.
  return std::make_unique<EventFeed>(
      bus, store_, actor, std::move(request_id), since, std::move(session),
      [this](std::function<void()> task) { return reads_.Post(std::move(task)); });
}

Result<int64_t> Gateway::FeedPositionAt(const std::string& tenant, TimePoint at) {
  return EventFeed::PositionAt(store_, tenant, at);
}

}  // namespace countersign
