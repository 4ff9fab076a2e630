#include "http/key_handlers.hpp"

#include "http/responses.hpp"

namespace countersign {

void KeyHandlers::Register(Router& router) {
  router.Add(http::verb::get, "/v1/keys", Router::Access::kPublic,
             [this](RequestContext& ctx) { return Keys(ctx); });
}

asio::awaitable<HttpResponse> KeyHandlers::Keys(RequestContext&) {
  HttpResponse res = JsonResponse(http::status::ok, signer_.Jwks());
  // Keys change only when the key file is replaced, and verifiers refetch on an unknown kid.
  res.set(http::field::cache_control, "public, max-age=300");
  co_return res;
}

}  // namespace countersign
