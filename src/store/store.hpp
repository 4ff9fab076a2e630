// Store: durable state behind one interface (SQLite for one process, PostgreSQL for replicas).
//
// Writes go through Write(): the operation runs on the store's single writer thread inside a
// batch transaction (group commit). Each operation runs in its own savepoint, so one that
// fails rolls back alone; `done` runs, on the writer thread, only after the whole batch is
// durable (fsync'd), or with the failure. Reads run on the calling thread against a pool of
// read connections and see only committed data. All methods are thread-safe.
//
// When the disk is full, the writes committed together at that moment fail with kUnavailable;
// the next ones may succeed. An I/O error while writing (a failed write or fsync) or detected
// corruption stops the writer for good: that batch and every queued and later write fail with
// kUnavailable, WriterHealth() reports it, reads go on, and only re-opening the store (a restart,
// which recovers the WAL) takes writes again. A failed fsync cannot be retried safely: the kernel
// may already have dropped the dirty pages and report the next fsync as a success.
#pragma once

#include <cstdint>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/conversation.hpp"
#include "core/event.hpp"
#include "core/grant.hpp"
#include "core/principal.hpp"
#include "core/request.hpp"
#include "core/result.hpp"

namespace countersign {

struct EventDraft {
  TimePoint at;
  std::string tenant;
  std::string request_id;
  std::string type;
  std::string actor;
  boost::json::object data;
};

struct IdempotencyRecord {
  std::string tenant;
  std::string key;
  std::string body_sha256;
  std::string request_id;
  TimePoint created_at;
};

// How often a receipt has been consumed (POST /v1/receipts/consume): one row per receipt
// consumed at least once, keyed by the receipt's jti.
struct ReceiptUse {
  std::string jti;
  std::string tenant;
  std::string request_id;
  int64_t uses = 0;
  int64_t max_uses = 1;
  TimePoint first_at;
  std::string first_by;
  TimePoint last_at;
  std::string last_by;
};

struct RequestFilter {
  std::string tenant;                   // required
  std::optional<RequestStatus> status;  // each filter applies only when set / non-empty
  std::string action;
  std::string requester;
  std::string session;
  int limit = 50;      // 1..500
  std::string cursor;  // return only requests with id < cursor (ids sort by creation)
  std::optional<TimePoint> created_from = {};    // created at or after
  std::optional<TimePoint> created_before = {};  // created before
};

struct RequestPage {
  std::vector<Request> requests;  // newest first, each with its decisions
  std::string next_cursor;        // empty when this is the last page
};

struct EventFilter {
  std::string tenant;      // empty: every tenant
  std::string request_id;  // empty: every request
  int64_t since = 0;       // only events with seq > since
  int limit = 100;         // 1..1000
  int64_t before = 0;      // > 0: only events with seq < before
  bool newest_first = false;
  std::string type_prefix = {};         // empty: every type; "decision." or "decision.recorded"
  std::string actor = {};               // empty: everyone's
  std::optional<TimePoint> from = {};   // at or after
  std::optional<TimePoint> until = {};  // before
};

// Where an audit verification starts: the last event already verified. It is worth exactly as
// much as the verification that produced it: events at or before `seq` are not hashed again
// by a verification that starts here, so a later edit of an old event is found only by a full
// verification from {0, ""} (which stays the way to re-check the whole history).
struct AuditCheckpoint {
  int64_t seq = 0;        // 0: nothing verified yet; start at the first event
  std::string hash;       // the hash of event `seq`; empty when seq is 0
  TimePoint verified_at;  // when it was verified; stored with it, ignored by VerifyAudit
};

struct AuditReport {
  bool ok = true;
  int64_t events_checked = 0;  // events after the starting checkpoint this call looked at
  int64_t first_bad_seq = 0;   // when !ok
  std::string reason;          // when !ok: what is wrong at first_bad_seq
  // The last event found good: the starting checkpoint when none was, so a caller can resume
  // from it. verified_at is left unset.
  AuditCheckpoint checkpoint;
  // The kAuditCheckpointEvent events among those checked, in seq order: the chain shows they
  // are in place, and the caller checks their signatures.
  std::vector<Event> signed_checkpoints;
  // True when ok and no event after `checkpoint` exists (as of this call's snapshot); false
  // when the call stopped at its limit with more to check, or found a bad event.
  bool reached_end = false;
};

// The end of the audit chain.
struct AuditHead {
  int64_t seq = 0;   // the last event's; 0 when there is none
  std::string hash;  // the last event's; empty when there is none
  std::string type;  // the last event's
  // The seq of the newest kAuditCheckpointEvent event, 0 when there is none. Filled in by
  // Store::GetAuditHead only.
  int64_t last_checkpoint_seq = 0;
};

struct PendingDeadline {
  std::string tenant;
  std::string id;
  TimePoint deadline;
  std::chrono::seconds remind_every{0};
};

// A place in the pending requests' (deadline, id) order, for reading them a page at a time:
// ListPendingDeadlines(after, ...) returns the ones past it. The default is before them all.
// (id is unique across tenants, so the pair names one request.)
struct DeadlineCursor {
  TimePoint deadline = TimePoint::min();
  std::string id;
};

// One notification or webhook waiting in (or done with) the outbox. Written in the same
// transaction as the state change that causes it; the dispatcher delivers it afterwards.
struct OutboxRow {
  int64_t id = 0;           // assigned by InsertOutbox; delivery order within a destination
  std::string delivery_id;  // "dlv_..."; the same on every attempt, so receivers can dedupe
  std::string tenant;
  std::string request_id;
  std::string destination;  // a [[channel]] name, "webhook:NAME" or "callback"
  std::string kind;         // what to do: "post", "update", "remind", "respond", "event"
  std::string event;        // the event type that caused it ("request.created", ...)
  int64_t event_seq = 0;
  std::string target;             // a URL when the row carries its own (callback_url, response_url)
  std::string payload;            // JSON text the destination renders from (a webhook's exact body)
  std::string state = "pending";  // "pending", "delivered" or "failed"
  int attempts = 0;
  TimePoint next_attempt_at;
  std::string last_error;
  TimePoint created_at;
};

// The audit event a retention pass appends for each batch it removes (Transaction::
// PruneResolved): data {"count", "first_id", "last_id", "resolved_before", "statuses"}, the
// last an object of status -> requests removed.
inline constexpr char kRetentionPrunedEvent[] = "retention.pruned";

// What Transaction::PruneResolved removed.
struct PrunedRequests {
  int64_t count = 0;     // requests removed
  std::string first_id;  // the lowest and the highest id removed; empty when none was
  std::string last_id;
  std::map<std::string, int64_t> by_status;  // how many of each status ("approved", ...)
};

struct StoreStats {
  uint64_t batches = 0;
  uint64_t operations = 0;
  // Commit latency histogram: count of batches whose COMMIT took <= kCommitBucketsMs[i].
  static constexpr double kCommitBucketsMs[] = {0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1000};
  uint64_t commit_buckets[std::size(kCommitBucketsMs)] = {};
  double commit_ms_sum = 0;
  uint64_t queue_depth = 0;

