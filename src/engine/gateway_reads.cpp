// The gateway's reads that are not about one request: audit, principals, health, feeds.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

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
  // A wave could not be planned or composed: one chunk at a time from here on.
  bool sequential = false;
};

// Chunks of one verification checked at once: chunk k checks the events after starts[k] (the
// first the checkpoint reached, each other a boundary event and its stored hash), each on a
// read-executor thread of its own. The last to finish composes them. Thread-safe.
struct Gateway::VerifyWave {
  VerifyWave(std::shared_ptr<Verification> verification, std::vector<AuditCheckpoint> at)
      : v(std::move(verification)),
        starts(std::move(at)),
        reports(starts.size()),
        running(starts.size()) {}

  std::shared_ptr<Verification> v;  // composed into by the last chunk only
  const std::vector<AuditCheckpoint> starts;
  Mutex mu;
  std::vector<std::optional<Result<AuditReport>>> reports CS_GUARDED_BY(mu);
  size_t running CS_GUARDED_BY(mu);  // chunks not back yet
};

namespace {

// The chunks checked at once: as the options ask, never more than half the read threads.
size_t VerifyParallel(const GatewayOptions& options) {
  const size_t wanted = options.verify_parallel > 0 ? options.verify_parallel : 2;
  return std::clamp<size_t>(options.read_threads / 2, 1, wanted);
}

// The seq of the chain's last event now; 0 when it is empty, -1 when it cannot be read.
int64_t NewestSeq(Store& store) {
  EventFilter last;
  last.newest_first = true;
  last.limit = 1;
  auto newest = store.ListEvents(last);
  if (!newest.ok()) return -1;
  return newest->empty() ? 0 : newest->front().seq;
}

// Event `seq` and the hash stored with it, as a chunk that starts there takes it; nullopt
// when it cannot be read or is not there.
std::optional<AuditCheckpoint> StoredCheckpoint(Store& store, int64_t seq) {
  EventFilter at;
  at.since = seq - 1;
  at.limit = 1;
  auto found = store.ListEvents(at);
  if (!found.ok() || found->empty() || found->front().seq != seq) return std::nullopt;
  return AuditCheckpoint{seq, std::move(found->front().hash), {}};
}

}  // namespace

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
  if (!reads_.Post([this, v] { VerifyStep(v); })) v->done(ReadsBusy());
}

void Gateway::VerifyStep(std::shared_ptr<Verification> v) {
  const int64_t chunk = std::max<int64_t>(1, options_.verify_chunk);
  const size_t parallel = v->sequential ? 1 : VerifyParallel(options_);
  const bool count_total = v->progress && v->total_events < 0;
  // The end of the chain now: the progress's 100 % (read once), and how far a wave may plan.
  const int64_t newest = count_total || parallel > 1 ? NewestSeq(store_) : -1;
  if (count_total) {
    // Events appended meanwhile are checked too, and the count stops at 100 %.
    v->total_events = std::max<int64_t>(0, newest - v->from.seq);
  }
  // Each chunk after the first starts from its boundary event's stored hash, read here; that
  // chunk checks the event still carries it, and ComposeWave that the chunk before ends there
  // with it. A chain that fits in one chunk costs no such read.
  const AuditCheckpoint& reached = v->total.checkpoint;
  const int64_t left = newest - reached.seq;  // events after `reached` known now
  std::vector<AuditCheckpoint> starts{reached};
  for (size_t k = 1; k < parallel && left > 0 && static_cast<int64_t>(k) <= (left - 1) / chunk;
       ++k) {
    auto start = StoredCheckpoint(store_, reached.seq + static_cast<int64_t>(k) * chunk);
    if (!start) {
      // Whatever failed the read, one chunk at a time meets it where it lies.
      v->sequential = true;
      starts.resize(1);
      break;
    }
    starts.push_back(std::move(*start));
  }
  if (starts.size() == 1) {
    auto report = store_.VerifyAudit(starts.front(), chunk);
    if (!report.ok()) {
      v->done(std::move(report).error());
      return;
    }
    AddVerifiedChunk(*v, std::move(report).value());
    ContinueVerification(std::move(v));
    return;
  }
  auto wave = std::make_shared<VerifyWave>(std::move(v), std::move(starts));
  for (size_t k = 1; k < wave->starts.size(); ++k) {
    if (!reads_.Post([this, wave, k, chunk] {
          WaveChunkDone(wave, k, store_.VerifyAudit(wave->starts[k], chunk));
        })) {
      WaveChunkDone(wave, k, ReadsBusy());
    }
  }
  // The first chunk on this thread, which holds its place in the queue already.
  WaveChunkDone(wave, 0, store_.VerifyAudit(wave->starts[0], chunk));
}

