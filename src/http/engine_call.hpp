// Awaiting the engine from a handler coroutine without ever blocking the network thread.
//
// AwaitUntil runs `start`, which hands a callback to the engine, and completes with the
// callback's value, or with nullopt once the alarms' clock reaches `deadline` first (a later
// callback is then dropped). Both completions are posted to the awaiting coroutine's executor,
// so they never race. CallEngine bounds an engine call by the gateway's call deadline and turns a
// missed deadline into a 503 with Retry-After, counted in EngineCallTimeouts(); ReadEngine runs a
// plain gateway read that way on the gateway's read executor. Whatever `start` or `read`
// captures must be owned (by value): after a missed deadline the coroutine goes on while the
// engine may still be working.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "auth/authenticator.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "engine/alarms.hpp"
#include "engine/gateway.hpp"
#include "http/beast.hpp"
#include "http/clock_timer.hpp"

namespace countersign {

// Engine calls answered 503 because the engine missed the call deadline, since start.
uint64_t EngineCallTimeouts();
// Counts one, and says so: the error a handler answers with.
Error EngineCallTimedOut(std::chrono::milliseconds waited);

template <typename T, typename Start>
asio::awaitable<std::optional<T>> AwaitUntil(Alarms& alarms, TimePoint deadline, Start start) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::optional<T>)>(
      [&alarms, deadline, start = std::move(start)](auto handler) mutable {
        using Handler = decltype(handler);
        using Executor = asio::associated_executor_t<Handler>;
        Executor executor = asio::get_associated_executor(handler);
        struct State {
          State(Handler h, const Executor& ex, Alarms& alarms)
              : handler(std::move(h)), timer(ex, alarms) {}
          void Finish(std::optional<T> value) {
            if (finished) return;
            finished = true;
            timer.Cancel();
            std::move(handler)(std::move(value));
          }
          Handler handler;
          ClockTimer timer;
          bool finished = false;  // touched only on the executor
        };
        auto state = std::make_shared<State>(std::move(handler), executor, alarms);
        state->timer.ExpiresAt(deadline);
        state->timer.AsyncWait([state](bool expired) {
          if (expired) state->Finish(std::nullopt);
        });
        start(std::function<void(T)>([state, executor](T value) {
          asio::post(executor, [state, value = std::move(value)]() mutable {
            state->Finish(std::move(value));
          });
        }));
      },
      asio::use_awaitable);
}

// `within`: a bound other than the call deadline, for work known to take long.
template <typename T, typename Start>
asio::awaitable<Result<T>> CallEngine(Gateway& gateway, Start start,
                                      std::optional<std::chrono::milliseconds> within = {}) {
  const auto waited = within.value_or(gateway.call_deadline());
  Alarms& alarms = gateway.alarms();
  std::optional<Result<T>> answer =
      co_await AwaitUntil<Result<T>>(alarms, alarms.Now() + waited, std::move(start));
  if (!answer) co_return EngineCallTimedOut(waited);
  co_return std::move(*answer);
}

template <typename T, typename Read>
asio::awaitable<Result<T>> ReadEngine(Gateway& gateway, Read read) {
  return CallEngine<T>(gateway, [&gateway, read = std::move(read)](auto done) mutable {
    gateway.Read<T>(std::function<Result<T>()>(std::move(read)), std::move(done));
  });
}

// Gateway::Get: from the read cache when it holds the request, else on the read executor.
asio::awaitable<Result<Gateway::RequestPtr>> GetRequestFrom(Gateway& gateway, Actor actor,
                                                            std::string id);

// Who `authorization` authenticates as: from the authenticator's memory when it can tell, else
// by its store lookup on `gateway`'s read executor (on this thread when `gateway` is null).
asio::awaitable<Result<Actor>> AuthenticateOffThread(Authenticator& authenticator, Gateway* gateway,
                                                     std::string authorization);

// The re-check of a stream's credentials (StreamUpgrade::authorized). Only a definite "no"
// ends the stream; a store that cannot answer right now does not. It runs on the stream's
// strand, so it never waits for the store: a token not in memory is looked up on `gateway`'s
// read executor (which refills the memory) and the stream goes on until a later check can
// tell.
std::function<bool()> StreamCredentialCheck(Authenticator& authenticator, Gateway* gateway,
                                            std::string authorization);

}  // namespace countersign