  // Counts one committed batch of `ops` operations whose COMMIT took `commit_ms`.
  void RecordCommit(uint64_t ops, double commit_ms) {
    batches += 1;
    operations += ops;
    commit_ms_sum += commit_ms;
    for (size_t i = 0; i < std::size(kCommitBucketsMs); ++i) {
      if (commit_ms <= kCommitBucketsMs[i]) commit_buckets[i] += 1;
    }
  }
};

// The writer-side view of the store, valid only inside a Write() operation.
class Transaction {
 public:
  virtual ~Transaction() = default;

  // The request with its decisions (oldest first), or nullopt.
  virtual Result<std::optional<Request>> FindRequest(std::string_view tenant,
                                                     std::string_view id) = 0;
  virtual Status InsertRequest(const Request& request) = 0;
  virtual Status InsertDecision(const Request& request, const Decision& decision) = 0;
  // Compare-and-set out of pending: sets status, resolved_at, resolved_by, answer,
  // reason_code and the approval's signed receipt (empty for none) only if the request is
  // still pending. Returns whether it changed.
  virtual Result<bool> ResolveIfPending(std::string_view id, RequestStatus status, TimePoint at,
                                        const std::vector<std::string>& resolved_by,
                                        std::string_view answer, ReasonCode reason,
                                        std::string_view receipt) = 0;
  // Compare-and-set of the execution report: sets it only while the request has none. Returns
  // whether it changed.
  virtual Result<bool> SetExecutionIfUnreported(std::string_view id,
                                                const ExecutionReport& report) = 0;
  // One use of receipt `attempt.jti` by `attempt.last_by` at `attempt.last_at`, counted only
  // while fewer than `attempt.max_uses` were counted before (the first use records the row
  // from `attempt`). Atomic against concurrent consumers, on every replica. Returns whether
  // this use counted, and leaves the row as stored after it in `attempt`.
  virtual Result<bool> ConsumeReceipt(ReceiptUse& attempt) = 0;
  // Compare-and-set on a pending request's escalation level, deadline and approvers.
  virtual Result<bool> EscalateIfPending(std::string_view id, int escalation_level,
                                         TimePoint deadline,
                                         const std::vector<std::string>& approvers) = 0;
  virtual Status InsertGrant(const Grant& grant) = 0;
  // Sets revoked_at on an unrevoked grant of `tenant`; false when there is none.
  virtual Result<bool> RevokeGrant(std::string_view tenant, std::string_view id, TimePoint at) = 0;
  // Appends to the hash chain: assigns seq, prev_hash and hash. Returns the new event's seq;
  // the event itself is then AppendedEvents().back().
  virtual Result<int64_t> AppendEvent(EventDraft draft) = 0;
  virtual Result<std::optional<IdempotencyRecord>> FindIdempotency(std::string_view tenant,
                                                                   std::string_view key) = 0;
  // Fails (a UNIQUE constraint) when the tenant already holds the key: remove an expired one
  // first.
  virtual Status InsertIdempotency(const IdempotencyRecord& record) = 0;
  virtual Status DeleteIdempotency(std::string_view tenant, std::string_view key) = 0;
  // Removes up to `limit` records created before `before`, oldest first; returns how many.
  virtual Result<int64_t> PurgeIdempotency(TimePoint before, int64_t limit) = 0;
  // Pending requests of `requester` in `tenant`.
  virtual Result<int64_t> CountPendingFrom(std::string_view tenant, std::string_view requester) = 0;
  virtual Status InsertPrincipal(const Principal& principal) = 0;
  // Sets revoked_at on the principal with this id in this tenant (any tenant when empty).
  // Returns false when there is no such unrevoked principal.
  virtual Result<bool> RevokePrincipal(std::string_view tenant, std::string_view id,
                                       TimePoint at) = 0;
  // Inserts `row` (pending) and sets its id.
  virtual Status InsertOutbox(OutboxRow& row) = 0;
  // Records an attempt's result: state, attempts, next_attempt_at and last_error of row `id`.
  virtual Status UpdateOutbox(const OutboxRow& row) = 0;
  // "Retry now": makes row `delivery_id` of `tenant` (any tenant when empty) due at `now`. A
  // pending row keeps its attempts; a failed one goes back to pending with attempts 0 (its
  // last_error stays until the next attempt). A delivered row is left as it is. Returns the
  // row as it stands afterwards, or nullopt when there is no such row.
  virtual Result<std::optional<OutboxRow>> RetryOutbox(std::string_view tenant,
                                                       std::string_view delivery_id,
                                                       TimePoint now) = 0;
  // Remembers what a channel's post for a request returned (Slack's channel and ts, ...), so
  // later updates can edit that message. Replaces an earlier one.
  virtual Status PutChannelMessage(std::string_view request_id, std::string_view destination,
                                   std::string_view ref) = 0;
  // Stores `checkpoint` (seq, hash and verified_at) as the one GetAuditCheckpoint returns,
  // replacing the earlier one. kInvalid unless event `checkpoint.seq` exists with exactly that
  // hash (or seq is 0 and the hash empty), so a checkpoint never names an event that is not
  // in the log. Store only what a VerifyAudit reported (its `checkpoint`, ok or not).
  virtual Status PutAuditCheckpoint(const AuditCheckpoint& checkpoint) = 0;
  // The last event of the chain as this transaction sees it (last_checkpoint_seq left 0).
  virtual Result<AuditHead> FindAuditHead() = 0;
  // When the newest event of `type` about request `request_id` happened, or nullopt when there
  // is none. Several replicas firing the same timer ask it to find who already acted.
  virtual Result<std::optional<TimePoint>> LastEventAt(std::string_view request_id,
                                                       std::string_view type) = 0;
  // Conversations (core/conversation.hpp), one per request of kind conversation.
  virtual Status InsertConversation(const Conversation& conversation) = 0;
  virtual Result<std::optional<Conversation>> FindConversation(std::string_view tenant,
                                                               std::string_view request_id) = 0;
  // Replaces the stored conversation of conversation.request_id (kNotFound when none).
  virtual Status UpdateConversation(const Conversation& conversation) = 0;
  // The conversation of `tenant` whose alert message is `feed_ts` (its thread), or nullopt.
  virtual Result<std::optional<Conversation>> FindConversationByThread(
      std::string_view tenant, std::string_view feed_ts) = 0;
  // Conversations of `tenant` about `subject` in `phase`, oldest first.
  virtual Result<std::vector<Conversation>> FindConversationsWith(std::string_view tenant,
                                                                  std::string_view subject,
                                                                  ConversationPhase phase) = 0;
  // Appends `message` to its conversation's transcript and sets its seq. A message whose
  // non-empty external_id is already in that transcript is not stored again: false.
  virtual Result<bool> AppendMessage(ConversationMessage& message) = 0;
  // The transcript of `request_id`, in order.
  virtual Result<std::vector<ConversationMessage>> ListMessagesIn(std::string_view request_id) = 0;
  // Retention: removes up to `limit` (>= 1) requests of every tenant resolved before `before`,
  // lowest id first, with the rows that hang off them: decisions, outbox rows (in any state),
  // channel messages, a conversation and its transcript, and idempotency keys naming them.
  // Audit events are never removed: the chain stays whole and still verifies, and a request's
  // events outlive it. Only requests whose id was made before `before` are looked at, so a
  // call costs the rows it removes, not the table.
  virtual Result<PrunedRequests> PruneResolved(TimePoint before, int64_t limit) = 0;
  // The events this operation has appended so far, in seq order.
  virtual const std::vector<Event>& AppendedEvents() const = 0;
};

class Store {
 public:
  using WriteFn = std::function<Status(Transaction&)>;
  using WriteDone = std::function<void(Status)>;
  // Called on the writer thread after each committed batch with the events its successful
  // operations appended, in seq order (never with an empty list). Must not block.
  using CommitListener = std::function<void(const std::vector<Event>&)>;

