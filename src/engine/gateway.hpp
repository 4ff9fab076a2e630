// Gateway: the only code that changes a request.
//
// Every state change is one Store::Write operation: it re-reads the request inside the
// writer's transaction, checks the rules (separation of duties, quorum, approvers, state),
// writes the change and its audit events together, and leaves pending only through a
// compare-and-set. Callbacks run on the store's writer thread after the change is durable;
// waiters are woken before the caller's callback runs, so a long-poll is answered no later
// than the decision that resolved it.
//
// Reads come in two forms. The plain ones (Get, List, ListAudit, ...) read the store on the
// calling thread and may block on it: tests and the read executor call them. A network thread
// never does; it hands them to Read(), which runs them on the gateway's read executor and
// answers through a callback, or takes the answer from memory first (FindCached). Every read
// applies the permission rules of its data here, not in the HTTP handlers. Thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "auth/actor.hpp"
#include "auth/receipt_signer.hpp"
#include "auth/receipt_verifier.hpp"
#include "core/clock.hpp"
#include "core/event.hpp"
#include "core/grant.hpp"
#include "core/id_generator.hpp"
#include "core/mutex.hpp"
#include "core/request.hpp"
#include "core/result.hpp"
#include "engine/alarms.hpp"
#include "engine/change_feed.hpp"
#include "engine/conversation_rules.hpp"
#include "engine/deadline_scheduler.hpp"
#include "engine/event_bus.hpp"
#include "engine/event_feed.hpp"
#include "engine/grant_horizon.hpp"
#include "engine/new_alert.hpp"
#include "engine/new_outcome.hpp"
#include "engine/new_request.hpp"
#include "engine/rate_limiter.hpp"
#include "engine/read_executor.hpp"
#include "engine/request_builder.hpp"
#include "engine/request_cache.hpp"
#include "engine/request_counts.hpp"
#include "engine/waiter_hub.hpp"
#include "notify/notifier.hpp"
#include "policy/policy_set.hpp"
#include "store/store.hpp"

namespace countersign {

struct TransitionPlan;

struct GatewayOptions {
  std::chrono::seconds default_timeout{300};  // of the built-in default policy
  std::chrono::seconds max_timeout{30 * 24 * 3600};
  std::chrono::seconds receipt_ttl{3600};  // a receipt's exp, counted from the approval
  // Submissions per principal and per action (0: unlimited), over a sliding window.
  int rate_per_principal = 0;
  std::chrono::seconds principal_window{60};
  int rate_per_action = 0;
  std::chrono::seconds action_window{60};
  // Pending requests one principal may hold at once (0: no cap); more are answered 429.
  int max_pending_per_principal = 0;
  // How long an idempotency key is remembered; a later request with it is a new one.
  std::chrono::seconds idempotency_ttl{24 * 3600};
  // The read executor: its threads (as many as the store has read connections is right) and
  // how many reads may wait for one before Read() answers "busy".
  size_t read_threads = 4;
  size_t read_queue = 10000;
  // How long a network thread waits for the store to answer one call before it answers 503.
  std::chrono::milliseconds call_deadline{10000};
  // An audit verification hashes this many events per read-executor task, so other reads
  // are served between its chunks.
  int64_t verify_chunk = 100000;
  // How many of those chunks a verification checks at once, each on a read-executor thread of
  // its own (0: 2). Never more than half of read_threads (and at least 1), so that the other
  // half stays free for ordinary reads; 1 checks one chunk at a time.
  size_t verify_parallel = 0;
  // The store is shared with other replicas (PostgreSQL): their commits, heard on the change
  // feed, also wake this replica's waiters and schedule its deadlines and reminders.
  bool replicas = false;
};

// The newest signed checkpoint (engine/AuditSealer) a verification found good.
struct SignedPoint {
  int64_t seq = 0;             // the event it vouches for, and every one before; 0: none
  int64_t checkpoint_seq = 0;  // the checkpoint event's own seq
  TimePoint at;                // when it was signed
};

// What GET /v1/audit/verify reports.
struct AuditVerification {
  AuditReport report;    // over the events checked by this call
  bool full = false;     // checked from the first event, not from a checkpoint
  int64_t from_seq = 0;  // the checkpoint it started after (0 when full)
  SignedPoint last_signed;
};

// What POST /v1/receipts/consume did: whether this use counted, and the receipt's uses as
// stored after it (first_at/first_by: who consumed it first).
struct ReceiptConsumption {
  bool counted = false;
  ReceiptUse use;
};

// What /metrics shows of the store, from memory (no store read).
struct StoreSnapshot {
  std::map<std::string, int64_t> requests_by_status;
  StoreStats stats;
};

class Gateway {
 public:
  template <typename T>
  using Callback = std::function<void(Result<T>)>;
  using RequestPtr = std::shared_ptr<const Request>;

