#include "engine/audit_sealer.hpp"

#include <memory>
#include <optional>
#include <utility>

#include <spdlog/spdlog.h>

#include "core/mutex_lock.hpp"

namespace countersign {

namespace {

constexpr char kTenant[] = "default";  // one chain spans every tenant: the operator's

}  // namespace

AuditSealer::AuditSealer(Store& store, Alarms& alarms, const ReceiptSigner& signer,
                         AuditSealerOptions options)
    : store_(store), alarms_(alarms), signer_(signer), options_(options) {}

AuditSealer::~AuditSealer() { Stop(); }

void AuditSealer::Start(ChangeFeed& changes) {
  auto head = store_.GetAuditHead();
  if (!head.ok()) {
    // A damaged store started with --integrity-check off: its reads fail on their own, and
    // the timer still signs what comes after.
    spdlog::warn("audit sealer: cannot read the end of the audit log ({}); counting from now",
                 head.error().message);
  }
  bool due = false;
  {
    MutexLock lock(mu_);
    unsigned_ = head.ok() ? head->seq - head->last_checkpoint_seq : 0;
    due = options_.every_events > 0 && unsigned_ >= options_.every_events;
  }
  changes.Subscribe("audit sealer",
                    [this](const std::vector<Event>& events) { OnCommitted(events); });
  ArmTimer();
  if (due) Seal({});
}

void AuditSealer::Stop() {
  MutexLock lock(mu_);
  if (stopped_) return;
  stopped_ = true;
  alarms_.Cancel(timer_);
}

void AuditSealer::SealNow(std::function<void(Result<int64_t>)> done) { Seal(std::move(done)); }

void AuditSealer::OnCommitted(const std::vector<Event>& events) {
  bool due = false;
  {
    MutexLock lock(mu_);
    for (const auto& e : events) {
      unsigned_ = e.type == kAuditCheckpointEvent ? 0 : unsigned_ + 1;
    }
    due = options_.every_events > 0 && unsigned_ >= options_.every_events;
  }
  if (due) Seal({});
}

void AuditSealer::ArmTimer() {
  if (options_.interval.count() <= 0) return;
  MutexLock lock(mu_);
  if (stopped_) return;
  timer_ = alarms_.After(options_.interval, [this] { OnTimer(); });
}

void AuditSealer::OnTimer() {
  bool due = false;
  {
    MutexLock lock(mu_);
    if (stopped_) return;
    due = unsigned_ > 0;
  }
  if (due) Seal({});
  ArmTimer();
}

void AuditSealer::Seal(std::function<void(Result<int64_t>)> done) {
  std::optional<Error> refused;
  {
    MutexLock lock(mu_);
    if (stopped_) {
      refused = Error::Unavailable("the audit sealer has stopped");
    } else if (sealing_) {
      refused = Error::Unavailable("an audit checkpoint is being written");
    } else {
      sealing_ = true;
    }
  }
  if (refused) {
    if (done) done(std::move(*refused));
    return;
  }
  auto seq = std::make_shared<int64_t>(0);
  store_.Write(
      [this, seq](Transaction& txn) -> Status {
        auto written = WriteCheckpoint(txn);
        if (!written.ok()) return std::move(written).error();
        *seq = written.value();
        return Ok();
      },
      [this, seq, done = std::move(done)](Status status) {
        {
          MutexLock lock(mu_);
          sealing_ = false;
        }
        if (!status.ok()) {
          spdlog::warn("audit checkpoint not written: {}", status.error().message);
          if (done) done(std::move(status).error());
          return;
        }
        if (*seq > 0) spdlog::debug("audit checkpoint {} signs the chain up to {}", *seq, *seq - 1);
        if (done) done(*seq);
      });
}

Result<int64_t> AuditSealer::WriteCheckpoint(Transaction& txn) const {
  auto head = txn.FindAuditHead();
  if (!head.ok()) return std::move(head).error();
  if (head->seq == 0 || head->type == kAuditCheckpointEvent) return int64_t{0};
  const TimePoint now = alarms_.Now();
  std::string jws = signer_.SignJws(Statement(head->seq, head->hash, now));
  if (jws.empty()) return Error::Internal("cannot sign an audit checkpoint: the signer failed");
  EventDraft draft{now,    kTenant,
                   "",     kAuditCheckpointEvent,
                   kActor, {{"seq", head->seq}, {"hash", head->hash}, {"jws", std::move(jws)}}};
  auto seq = txn.AppendEvent(std::move(draft));
  if (!seq.ok()) return std::move(seq).error();
  if (notifier_ != nullptr) {
    CS_RETURN_IF_ERROR(notifier_->EnqueueAuditEvent(txn, txn.AppendedEvents().back()));
  }
  return seq;
}

boost::json::object AuditSealer::Statement(int64_t seq, std::string_view hash, TimePoint at) {
  return {{"typ", kStatementType},
          {"seq", seq},
          {"hash", hash},
          {"iat", std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count()}};
}

std::string AuditSealer::Check(const ReceiptVerifier& verifier, const Event& event) {
  const std::string at = "the checkpoint at seq " + std::to_string(event.seq);
  const auto* jws = event.data.if_contains("jws");
  if (jws == nullptr || !jws->is_string()) return at + " carries no signature";
  const ReceiptVerdict verdict = verifier.VerifyJws(jws->get_string());
  if (!verdict.valid()) return at + " has a bad signature: " + verdict.reason;
  const boost::json::object& claims = *verdict.claims;
  const auto* typ = claims.if_contains("typ");
  const auto* seq = claims.if_contains("seq");
  const auto* hash = claims.if_contains("hash");
  if (typ == nullptr || !typ->is_string() || typ->get_string() != kStatementType ||
      seq == nullptr || !seq->is_int64() || hash == nullptr || !hash->is_string()) {
    return at + " signs something other than a checkpoint statement";
  }
  if (seq->get_int64() != event.seq - 1 || hash->get_string() != event.prev_hash) {
    return at + " signs event " + std::to_string(seq->get_int64()) + " with hash " +
           std::string(hash->get_string()) + ", but the log has event " +
           std::to_string(event.seq - 1) + " with hash " + event.prev_hash +
           ": the events up to it were changed after they were signed";
  }
  const auto* data_seq = event.data.if_contains("seq");
  const auto* data_hash = event.data.if_contains("hash");
  if (data_seq == nullptr || *data_seq != *seq || data_hash == nullptr || *data_hash != *hash) {
    return at + " shows another seq or hash than the one it signs";
  }
  return "";
}

}  // namespace countersign
