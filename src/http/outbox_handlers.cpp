#include "http/outbox_handlers.hpp"

#include "core/time_format.hpp"
#include "http/engine_call.hpp"
#include "http/responses.hpp"

namespace countersign {

boost::json::object OutboxRowToJson(const OutboxRow& row) {
  return boost::json::object{{"delivery_id", row.delivery_id},
                             {"tenant", row.tenant},
                             {"request_id", row.request_id},
                             {"destination", row.destination},
                             {"kind", row.kind},
                             {"event", row.event},
                             {"event_seq", row.event_seq},
                             {"state", row.state},
                             {"attempts", row.attempts},
                             {"next_attempt_at", FormatTime(row.next_attempt_at)},
                             {"last_error", row.last_error},
                             {"created_at", FormatTime(row.created_at)}};
}

void OutboxHandlers::Register(Router& router) {
  router.Add(http::verb::get, "/v1/outbox", Router::Access::kAuthenticated,
             [this](RequestContext& ctx) { return List(ctx); });
  router.Add(http::verb::post, "/v1/outbox/{id}/retry", Router::Access::kAuthenticated,
             [this](RequestContext& ctx) { return Retry(ctx); });
}

asio::awaitable<HttpResponse> OutboxHandlers::List(RequestContext& ctx) {
  const std::string state(ctx.Query("state"));
  if (!state.empty() && state != "pending" && state != "delivered" && state != "failed") {
    co_return ErrorResponse(Error::Invalid("state must be pending, delivered or failed"));
  }
  auto limit = IntParam(ctx, "limit", 100, 1, 1000);
  if (!limit.ok()) co_return ErrorResponse(limit.error());
  // Captures take locals, never coroutine parameters.
  const Actor actor = ctx.actor;
  const std::string request(ctx.Query("request"));
  auto read = [this, actor, state, request, limit = static_cast<int>(*limit)] {
    return gateway_.ListOutbox(actor, state, request, limit);
  };
  auto rows = co_await ReadEngine<std::vector<OutboxRow>>(gateway_, std::move(read));
  if (!rows.ok()) co_return ErrorResponse(rows.error());
  boost::json::array out;
  for (const auto& row : rows.value()) out.push_back(OutboxRowToJson(row));
  co_return JsonResponse(http::status::ok, boost::json::object{{"outbox", std::move(out)}});
}

asio::awaitable<HttpResponse> OutboxHandlers::Retry(RequestContext& ctx) {
  const std::string id(ctx.path["id"]);
  auto retried = co_await CallEngine<OutboxRow>(
      gateway_, [&](auto done) { gateway_.RetryOutbox(ctx.actor, id, std::move(done)); });
  if (!retried.ok()) co_return ErrorResponse(retried.error());
  wake_();
  co_return JsonResponse(http::status::ok, OutboxRowToJson(retried.value()));
}

}  // namespace countersign