  struct Created {
    RequestPtr request;
    bool replayed = false;  // an idempotency key matched an earlier, identical body
    // RequestBuilder::Built::warnings: what was changed from what the submitter asked.
    std::vector<std::string> warnings = {};
  };

  // `signer` may be null (no receipts). Policies start as the built-in default.
  Gateway(Store& store, Clock& clock, GatewayOptions options = {},
          const ReceiptSigner* signer = nullptr);
  ~Gateway();

  // Seeds the deadline scheduler from the store's pending requests and starts it.
  Status Start();
  // Stops the scheduler and wakes every waiter (they answer with the current state).
  void Stop();
  // Runs the reads still queued, then refuses new ones, and stops the alarms. Call once
  // nothing on a network thread can ask any more, before the store stops.
  void StopReads();

  void Create(const Actor& actor, NewRequest input, Callback<Created> done);
  // Whether Create would leave this submission by `actor` for a person to decide, rather than
  // decide it at once by a policy or a grant, under the current policies and grants. The rest
  // of the submission is not checked (Create does that). Reads the store for a grant, on the
  // calling thread; a grant made or lapsing before Create runs changes Create's answer.
  Result<bool> WouldAskAPerson(const Actor& actor, const NewRequest& input);
  void Decide(const Actor& actor, std::string id, NewDecision input, Callback<RequestPtr> done);
  // Records that a chat callback could not decide `id` (an unmapped user, ...): a
  // decision.rejected event naming `via` and `reason`, and, when `via` has a response_url, an
  // ephemeral answer to the person through the outbox. kNotFound when `tenant` has no such
  // request; the request itself never changes.
  void RejectCallback(std::string tenant, std::string id, DecisionVia via, std::string reason,
                      Callback<RequestPtr> done);
  void Cancel(const Actor& actor, std::string id, std::string reason, Callback<RequestPtr> done);
  // The executor's report on approved request `id` after its action ran (see
  // PlanExecutionReport): kInvalid (naming the field) for a bad `input`, kNotFound as Get,
  // kForbidden for anyone but its requester, kConflict (with the request) unless it is
  // approved and still unreported. Answers with the request as stored, execution included;
  // the execution.reported event reaches the notifier, the change feed and the streams.
  void ReportExecution(const Actor& actor, std::string id, NewOutcome input,
                       Callback<RequestPtr> done);
  // Puts an adapter's own record on request `id` of `tenant` (e.g. "chatops.verify.prompted":
  // a prompt was delivered) as one audit event of `type` by `actor` with `data`, and answers
  // with the event as stored. The request itself never changes, whatever its state.
  // kNotFound when `tenant` has no such request; kInvalid when `type` is not 1 to 128
  // printable bytes or names one of the engine's own events ("request.", "decision.",
  // "grant.", "conversation.", "execution.", "receipt."), which only the engine writes.
  void Note(std::string tenant, std::string id, std::string type, std::string actor,
            boost::json::object data, Callback<Event> done);
  // Records a reminder (request.reminded, naming the channels to nudge) for a request still
  // pending, and schedules the next one. Called by the reminder scheduler.
  void Remind(std::string tenant, std::string id);
  // Applies the request's on_timeout if it is still pending and its deadline has passed.
  // Called by the scheduler; the result is nullptr when there was nothing to do.
  void Expire(std::string tenant, std::string id, Callback<RequestPtr> done);