void Gateway::WaveChunkDone(const std::shared_ptr<VerifyWave>& wave, size_t k,
                            Result<AuditReport> report) {
  {
    MutexLock lock(wave->mu);
    wave->reports[k].emplace(std::move(report));
    if (--wave->running > 0) return;
  }
  ComposeWave(*wave);
}

void Gateway::ComposeWave(VerifyWave& wave) {
  std::vector<std::optional<Result<AuditReport>>> reports;
  {
    MutexLock lock(wave.mu);
    reports = std::move(wave.reports);
  }
  std::shared_ptr<Verification> v = std::move(wave.v);
  // Where the chunk before the current one started, for a failure where the two meet.
  AuditCheckpoint before = v->total.checkpoint;
  SignedPoint signed_before = v->last_signed;
  for (size_t k = 0; k < reports.size(); ++k) {
    if (k > 0) {
      // The chunks so far are good and stopped at their limit: one pass would go on from
      // their checkpoint, so chunk k counts only if it started from that very one.
      const AuditCheckpoint& reached = v->total.checkpoint;
      const AuditCheckpoint& start = wave.starts[k];
      if (reached.seq != start.seq) {
        // Not while VerifyAudit stops short only at its limit (or at the end, which ended
        // the loop); should it, one chunk at a time from where the chunks so far stopped.
        v->sequential = true;
        ContinueVerification(std::move(v));
        return;
      }
      if (reached.hash != start.hash) {
        // Event start.seq changed between the reads of the chunks on either side of it.
        AuditReport& total = v->total;
        total.ok = false;
        total.first_bad_seq = start.seq;
        total.reason = "seq " + std::to_string(start.seq) +
                       " changed during the verification: where two of its chunks meet, the " +
                       "one ending there and the one starting there read different hashes";
        total.reached_end = false;
        total.checkpoint = before;
        v->last_signed = signed_before;
        break;
      }
    }
    Result<AuditReport>& report = *reports[k];
    if (!report.ok()) {
      v->done(std::move(report).error());
      return;
    }
    before = v->total.checkpoint;
    signed_before = v->last_signed;
    AddVerifiedChunk(*v, std::move(report).value());
    if (!v->total.ok || v->total.reached_end) break;
  }
  verify_waves_.fetch_add(1);
  ContinueVerification(std::move(v));
}

void Gateway::AddVerifiedChunk(Verification& v, AuditReport chunk) {
  AuditReport& total = v.total;
  total.events_checked += chunk.events_checked;
  total.ok = chunk.ok;
  total.first_bad_seq = chunk.first_bad_seq;
  total.reason = std::move(chunk.reason);
  total.checkpoint = std::move(chunk.checkpoint);
  total.reached_end = chunk.reached_end;
  for (const Event& checkpoint : chunk.signed_checkpoints) {
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
    v.last_signed = SignedPoint{checkpoint.seq - 1, checkpoint.seq, checkpoint.at};
  }
  if (v.progress) {
    v.progress(std::min(total.events_checked, v.total_events), v.total_events);
  }
}

void Gateway::ContinueVerification(std::shared_ptr<Verification> v) {
  if (v->total.ok && !v->total.reached_end) {
    // Behind the reads queued meanwhile: a long verification never holds up the others.
    if (!reads_.Post([this, v] { VerifyStep(v); })) v->done(ReadsBusy());
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
