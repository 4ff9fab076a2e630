// Long-polls: answering once a request leaves pending, without pinning a thread.
//
// AnswerOnceResolved registers a waiter for request `id` with the gateway's WaiterHub, then
// reads the request as `actor` (registering first means no resolution can fall between the
// read and the registration). When the read fails, when the request is no longer pending, or
// when `wait_for` is zero (then nothing is registered), it answers at once: with `finish`,
// given what the read gave. Otherwise it defers the answer (RequestContext::deferred, a
// DeferredAnswer): the wait is an alarm on the gateway's clock and the hub's registration, with
// no coroutine, until the waiter wakes it or `wait_for` runs out; then the connection asks for
// the answer, which is `finish` given the request as it stands — resolved, or still pending when
// the time ran out or the server is stopping (WaiterHub::CloseAll) — or the error reading it.
// The returned response is then empty.
//
// When the client goes away while the answer waits (DeferredAnswer::Abandon), the wait ends at
// once, `finish` is not called, and `gone` (when set) runs instead, provided the request had
// not been seen to resolve.
//
// `finish` and `gone` run on the connection's executor, after the handler's frame, the router's
// and the HTTP request are gone: they must own what they use (copies, or objects that outlive
// the server's connections), and never refer to the RequestContext. Thread-safe as the gateway
// is; one call per HTTP request.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "auth/actor.hpp"
#include "engine/gateway.hpp"
#include "http/beast.hpp"
#include "http/request_context.hpp"

namespace countersign {

// Renders the answer from the request as it stands (or the error reading it).
using LongPollFinish =
    std::function<asio::awaitable<HttpResponse>(Result<Gateway::RequestPtr> request)>;

asio::awaitable<HttpResponse> AnswerOnceResolved(Gateway& gateway, RequestContext& ctx, Actor actor,
                                                 std::string id, std::chrono::milliseconds wait_for,
                                                 LongPollFinish finish,
                                                 std::function<void()> gone = {});

}  // namespace countersign
