// ReceiptHandlers: POST /v1/receipts/consume, the executor's one use of a receipt.
//
// Body {"receipt": "<compact JWS>"}; the token must be an agent's or an admin's of the
// receipt's tenant. 200 {"consumed": true, "jti", "request_id", "uses", "max_uses",
// "consumed_at", "consumed_by"} when the use counted; 409 {"error": {"code":
// "already_consumed", "message", "consumed_at", "consumed_by", "uses", "max_uses"}} naming the
// first consumer when it did not; 422 {"error": {"code": "invalid_receipt", "message"}} for a
// receipt that is forged, foreign, expired or has no jti (Gateway::ConsumeReceipt).
// Thread-safe: no state beyond the gateway reference.
#pragma once

#include "engine/gateway.hpp"
#include "http/router.hpp"

namespace countersign {

class ReceiptHandlers {
 public:
  explicit ReceiptHandlers(Gateway& gateway) : gateway_(gateway) {}

  void Register(Router& router);

  asio::awaitable<HttpResponse> Consume(RequestContext& ctx);

 private:
  Gateway& gateway_;
};

}  // namespace countersign
