// SystemHandlers: liveness, readiness, Prometheus metrics and the OpenAPI document.
// Public (no token): they reveal counts, never request contents. Thread-safe.
#pragma once

#include "engine/gateway.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"

namespace countersign {

class SystemHandlers {
 public:
  SystemHandlers(Gateway& gateway, Metrics& metrics) : gateway_(gateway), metrics_(metrics) {}

  void Register(Router& router);

  asio::awaitable<HttpResponse> Healthz(RequestContext& ctx);
  asio::awaitable<HttpResponse> Readyz(RequestContext& ctx);
  asio::awaitable<HttpResponse> MetricsText(RequestContext& ctx);
  asio::awaitable<HttpResponse> OpenApi(RequestContext& ctx);

 private:
  Gateway& gateway_;
  Metrics& metrics_;
};

}  // namespace countersign