  // Runs `read` on the read executor and answers `done` there with its result, or at once
  // with kUnavailable when too many reads are already waiting. `read` must own what it uses.
  template <typename T>
  void Read(std::function<Result<T>()> read, Callback<T> done) {
    if (!reads_.Post([read = std::move(read), done]() { done(read()); })) done(ReadsBusy());
  }
  // Runs `task` on the read executor, where it may call the plain reads; false (and `task`
  // dropped) when too many reads are already waiting.
  bool RunOnReadExecutor(std::function<void()> task) { return reads_.Post(std::move(task)); }
  const ReadExecutor& reads() const { return reads_; }
  std::chrono::milliseconds call_deadline() const { return options_.call_deadline; }

  Result<RequestPtr> Get(const Actor& actor, std::string_view id);
  // Request `id`, for handing out the one-click links of its approvers (POST
  // /v1/requests/{id}/links): to an admin of its tenant, an approver it names
  // (IsEligibleApprover, with the policies in force), or the agent that asked it (who may then
  // pass them on as a notifier would). kNotFound as Get (another agent's request included);
  // kForbidden for an approver it does not name; kConflict (with the request) once it has
  // left pending, when a link can decide nothing.
  Result<RequestPtr> GetForLinks(const Actor& actor, std::string_view id);
  // Get() from the read cache alone, never the store: nullopt when `id` is not cached.
  std::optional<Result<RequestPtr>> FindCached(const Actor& actor, std::string_view id) const;
  // Request `id` of `tenant`, whoever asks: for a chat callback, whose sender is mapped to a
  // principal only later. kNotFound when there is none.
  Result<RequestPtr> GetInTenant(std::string_view tenant, std::string_view id);
  // From now on Get() keeps up to `capacity` requests in memory (see RequestCache), emptied by
  // the change feed. Call once, before serving.
  void EnableReadCache(size_t capacity);
  // What the store commits, announced once for everything that reacts to it (the read cache,
  // the live streams, the outbox dispatcher): see ChangeFeed. Attached to the store's commit
  // listener by the constructor; the store must not commit after the gateway is gone.
  ChangeFeed& changes() { return changes_; }
  Result<RequestPage> List(const Actor& actor, RequestFilter filter);

  // The events of request `id` after `since` (at most `limit`), when the actor may see the
  // request (kNotFound otherwise, as Get).
  Result<std::vector<Event>> ListRequestEvents(const Actor& actor, std::string_view id,
                                               int64_t since, int limit);
  // The audit log of the actor's tenant (approvers and admins only), `filter.tenant` ignored.
  Result<std::vector<Event>> ListAudit(const Actor& actor, EventFilter filter);
  // Checks the audit chain (the operator only: one chain spans every tenant) in chunks on the
  // read executor and answers `done` there; a long chain's chunks are checked a few at once
  // (GatewayOptions::verify_parallel), with the report one pass in seq order would give.
  // Incremental unless `full`: it starts after the checkpoint this process verified last,
  // so only events since then are hashed; the first verification after a start is always
  // full, because a checkpoint read back from the database is no better than the rows it
  // vouches for. The result becomes the checkpoint.
  // Every signed checkpoint met must verify with the receipt key and name the event before
  // it; the report says which was the last (a bad one breaks the chain there). `progress`,
  // when set, hears after each chunk how many events were checked and how many there were to
  // check when it began (the end of the chain then, minus where it started), on the read
  // executor.
  using VerifyProgress = std::function<void(int64_t checked, int64_t total)>;
  void VerifyAudit(const Actor& actor, bool full, Callback<AuditVerification> done,
                   VerifyProgress progress = {});
  // How many waves of more than one chunk the verifications since start have checked at once
  // and composed (GatewayOptions::verify_parallel), not given up for one chunk at a time, so
  // a test can tell that they did.
  int64_t VerifyWavesForTest() const { return verify_waves_.load(); }
  // An approver named `principal` in `tenant`, with the groups of its unrevoked tokens (as an
  // API call by that principal would have). Without them when the store cannot be read.
  Actor PrincipalActor(const std::string& tenant, const std::string& principal);
  // At most `limit` outbox rows in `state` (empty: any) of request `request_id` (empty: any):
  // admins only; the operator sees every tenant's.
  Result<std::vector<OutboxRow>> ListOutbox(const Actor& actor, const std::string& state,
                                            const std::string& request_id, int limit);
  // "Retry now" for outbox row `delivery_id` (admins only; the operator's reach every tenant's
  // rows): a pending row becomes due now, a failed (given up) one goes back to pending, due
  // now, with its attempts reset. Records an outbox.retried event (on the row's request, in its
  // tenant) and answers with the row as stored. kNotFound when the admin has no such row,
  // kConflict when it was delivered already. The caller wakes the dispatcher.
  void RetryOutbox(const Actor& actor, std::string delivery_id, Callback<OutboxRow> done);
  // Requests of `tenant` still pending.
  Result<int64_t> CountPending(std::string_view tenant);
  // Approved requests past their report time without an execution report, by tenant
  // (Store::CountUnreported): a plain read, for the read executor. The count is kept for
  // kUnreportedCacheTtl of the gateway's clock, so /metrics scraped often reads the store at
  // most that often; a report or an approval shows up within that time.
  static constexpr std::chrono::seconds kUnreportedCacheTtl{10};
  Result<std::map<std::string, int64_t>> CountUnreported();
  // Ok when the store answers reads and its writer is healthy; else why not.
  Status CheckReady();
  // From memory: safe on a network thread, however large the store.
  StoreSnapshot StoreState() const;
  // A live feed of events the actor may see (see EventFeed), replaying from `since`.
  std::unique_ptr<EventFeed> OpenFeed(EventBus& bus, const Actor& actor, std::string request_id,
                                      std::optional<int64_t> since, std::string session = {});
  // The `since` from which a feed replays `tenant`'s events stamped at or after `at`.
  Result<int64_t> FeedPositionAt(const std::string& tenant, TimePoint at);

