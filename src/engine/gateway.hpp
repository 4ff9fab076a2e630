// Gateway: the only code that changes a request.
//
// Every state change is one Store::Write operation: it re-reads the request inside the
// writer's transaction, checks the rules (separation of duties, quorum, approvers, state),
// writes the change and its audit events together, and leaves pending only through a
// compare-and-set. Callbacks run on the store's writer thread after the change is durable;
// waiters are woken before the caller's callback runs, so a long-poll is answered no later
// than the decision that resolved it. Reads are synchronous. Thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "auth/actor.hpp"
#include "auth/receipt_signer.hpp"
#include "core/clock.hpp"
#include "core/event.hpp"
#include "core/grant.hpp"
#include "core/id_generator.hpp"
#include "core/request.hpp"
#include "core/result.hpp"
#include "engine/deadline_scheduler.hpp"
#include "engine/grant_horizon.hpp"
#include "engine/new_request.hpp"
#include "engine/rate_limiter.hpp"
#include "engine/request_builder.hpp"
#include "engine/request_cache.hpp"
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
};

class Gateway {
 public:
  template <typename T>
  using Callback = std::function<void(Result<T>)>;
  using RequestPtr = std::shared_ptr<const Request>;

  struct Created {
    RequestPtr request;
    bool replayed = false;  // an idempotency key matched an earlier, identical body
  };

  // `signer` may be null (no receipts). Policies start as the built-in default.
  Gateway(Store& store, Clock& clock, GatewayOptions options = {},
          const ReceiptSigner* signer = nullptr);
  ~Gateway();

  // Seeds the deadline scheduler from the store's pending requests and starts it.
  Status Start();
  // Stops the scheduler and wakes every waiter (they answer with the current state).
  void Stop();

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
  // Puts an adapter's own record on request `id` of `tenant` (e.g. "chatops.verify.prompted":
  // a prompt was delivered) as one audit event of `type` by `actor` with `data`, and answers
  // with the event as stored. The request itself never changes, whatever its state.
  // kNotFound when `tenant` has no such request; kInvalid when `type` is not 1 to 128
  // printable bytes or names one of the engine's own events ("request.", "decision.",
  // "grant."), which only the engine writes.
  void Note(std::string tenant, std::string id, std::string type, std::string actor,
            boost::json::object data, Callback<Event> done);
  // Records a reminder (request.reminded, naming the channels to nudge) for a request still
  // pending, and schedules the next one. Called by the reminder scheduler.
  void Remind(std::string tenant, std::string id);
  // Applies the request's on_timeout if it is still pending and its deadline has passed.
  // Called by the scheduler; the result is nullptr when there was nothing to do.
  void Expire(std::string tenant, std::string id, Callback<RequestPtr> done);

  Result<RequestPtr> Get(const Actor& actor, std::string_view id);
  // From now on Get() keeps up to `capacity` requests in memory (see RequestCache), emptied by
  // the store's commit listener, which this registers. Call once, before serving; the store
  // must not commit after the gateway is gone.
  void EnableReadCache(size_t capacity);
  Result<RequestPage> List(const Actor& actor, RequestFilter filter);

  void CreateGrant(const Actor& actor, NewGrant input, Callback<Grant> done);
  Result<std::vector<Grant>> ListGrants(const Actor& actor);
  void RevokeGrant(const Actor& actor, std::string id, Callback<Grant> done);

  // Every state change from now on also writes the outbox rows `notifier` plans, in the same
  // transaction. Null (the default) writes none. `notifier` must outlive the gateway's writes.
  void SetNotifier(Notifier* notifier);

  // Replaces the policies for requests created from now on; requests already asked keep
  // the rules they were created with. Thread-safe.
  void SetPolicies(std::shared_ptr<const PolicySet> policies);
  std::shared_ptr<const PolicySet> Policies() const;

  WaiterHub& waiters() { return waiters_; }
  Store& store() { return store_; }
  Clock& clock() { return clock_; }
  IdGenerator& ids() { return ids_; }

 private:
  // Completes `verdict` for a submission of `action` in `session` of `tenant` with the grants
  // active at `now`: the grant look-up of Create and WouldAskAPerson.
  Status ApplyGrants(AutoVerdict& verdict, const std::string& tenant, const std::string& action,
                     const std::string& session, TimePoint now);
  // Signs and stores the receipt of request `r`, just approved by `approved_by` (inside the
  // writer's transaction). No-op without a signer.
  Status IssueReceipt(Transaction& txn, const Request& r,
                      const std::vector<std::string>& approved_by,
                      const std::string& arguments_sha256, TimePoint at) const;
  // Writes `plan`, what the pure lifecycle (engine/lifecycle.hpp) made of `r` as the writer has
  // just read it, and answers with the request as stored after it: null when a resolution lost
  // its race and that is nothing to do, kConflict (with `r`) when a compare-and-set lost it
  // otherwise. Every change to a request goes through here.
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

  Store& store_;
  Clock& clock_;
  GatewayOptions options_;
  const ReceiptSigner* signer_;
  IdGenerator ids_;
  RateLimiter principal_limiter_;
  RateLimiter action_limiter_;
  mutable std::mutex policies_mu_;
  std::shared_ptr<const PolicySet> policies_;  // guarded by policies_mu_
  std::atomic<Notifier*> notifier_{nullptr};
  RequestBuilder builder_;
  // Past it, Create skips the grant look-up; set by Start(), raised before any grant is written.
  GrantHorizon grant_horizon_;
  std::unique_ptr<RequestCache> cache_;  // set before serving, by EnableReadCache
  WaiterHub waiters_;
  DeadlineScheduler scheduler_;
  DeadlineScheduler reminders_;
};

}  // namespace countersign
