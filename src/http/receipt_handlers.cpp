#include "http/receipt_handlers.hpp"

#include "core/time_format.hpp"
#include "http/engine_call.hpp"
#include "http/responses.hpp"

namespace countersign {
namespace {

// The API's error envelope with a code of its own, for answers a client tells apart from the
// generic "invalid" and "conflict".
HttpResponse ReceiptError(http::status status, const char* code, const std::string& message,
                          boost::json::object extra = {}) {
  boost::json::object error{{"code", code}, {"message", message}};
  for (auto& kv : extra) error[kv.key()] = std::move(kv.value());
  return JsonResponse(status, boost::json::object{{"error", std::move(error)}});
}

}  // namespace

void ReceiptHandlers::Register(Router& router) {
  router.Add(http::verb::post, "/v1/receipts/consume", Router::Access::kAuthenticated,
             [this](RequestContext& ctx) { return Consume(ctx); });
}

asio::awaitable<HttpResponse> ReceiptHandlers::Consume(RequestContext& ctx) {
  auto body = ParseJsonBody(ctx.request, false);
  if (!body.ok()) co_return ErrorResponse(body.error());
  const auto* object = body->if_object();
  const auto* token = object != nullptr ? object->if_contains("receipt") : nullptr;
  if (token == nullptr || !token->is_string() || token->get_string().empty()) {
    co_return ErrorResponse(
        Error::Malformed("the body must be {\"receipt\": \"<the receipt, a compact JWS>\"}"));
  }
  const Actor actor = ctx.actor;
  std::string receipt(token->get_string());
  auto consumed = co_await CallEngine<ReceiptConsumption>(gateway_, [&](auto done) {
    gateway_.ConsumeReceipt(actor, std::move(receipt), std::move(done));
  });
  if (!consumed.ok()) {
    const Error& error = consumed.error();
    if (error.code == ErrorCode::kInvalid) {
      co_return ReceiptError(http::status::unprocessable_entity, "invalid_receipt", error.message);
    }
    co_return ErrorResponse(error);
  }
  const ReceiptUse& use = consumed->use;
  if (!consumed->counted) {
    const std::string first_at = FormatTime(use.first_at);
    std::string message =
        "receipt " + use.jti + " was consumed at " + first_at + " by " + use.first_by;
    if (use.max_uses > 1) message += " (all " + std::to_string(use.max_uses) + " uses are spent)";
    boost::json::object extra{{"jti", use.jti},          {"request_id", use.request_id},
                              {"consumed_at", first_at}, {"consumed_by", use.first_by},
                              {"uses", use.uses},        {"max_uses", use.max_uses}};
    co_return ReceiptError(http::status::conflict, "already_consumed", message, std::move(extra));
  }
  boost::json::object answer{{"consumed", true},
                             {"jti", use.jti},
                             {"request_id", use.request_id},
                             {"uses", use.uses},
                             {"max_uses", use.max_uses},
                             {"consumed_at", FormatTime(use.last_at)},
                             {"consumed_by", use.last_by}};
  co_return JsonResponse(http::status::ok, answer);
}

}  // namespace countersign
