// OutboxHandlers: GET /v1/outbox, what the dispatcher has delivered, is retrying or gave up
// on. Admins only (rows name receivers and carry their errors); an admin of the operator
// tenant sees every tenant, others their own. Payloads are not shown.
// Thread-safe: no state of its own.
#pragma once

#include "engine/gateway.hpp"
#include "http/router.hpp"

namespace countersign {

class OutboxHandlers {
 public:
  explicit OutboxHandlers(Gateway& gateway) : gateway_(gateway) {}

  void Register(Router& router);

  // ?state=pending|delivered|failed &request=ID &limit=1..1000 (default 100), newest first.
  asio::awaitable<HttpResponse> List(RequestContext& ctx);

 private:
  Gateway& gateway_;
};

}  // namespace countersign
