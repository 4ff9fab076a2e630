#include "http/system_handlers.hpp"

#include <cstring>

#include "core/embedded_file.hpp"
#include "http/engine_call.hpp"
#include "http/responses.hpp"

namespace countersign {

extern const EmbeddedFile kOpenApiFiles[];

void SystemHandlers::Register(Router& router) {
  using A = Router::Access;
  router.Add(http::verb::get, "/healthz", A::kPublic,
             [this](RequestContext& ctx) { return Healthz(ctx); });
  router.Add(http::verb::get, "/readyz", A::kPublic,
             [this](RequestContext& ctx) { return Readyz(ctx); });
  router.Add(http::verb::get, "/metrics", metrics_auth_ ? A::kAuthenticated : A::kPublic,
             [this](RequestContext& ctx) { return MetricsText(ctx); });
  router.Add(http::verb::get, "/v1/openapi.json", A::kPublic,
             [this](RequestContext& ctx) { return OpenApi(ctx); });
}

asio::awaitable<HttpResponse> SystemHandlers::Healthz(RequestContext&) {
  co_return JsonResponse(http::status::ok, boost::json::object{{"status", "ok"}});
}

asio::awaitable<HttpResponse> SystemHandlers::Readyz(RequestContext&) {
  Status ping = co_await ReadEngine<void>(gateway_, [this] { return gateway_.CheckReady(); });
  if (!ping.ok()) {
    co_return JsonResponse(
        http::status::service_unavailable,
        boost::json::object{{"status", "unavailable"}, {"store", ping.error().message}});
  }
  boost::json::object out{{"status", "ready"}, {"store", "ok"}};
  // A Slack socket that is down does not make the API unready; it is shown for the operator.
  if (!sockets_.empty()) {
    boost::json::object sockets;
    for (const auto* socket : sockets_) {
      const auto state = socket->state();
      sockets[state.channel] = state.connected            ? std::string("connected")
                               : state.last_error.empty() ? std::string("connecting")
                                                          : "disconnected: " + state.last_error;
    }
    out["slack_socket_mode"] = std::move(sockets);
  }
  co_return JsonResponse(http::status::ok, out);
}

asio::awaitable<HttpResponse> SystemHandlers::MetricsText(RequestContext& ctx) {
  if (metrics_auth_ && !ctx.actor.IsOperator()) {
    co_return ErrorResponse(Error::Forbidden(
        "/metrics counts every tenant together: only an admin of the default tenant may read it"));
  }
  Metrics::Snapshot snapshot;
  StoreSnapshot state = gateway_.StoreState();  // memory only: no store read
  snapshot.requests_by_status = std::move(state.requests_by_status);
  snapshot.store = state.stats;
  snapshot.waiters = gateway_.waiters().size();
  snapshot.deadline_timers = gateway_.deadline_timers();
  snapshot.reads_queued = gateway_.reads().queued();
  snapshot.reads_refused = gateway_.reads().refused();
  snapshot.engine_timeouts = EngineCallTimeouts();
  for (const auto* socket : sockets_) snapshot.slack_sockets.push_back(socket->state());
  if (nonce_pool_ != nullptr) {
    snapshot.nonce_pool = Metrics::Snapshot::NoncePool{nonce_pool_->size(), nonce_pool_->taken(),
                                                       nonce_pool_->missed()};
  }
  // The one figure read from the store: on the read executor, at most every
  // Gateway::kUnreportedCacheTtl (the gateway keeps the count meanwhile).
  auto count = [this] { return gateway_.CountUnreported(); };
  auto unreported = co_await ReadEngine<std::map<std::string, int64_t>>(gateway_, std::move(count));
  if (unreported.ok()) snapshot.executions_unreported = std::move(unreported).value();
  co_return TextResponse(http::status::ok, metrics_.Render(snapshot),
                         "text/plain; version=0.0.4; charset=utf-8");
}

asio::awaitable<HttpResponse> SystemHandlers::OpenApi(RequestContext&) {
  for (const EmbeddedFile* f = kOpenApiFiles; f->name; ++f) {
    if (std::strcmp(f->name, "openapi.json") == 0) {
      co_return TextResponse(http::status::ok, f->content, "application/json");
    }
  }
  co_return ErrorResponse(Error::NotFound("no OpenAPI document in this build"));
}

}  // namespace countersign
