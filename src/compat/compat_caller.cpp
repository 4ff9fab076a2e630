#include "compat/compat_caller.hpp"

#include "http/engine_call.hpp"

namespace countersign {

asio::awaitable<Result<Actor>> CompatCaller(Authenticator& authenticator, Gateway& gateway,
                                            const HttpRequest& request,
                                            const CompatIdentity& identity) {
  const auto header = request.find(http::field::authorization);
  if (header != request.end() && identity.auth_on) {
    co_return co_await AuthenticateOffThread(authenticator, &gateway, std::string(header->value()));
  }
  if (!identity.auth_on) co_return Actor{identity.principal, Role::kAdmin, identity.tenant, {}};
  if (!identity.anonymous) {
    co_return Error::Unauthorized(
        "this adapter needs a bearer token (Authorization: Bearer cs_...): anonymous calls are "
        "off ([compat] anonymous = false)");
  }
  co_return Actor{identity.principal, Role::kAgent, identity.tenant, {}};
}

}  // namespace countersign
