// AuditSealer: signs the audit chain as it grows, so that whoever can write the database
// cannot rewrite history unnoticed.
//
// The hash chain alone proves only that the rows agree with each other: edit one event and
// recompute every later hash, and the chain is whole again. So every `every_events` events, or
// once `interval` has passed with any event unsigned, the sealer appends an
// kAuditCheckpointEvent ("audit.checkpoint") whose data carries a compact JWS made with the
// receipt key (the one GET /v1/keys publishes) over {"typ": "countersign.audit.checkpoint",
// "seq", "hash", "iat"}: the seq and hash of the event just before it. Rewriting anything up to
// that event changes that hash, and the signature no longer matches the log without the key.
// Each checkpoint also goes to every [[webhook]] subscribed to "audit.checkpoint" (of the
// default tenant or of none), so a system outside holds anchors the database cannot change.
//
// The count and the timer run on the commit feed and the gateway's alarms (the injected
// clock); at most one checkpoint is being written at a time. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "auth/receipt_signer.hpp"
#include "auth/receipt_verifier.hpp"
#include "core/mutex.hpp"
#include "core/thread_annotations.hpp"
#include "engine/alarms.hpp"
#include "engine/change_feed.hpp"
#include "notify/notifier.hpp"
#include "store/store.hpp"

namespace countersign {

struct AuditSealerOptions {
  int64_t every_events = 1000;         // sign after this many unsigned events; 0: never by count
  std::chrono::seconds interval{600};  // and at least this often while any is unsigned; 0: never
};

class AuditSealer {
 public:
  static constexpr char kActor[] = "countersign";
  static constexpr char kStatementType[] = "countersign.audit.checkpoint";

  AuditSealer(Store& store, Alarms& alarms, const ReceiptSigner& signer,
              AuditSealerOptions options);
  ~AuditSealer();
  AuditSealer(const AuditSealer&) = delete;
  AuditSealer& operator=(const AuditSealer&) = delete;

  // Rows for the webhooks that take checkpoints are written with each one. Null: none. Call
  // before Start().
  void SetNotifier(Notifier* notifier) { notifier_ = notifier; }
  // Counts the events the store holds after its last checkpoint (none when it cannot read
  // them: logged), listens to `changes` from now on and arms the timer (a checkpoint is due at
  // once when the count already reaches every_events).
  void Start(ChangeFeed& changes);
  // No checkpoint is begun after this; one being written still commits.
  void Stop();

  // Writes a checkpoint now, unless the chain is empty or already ends in one; `done` gets the
  // checkpoint event's seq (0 when none was needed) once it is durable.
  void SealNow(std::function<void(Result<int64_t>)> done);

  // The JWS payload a checkpoint signs.
  static boost::json::object Statement(int64_t seq, std::string_view hash, TimePoint at);
  // Why checkpoint event `event` does not vouch for the chain before it under the keys of
  // `verifier`: its data lacks the JWS, the signature fails, or the statement names another
  // seq or hash than the event before it (event.prev_hash). Empty when it vouches.
  static std::string Check(const ReceiptVerifier& verifier, const Event& event);

 private:
  void OnCommitted(const std::vector<Event>& events);
  void OnTimer();
  void ArmTimer();
  // Begins a checkpoint unless one is being written; `done` may be empty.
  void Seal(std::function<void(Result<int64_t>)> done);
  Result<int64_t> WriteCheckpoint(Transaction& txn) const;

  Store& store_;
  Alarms& alarms_;
  const ReceiptSigner& signer_;
  const AuditSealerOptions options_;
  Notifier* notifier_ = nullptr;

  Mutex mu_;
  int64_t unsigned_ CS_GUARDED_BY(mu_) = 0;  // committed events after the last checkpoint
  bool sealing_ CS_GUARDED_BY(mu_) = false;  // a checkpoint write is queued or running
  bool stopped_ CS_GUARDED_BY(mu_) = false;
  Alarms::Ticket timer_ CS_GUARDED_BY(mu_);
};

}  // namespace countersign