  virtual ~Store() = default;

  // Queues `fn`. When the queue is full, `done` is called at once (on the calling thread)
  // with kUnavailable and `fn` never runs.
  virtual void Write(WriteFn fn, WriteDone done) = 0;

  // Adds a listener for the batches committed from now on. Thread-safe.
  virtual void AddCommitListener(CommitListener listener) = 0;

  virtual Result<std::optional<Request>> GetRequest(std::string_view tenant,
                                                    std::string_view id) = 0;
  virtual Result<RequestPage> ListRequests(const RequestFilter& filter) = 0;
  virtual Result<std::vector<Event>> ListEvents(const EventFilter& filter) = 0;
  // `max_events` for a verification that runs to the end of the chain in one call.
  static constexpr int64_t kWholeChain = std::numeric_limits<int64_t>::max();

  // Verifies the events after `from` in seq order, at most `max_events` (>= 1, else kInvalid)
  // of them, in one read snapshot, and reports the first whose seq, prev_hash or hash is not
  // what the chain requires. When from.seq > 0 the stored event at from.seq must still carry
  // from.hash (and hash to it); otherwise that is the failure (first_bad_seq = from.seq, and
  // the report's checkpoint is {0, ""}: start over), so a checkpoint that does not match the
  // log is never trusted. The first event checked must
  // follow from.hash (the genesis hash when from.seq is 0). Run it in chunks by passing each
  // report's `checkpoint` to the next call; the chunks add up to the report of one pass.
  virtual Result<AuditReport> VerifyAudit(const AuditCheckpoint& from, int64_t max_events) = 0;
  // The whole chain from the genesis hash, in one pass.
  Result<AuditReport> VerifyAudit() { return VerifyAudit(AuditCheckpoint{}, kWholeChain); }
  // What PutAuditCheckpoint stored last; {0, ""} (verified_at at the epoch) when nothing was.
  virtual Result<AuditCheckpoint> GetAuditCheckpoint() = 0;
  // The end of the audit chain and its newest signed checkpoint. Reads back from the end, so
  // it costs one row per event after that checkpoint.
  virtual Result<AuditHead> GetAuditHead() = 0;
  // The first `limit` (>= 1) pending requests after `after`, soonest deadline first, equal
  // deadlines by id. One index range read (requests_pending_deadline), so the deadline
  // scheduler can hold the next few instead of all of them.
  virtual Result<std::vector<PendingDeadline>> ListPendingDeadlines(const DeadlineCursor& after,
                                                                    int limit) = 0;
  // The pending requests that send reminders (remind_every > 0), from their own partial index.
  virtual Result<std::vector<PendingDeadline>> ListPendingReminders() = 0;
  // How many of `tenant`'s requests are pending (an index-only count).
  virtual Result<int64_t> CountPending(std::string_view tenant) = 0;
  virtual Result<std::optional<Principal>> FindPrincipalByTokenHash(std::string_view sha256) = 0;
  // Every principal of `tenant` (every tenant when empty), revoked ones included.
  virtual Result<std::vector<Principal>> ListPrincipals(std::string_view tenant) = 0;
  virtual Result<std::map<std::string, int64_t>> CountRequestsByStatus() = 0;
  // Approved requests whose execution report was due (resolved_at + report_within) before
  // `now` and has not come, by tenant.
  virtual Result<std::map<std::string, int64_t>> CountUnreported(TimePoint now) = 0;
  // The newest grant of `tenant` for `action` active at `now` that covers `session` (a
  // tenant-wide grant, or a session grant of that session), or nullopt.
  // The newest grant active at `now` that approves `action` of `tenant` asked by `requester` in
  // `session`: scope tenant, scope session with that (non-empty) session, or scope requester
  // with that requester.
  virtual Result<std::optional<Grant>> FindActiveGrant(std::string_view tenant,
                                                       std::string_view action,
                                                       std::string_view session,
                                                       std::string_view requester,
                                                       TimePoint now) = 0;
  // The latest expires_at of any unrevoked grant, or nullopt when there is none.
  virtual Result<std::optional<TimePoint>> LatestGrantExpiry() = 0;
  // Grants of `tenant`, newest first, revoked and expired ones included.
  virtual Result<std::vector<Grant>> ListGrants(std::string_view tenant) = 0;
  // Pending outbox rows due at `now`, oldest first, at most `limit`; a row is left out while
  // an older pending row of the same destination and request exists (they go in order),
  // unless both rows name different non-empty targets (two mail recipients). A store shared by
  // several processes (PgStore) also leases the rows it returns to this process, leaves out
  // rows another process holds, and ends a lease when UpdateOutbox records the attempt.
  virtual Result<std::vector<OutboxRow>> ListDueOutbox(TimePoint now, int limit) = 0;
  // The earliest next_attempt_at of any pending row, or nullopt when none is pending.
  virtual Result<std::optional<TimePoint>> NextOutboxDue() = 0;
  // Outbox rows, newest first: all of `tenant` (every tenant when empty) in `state` (any when
  // empty), of `request_id` when given.
  virtual Result<std::vector<OutboxRow>> ListOutbox(std::string_view tenant, std::string_view state,
                                                    std::string_view request_id, int limit) = 0;
  virtual Result<std::map<std::string, int64_t>> CountOutboxByState() = 0;
  // What PutChannelMessage stored for this request and destination; empty when nothing.
  virtual Result<std::string> FindChannelMessage(std::string_view request_id,
                                                 std::string_view destination) = 0;
  virtual Result<std::optional<Conversation>> GetConversation(std::string_view tenant,
                                                              std::string_view request_id) = 0;
  // The transcript of `request_id`: messages with seq > `since`, at most `limit`, in order.
  virtual Result<std::vector<ConversationMessage>> ListMessages(std::string_view request_id,
                                                                int64_t since, int limit) = 0;
  // Conversations with work (Conversation::has_work) due at `now`, soonest first, at most
  // `limit`.
  virtual Result<std::vector<Conversation>> ListDueConversations(TimePoint now, int limit) = 0;
  // The earliest step_due of any conversation with work, or nullopt when none has any.
  virtual Result<std::optional<TimePoint>> NextConversationDue() = 0;
  // Cheap round trip to check the store answers (readiness).
  virtual Status Ping() = 0;
  // Ok while the store takes writes; after an I/O error or corruption stopped the writer (see
  // the top of this file), the kUnavailable error every write now gets, naming the cause.
  // Cheap (no I/O), for readiness probes; a stopped store (Stop()) is not a failed one.
  virtual Status WriterHealth() const = 0;
  virtual StoreStats Stats() const = 0;
  // Stops taking writes, commits what is queued, and joins the writer. Idempotent.
  virtual void Stop() = 0;
};

}  // namespace countersign
