// Gateway: the only code that changes a request.
//
// Every state change is one Store::Write operation: it re-reads the request inside the
// writer's transaction, checks the rules (separation of duties, quorum, approvers, state),
// writes the change and its audit events together, and leaves pending only through a
// compare-and-set. Callbacks run on the store's writer thread after the change is durable;
// waiters are woken before the caller's callback runs, so a long-poll is answered no later
// than the decision that resolved it. Reads are synchronous. Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "auth/actor.hpp"
#include "core/clock.hpp"
#include "core/id_generator.hpp"
#include "core/request.hpp"
#include "core/result.hpp"
#include "engine/deadline_scheduler.hpp"
#include "engine/new_request.hpp"
#include "engine/waiter_hub.hpp"
#include "store/store.hpp"

namespace countersign {

struct GatewayOptions {
  std::chrono::seconds default_timeout{300};
  std::chrono::seconds max_timeout{30 * 24 * 3600};
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

  Gateway(Store& store, Clock& clock, GatewayOptions options = {});
  ~Gateway();

  // Seeds the deadline scheduler from the store's pending requests and starts it.
  Status Start();
  // Stops the scheduler and wakes every waiter (they answer with the current state).
  void Stop();

  void Create(const Actor& actor, NewRequest input, Callback<Created> done);
  void Decide(const Actor& actor, std::string id, NewDecision input, Callback<RequestPtr> done);
  void Cancel(const Actor& actor, std::string id, std::string reason, Callback<RequestPtr> done);
  // Applies the request's on_timeout if it is still pending and its deadline has passed.
  // Called by the scheduler; the result is nullptr when there was nothing to do.
  void Expire(std::string tenant, std::string id, Callback<RequestPtr> done);

  Result<RequestPtr> Get(const Actor& actor, std::string_view id);
  Result<RequestPage> List(const Actor& actor, RequestFilter filter);

  WaiterHub& waiters() { return waiters_; }
  Store& store() { return store_; }
  Clock& clock() { return clock_; }
  IdGenerator& ids() { return ids_; }

 private:
  Result<Request> BuildRequest(const Actor& actor, NewRequest& input);
  // Runs `change` as one store write. Once it is durable, wakes the waiters when the request
  // it returns has left pending, then answers `done`. A null request means nothing changed.
  void CommitTransition(std::function<Result<RequestPtr>(Transaction&)> change,
                        Callback<RequestPtr> done);

  Store& store_;
  Clock& clock_;
  GatewayOptions options_;
  IdGenerator ids_;
  WaiterHub waiters_;
  DeadlineScheduler scheduler_;
};

}  // namespace countersign