  void CreateGrant(const Actor& actor, NewGrant input, Callback<Grant> done);
  Result<std::vector<Grant>> ListGrants(const Actor& actor);
  void RevokeGrant(const Actor& actor, std::string id, Callback<Grant> done);

  // One use of `receipt` (a compact JWS) by `actor`, an agent or admin (kForbidden for an
  // approver) of the receipt's tenant (gateway_receipts.cpp). Refusals are kInvalid, checked in
  // this order: the signature (with this server's key) and claims, the tenant, expiry (exp or
  // not_after passed on the gateway's clock), a jti. Then, in one transaction, the use is
  // counted unless max_uses were counted before (the claim; else 1 for single_use receipts,
  // else practically unlimited) and a counted use appends receipt.consumed to the request.
  // Not counting is an answer (counted false, with the first consumer), not an error.
  void ConsumeReceipt(const Actor& actor, std::string receipt, Callback<ReceiptConsumption> done);

  // Every state change from now on also writes the outbox rows `notifier` plans, in the same
  // transaction. Null (the default) writes none. `notifier` must outlive the gateway's writes.
  void SetNotifier(Notifier* notifier);

  // Replaces the policies for requests created from now on; requests already asked keep
  // the rules they were created with. Thread-safe.
  void SetPolicies(std::shared_ptr<const PolicySet> policies);
  std::shared_ptr<const PolicySet> Policies() const;

  // Conversations (docs/conversations.md; the rules are engine/conversation_rules.hpp).
  struct ConversationChanged {
    RequestPtr request;  // as stored after the change
    std::shared_ptr<const Conversation> conversation;
    std::vector<ConversationMessage> appended;  // the messages this change stored
  };
  using ConversationChange =
      std::function<Result<ConversationPlan>(const Request&, const Conversation&, TimePoint now)>;

