#include "http/system_handlers.hpp"

#include <cstring>

#include "core/embedded_file.hpp"
#include "http/responses.hpp"

namespace countersign {

extern const EmbeddedFile kOpenApiFiles[];

void SystemHandlers::Register(Router& router) {
  using A = Router::Access;
  router.Add(http::verb::get, "/healthz", A::kPublic,
             [this](RequestContext& ctx) { return Healthz(ctx); });
  router.Add(http::verb::get, "/readyz", A::kPublic,
             [this](RequestContext& ctx) { return Readyz(ctx); });
  router.Add(http::verb::get, "/metrics", A::kPublic,
             [this](RequestContext& ctx) { return MetricsText(ctx); });
  router.Add(http::verb::get, "/v1/openapi.json", A::kPublic,
             [this](RequestContext& ctx) { return OpenApi(ctx); });
}

asio::awaitable<HttpResponse> SystemHandlers::Healthz(RequestContext&) {
  co_return JsonResponse(http::status::ok, boost::json::object{{"status", "ok"}});
}

asio::awaitable<HttpResponse> SystemHandlers::Readyz(RequestContext&) {
  Status ping = gateway_.store().Ping();
  // Reads answering is not enough: after an I/O error the writer is stopped for good.
  if (ping.ok()) ping = gateway_.store().WriterHealth();
  if (!ping.ok()) {
    co_return JsonResponse(
        http::status::service_unavailable,
        boost::json::object{{"status", "unavailable"}, {"store", ping.error().message}});
  }
  co_return JsonResponse(http::status::ok,
                         boost::json::object{{"status", "ready"}, {"store", "ok"}});
}

asio::awaitable<HttpResponse> SystemHandlers::MetricsText(RequestContext&) {
  Metrics::Snapshot snapshot;
  auto counts = gateway_.store().CountRequestsByStatus();
  if (counts.ok()) snapshot.requests_by_status = std::move(counts).value();
  snapshot.waiters = gateway_.waiters().size();
  snapshot.store = gateway_.store().Stats();
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
