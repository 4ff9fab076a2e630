// ApiHandlers: the native v1 endpoints (requests, waits, decisions, audit, tokens).
//
// Each handler parses, calls the engine, renders; no lifecycle rules live here. With auth
// off, the identity comes from the body: `requester` on create, `by` on a decision, cancel or
// outcome.
// Thread-safe: handlers keep no state of their own beyond the references they hold.
#pragma once

#include "engine/gateway.hpp"
#include "engine/token_registry.hpp"
#include "http/json_body_memo.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"
#include "notify/outbound_policy.hpp"

namespace countersign {

struct ApiOptions {
  bool auth_off = false;
  std::chrono::seconds default_wait{30};
  std::chrono::seconds max_wait{60};
  // What a new request's callback_url must pass ([outbound]).
  OutboundPolicy outbound;
};

class ApiHandlers {
 public:
  ApiHandlers(Gateway& gateway, TokenRegistry& tokens, Metrics& metrics, ApiOptions options)
      : gateway_(gateway), tokens_(tokens), metrics_(metrics), options_(options) {}

  void Register(Router& router);

  asio::awaitable<HttpResponse> CreateRequest(RequestContext& ctx);
  asio::awaitable<HttpResponse> GetRequest(RequestContext& ctx);
  asio::awaitable<HttpResponse> ListRequests(RequestContext& ctx);
  asio::awaitable<HttpResponse> WaitRequest(RequestContext& ctx);
  asio::awaitable<HttpResponse> Decide(RequestContext& ctx);
  asio::awaitable<HttpResponse> Cancel(RequestContext& ctx);
  // POST /v1/requests/{id}/outcome: the requester's report of what ran (Gateway::ReportExecution).
  asio::awaitable<HttpResponse> ReportOutcome(RequestContext& ctx);
  asio::awaitable<HttpResponse> ListAudit(RequestContext& ctx);
  asio::awaitable<HttpResponse> VerifyAudit(RequestContext& ctx);
  asio::awaitable<HttpResponse> CreateToken(RequestContext& ctx);
  asio::awaitable<HttpResponse> ListTokens(RequestContext& ctx);
  asio::awaitable<HttpResponse> RevokeToken(RequestContext& ctx);
  asio::awaitable<HttpResponse> CreateGrant(RequestContext& ctx);
  asio::awaitable<HttpResponse> ListGrants(RequestContext& ctx);
  asio::awaitable<HttpResponse> RevokeGrant(RequestContext& ctx);

 private:
  // With auth off, the body names who acts; returns an error when a decision names nobody.
  Result<Actor> ActorFor(const RequestContext& ctx, const std::string& body_name,
                         bool name_required) const;

  Gateway& gateway_;
  TokenRegistry& tokens_;
  Metrics& metrics_;
  ApiOptions options_;
  // Status reads of the same cached request serialise it once.
  JsonBodyMemo bodies_{1024};
};

}  // namespace countersign