  // The request (kind conversation) an alert asks for, with its conversation, posted for the
  // conversation worker to deliver. Never decided by a policy or a grant: it asks the
  // subject. `input.subject` must already be a chat identity.
  void CreateAlert(const Actor& actor, NewAlert input, Callback<Created> done);
  // Runs `change` on request `id` of `tenant` and its conversation, as the writer has just read
  // them, and commits its plan in one transaction: the messages (a message whose external id
  // is already stored makes the whole change nothing), the resolution (a compare-and-set out of
  // pending), the conversation and the events. A refusal in the plan is committed, then
  // answered as the error. kNotFound when there is no such conversation.
  void ChangeConversation(std::string tenant, std::string id, ConversationChange change,
                          Callback<ConversationChanged> done);
  // A direct message from `subject`: recorded on their newest chatting conversation (see
  // PlanSubjectMessage). Nothing (a null request) when they have none.
  void SubjectSaid(std::string tenant, std::string subject, std::string text,
                   std::string external_id, bool with_judge, Callback<ConversationChanged> done);
  // An analyst's reply in the thread of the alert message `feed_ts`, by chat user `identity`
  // (mapped to `actor`, or nullopt): relayed to the subject when they may act on the alert
  // (PlanAnalystMessage), refused on the record otherwise. Nothing (a null request) when no
  // conversation of `tenant` has that thread.
  void AnalystSaid(std::string tenant, std::string feed_ts, std::string identity,
                   std::optional<Actor> actor, std::string text, std::string external_id,
                   Callback<ConversationChanged> done);
  // The conversation of request `id` when the actor may see the request (kNotFound otherwise,
  // and for a request of another kind).
  Result<Conversation> GetConversation(const Actor& actor, std::string_view id);
  // The transcript of request `id` after `since`, at most `limit` messages (as GetConversation).
  Result<std::vector<ConversationMessage>> ListMessages(const Actor& actor, std::string_view id,
                                                        int64_t since, int limit);
  // Called on the writer thread after each committed change to a conversation: the
  // conversation worker's wake-up. Set before serving; must not block.
  void SetConversationListener(std::function<void()> listener);

  WaiterHub& waiters() { return waiters_; }
  // Deadline timers held in memory (a stale one, for a request already resolved, included):
  // the next deadlines, not every pending request's (the rest stay in the store).
  size_t deadline_timers() const { return scheduler_.size(); }
  // Timers on the gateway's clock, for the waits network code does on the engine's behalf:
  // a long-poll's timeout, an engine call's deadline, a stream's heartbeat.
  Alarms& alarms() { return alarms_; }

 private:
  static Error ReadsBusy();
  // With options_.replicas: subscribes to the change feed so that requests created, escalated
  // or resolved on another replica are scheduled and answered here too (Start()).
  void FollowOtherReplicas();
  // Reads request `id` and schedules its deadline and next reminder (reads executor).
  void ScheduleFromStore(const std::string& tenant, const std::string& id);
  // VerifyAudit in waves: a wave checks up to options_.verify_parallel chunks from the
  // checkpoint reached, each on a read-executor thread of its own, and composes them in seq
  // order as one pass would have; the next wave is queued behind the reads waiting meanwhile.
  struct Verification;
  struct VerifyWave;
  void VerifyStep(std::shared_ptr<Verification> v);
  void WaveChunkDone(const std::shared_ptr<VerifyWave>& wave, size_t k, Result<AuditReport> report);
  void ComposeWave(VerifyWave& wave);
  void AddVerifiedChunk(Verification& v, AuditReport chunk);
  void ContinueVerification(std::shared_ptr<Verification> v);
  void FinishVerification(std::shared_ptr<Verification> v);

