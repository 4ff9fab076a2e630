#include "compat/compat_caller.hpp"

namespace countersign {

Result<Actor> CompatCaller(Authenticator& authenticator, const HttpRequest& request,
                           const CompatIdentity& identity) {
  const auto header = request.find(http::field::authorization);
  if (header != request.end() && identity.auth_on)
    return authenticator.Authenticate(header->value());
  if (!identity.auth_on) return Actor{identity.principal, Role::kAdmin, identity.tenant, {}};
  if (!identity.anonymous) {
    return Error::Unauthorized(
        "this adapter needs a bearer token (Authorization: Bearer cs_...): anonymous calls are "
        "off ([compat] anonymous = false)");
  }
  return Actor{identity.principal, Role::kAgent, identity.tenant, {}};
}

}  // namespace countersign
