// OutboxHandlers: the outbox's API. Admins only (rows name receivers and carry their
// errors); an admin of the operator tenant reaches every tenant's rows, others their own.
//
//   GET  /v1/outbox                what the dispatcher has delivered, is retrying or gave up
//                                  on; payloads are not shown
//   POST /v1/outbox/{id}/retry     "retry now" for delivery `id`: a pending row is due now, a
//                                  failed one goes back to pending with its attempts reset;
//                                  the dispatcher is woken (an outbox.retried audit event)
//
// Thread-safe: no state of its own; `wake` must be callable from any thread.
#pragma once

#include <functional>
#include <utility>

#include "engine/gateway.hpp"
#include "http/router.hpp"

namespace countersign {

// What GET /v1/outbox shows of a row (never its payload or target).
boost::json::object OutboxRowToJson(const OutboxRow& row);

class OutboxHandlers {
 public:
  // `wake` tells the dispatcher that a row may be due now.
  OutboxHandlers(Gateway& gateway, std::function<void()> wake)
      : gateway_(gateway), wake_(std::move(wake)) {}

  void Register(Router& router);

  // ?state=pending|delivered|failed &request=ID &limit=1..1000 (default 100), newest first.
  asio::awaitable<HttpResponse> List(RequestContext& ctx);
  // 200 with the row as it now stands; 404 no such delivery, 409 delivered already.
  asio::awaitable<HttpResponse> Retry(RequestContext& ctx);

 private:
  Gateway& gateway_;
  std::function<void()> wake_;
};

}  // namespace countersign
