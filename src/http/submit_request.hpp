// SubmitRequest: a new request handed to the engine from a handler, the one way the native
// endpoints create one (POST /v1/requests, POST /hooks/claude-code).
//
// Runs Gateway::Create as `actor` (policies, grants, idempotency, notifications: all the
// engine's), bounded by the gateway's call deadline (a missed deadline is a 503 error), and
// counts a request that was created, not replayed by its idempotency key, in `metrics`.
// Thread-safe as the gateway is.
#pragma once

#include "auth/actor.hpp"
#include "engine/gateway.hpp"
#include "engine/new_request.hpp"
#include "http/beast.hpp"
#include "http/metrics.hpp"

namespace countersign {

asio::awaitable<Result<Gateway::Created>> SubmitRequest(Gateway& gateway, Metrics& metrics,
                                                        Actor actor, NewRequest input);

}  // namespace countersign
