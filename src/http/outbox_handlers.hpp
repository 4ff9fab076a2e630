// OutboxHandlers: GET /v1/outbox, what the dispatcher has delivered, is retrying or gave up
// on. Admins only (rows name receivers and carry their errors); an admin of the operator
// tenant sees every tenant, others their own. Payloads are not shown.
// Thread-safe: no state of its own.
#pragma once

#include "http/router.hpp"
#include "store/store.hpp"

namespace countersign {

class OutboxHandlers {
 public:
  explicit OutboxHandlers(Store& store) : store_(store) {}

  void Register(Router& router);

  // ?state=pending|delivered|failed &request=ID &limit=1..1000 (default 100), newest first.
  asio::awaitable<HttpResponse> List(RequestContext& ctx);

 private:
  Store& store_;
};

}  // namespace countersign
