// CompatCaller: who a call to a compatibility adapter acts as.
//
// The seed systems' clients send no credentials, so an adapter may let a call without an
// Authorization header through as the adapter's own agent principal (`anonymous`). A call
// that does carry a header is authenticated like any v1 call, and a bad token is refused even
// when anonymous calls are allowed. With auth off (loopback only) a call without a header
// acts as `principal`, an admin of `tenant`, so it may decide too (naming the decider in the
// body, as the v1 API does).
#pragma once

#include <string>

#include "auth/actor.hpp"
#include "auth/authenticator.hpp"
#include "core/result.hpp"
#include "engine/gateway.hpp"
#include "http/beast.hpp"

namespace countersign {

struct CompatIdentity {
  std::string principal;  // the adapter's agent, e.g. "hermes"
  std::string tenant;     // where its anonymous calls land
  bool anonymous = true;  // calls without a header are allowed
  bool auth_on = true;
};

// kUnauthorized when the header is present and wrong, or absent and anonymous calls are off.
// A token not in the authenticator's memory is looked up on `gateway`'s read executor.
asio::awaitable<Result<Actor>> CompatCaller(Authenticator& authenticator, Gateway& gateway,
                                            const HttpRequest& request,
                                            const CompatIdentity& identity);

}  // namespace countersign