  // Completes `verdict` for a submission of `action` by `requester` in `session` of `tenant`
  // with the grants active at `now`: the grant look-up of Create and WouldAskAPerson.
  Status ApplyGrants(AutoVerdict& verdict, const std::string& tenant, const std::string& action,
                     const std::string& session, const std::string& requester, TimePoint now);
  // Signs the receipt of request `r`, being approved by `approved_by` (inside the writer's
  // transaction, which stores it with the approval), binding the arguments and the structured
  // answer (when `response_sha256` is not empty) by their hashes, with a fresh jti, the
  // request's receipt_use and the approver's `constraints` (a single_use receipt without
  // max_uses gets max_uses 1). Empty without a signer.
  Result<std::string> IssueReceipt(const Request& r, const std::vector<std::string>& approved_by,
                                   const std::string& arguments_sha256,
                                   const std::string& response_sha256,
                                   const ReceiptConstraints& constraints, TimePoint at) const;
  // Writes `plan`, what the pure lifecycle (engine/lifecycle.hpp) made of `r` as the writer has
  // just read it, and answers with the request as stored after it: null when a resolution lost
  // its race and that is nothing to do, kConflict (with `r`) when a compare-and-set lost it
  // otherwise. Every change to a request goes through here. The answer is `r` with the plan's
  // changes made to it, not read back: `r` was read in the same transaction, and writes are
  // serialised (SQLite's one writer; PostgreSQL's chain lock, taken at BEGIN), so nothing
  // else changed the row meanwhile (engine.GatewayTest.EveryTransitionAnswersWithTheRequestAsStored
  // compares the two; builds other than Release read back and compare after every transition).
  Result<RequestPtr> ApplyPlan(Transaction& txn, const Request& r,
                               const TransitionPlan& plan) const;
  // Hands the events this operation appended, with the request after it, to the notifier.
  Status Announce(Transaction& txn, const RequestPtr& current) const;
  // Runs `change` as one store write and, once it is durable, answers `done` with what it
  // returned (or with why the write failed). The one way the gateway writes.
  template <typename T>
  void Commit(std::function<Result<T>(Transaction&)> change, Callback<T> done);
  // Commit for a change to one request: announces the request `change` returns, and once it is
  // durable wakes the waiters when it has left pending (or re-arms the deadline an escalation
  // moved), then answers `done`. A null request means nothing changed.
  void CommitTransition(std::function<Result<RequestPtr>(Transaction&)> change,
                        Callback<RequestPtr> done);
  // Create, and `also` in the same transaction after the request is stored (an alert's
  // conversation); with `also` the request always asks a person.
  using AlsoWrite = std::function<Status(Transaction&, const Request&)>;
  void CreateWith(const Actor& actor, NewRequest input, AlsoWrite also, Callback<Created> done);
  // Writes a conversation plan for `r` and `c` as the writer read them (see ChangeConversation).
  Result<ConversationChanged> ApplyConversationPlan(Transaction& txn, const Request& r,
                                                    const Conversation& c,
                                                    const ConversationPlan& plan) const;
  // Closes the conversation of `r`, which has just left pending some other way (its deadline,
  // a cancellation): a no-op for other kinds.
  Status CloseConversationOf(Transaction& txn, const Request& r) const;
  void PokeConversations();

  Store& store_;
  ChangeFeed changes_;
  Clock& clock_;
  GatewayOptions options_;
  const ReceiptSigner* signer_;
  IdGenerator ids_;
  RateLimiter principal_limiter_;
  RateLimiter action_limiter_;
  mutable Mutex policies_mu_;
  std::shared_ptr<const PolicySet> policies_ CS_GUARDED_BY(policies_mu_);
  std::atomic<Notifier*> notifier_{nullptr};
  RequestBuilder builder_;
  // Past it, Create skips the grant look-up; set by Start(), raised before any grant is written.
  GrantHorizon grant_horizon_;
  std::unique_ptr<RequestCache> cache_;  // set before serving, by EnableReadCache
  WaiterHub waiters_;
  RequestCounts counts_;  // seeded by Start()
  Alarms alarms_;
  DeadlineScheduler scheduler_;
  DeadlineScheduler reminders_;
  // The last checkpoint this process verified; {0, ""} until the first verification.
  Mutex verified_mu_;
  AuditCheckpoint verified_ CS_GUARDED_BY(verified_mu_);
  SignedPoint signed_ CS_GUARDED_BY(verified_mu_);  // the last signed point up to verified_
  // The receipt key's public half, which checks the checkpoints; nullopt without a signer.
  std::optional<ReceiptVerifier> seal_verifier_;
  std::atomic<int64_t> verify_waves_{0};
  Mutex unreported_mu_;
  std::optional<TimePoint> unreported_at_ CS_GUARDED_BY(unreported_mu_);  // of the cached count
  std::map<std::string, int64_t> unreported_ CS_GUARDED_BY(unreported_mu_);
  Mutex conversation_mu_;
  std::function<void()> conversation_listener_ CS_GUARDED_BY(conversation_mu_);
  ReadExecutor reads_;  // last: its threads stop before anything they read is destroyed
};

}  // namespace countersign
