// SystemHandlers: liveness, readiness, Prometheus metrics and the OpenAPI document.
// Public (no token): they reveal counts, never request contents. Thread-safe.
#pragma once

#include "auth/ed25519_nonce_pool.hpp"
#include "engine/gateway.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"

namespace countersign {

class SystemHandlers {
 public:
  // `metrics_auth`: GET /metrics answers only an operator (an admin of the default tenant).
  SystemHandlers(Gateway& gateway, Metrics& metrics, bool metrics_auth = false)
      : gateway_(gateway), metrics_(metrics), metrics_auth_(metrics_auth) {}

  void Register(Router& router);
  // The Socket Mode channels, whose state /metrics and /readyz show. Set before serving.
  void SetSlackSockets(std::vector<const SlackSocketMode*> sockets) {
    sockets_ = std::move(sockets);
  }

  // The receipt signer's nonce pool, whose counts /metrics shows. Set before serving.
  void SetNoncePool(const Ed25519NoncePool* pool) { nonce_pool_ = pool; }

  asio::awaitable<HttpResponse> Healthz(RequestContext& ctx);
  asio::awaitable<HttpResponse> Readyz(RequestContext& ctx);
  asio::awaitable<HttpResponse> MetricsText(RequestContext& ctx);
  asio::awaitable<HttpResponse> OpenApi(RequestContext& ctx);

 private:
  Gateway& gateway_;
  Metrics& metrics_;
  const bool metrics_auth_;
  std::vector<const SlackSocketMode*> sockets_;
  const Ed25519NoncePool* nonce_pool_ = nullptr;
};

}  // namespace countersign
