#include "http/engine_call.hpp"

#include <atomic>

namespace countersign {
namespace {

std::atomic<uint64_t> timeouts{0};

}  // namespace

uint64_t EngineCallTimeouts() { return timeouts.load(std::memory_order_relaxed); }

Error EngineCallTimedOut(std::chrono::milliseconds waited) {
  timeouts.fetch_add(1, std::memory_order_relaxed);
  Error e = Error::Unavailable("the store did not answer within " + std::to_string(waited.count()) +
                               " ms; try again");
  e.retry_after_seconds = 1;
  return e;
}

asio::awaitable<Result<Gateway::RequestPtr>> GetRequestFrom(Gateway& gateway, Actor actor,
                                                            std::string id) {
  if (auto cached = gateway.FindCached(actor, id)) co_return std::move(*cached);
  // GCC 12 gets a coroutine's parameters wrong inside a lambda's captures: locals only.
  Gateway* const engine = &gateway;
  Actor who = std::move(actor);
  std::string which = std::move(id);
  auto read = [engine, who = std::move(who), which = std::move(which)] {
    return engine->Get(who, which);
  };
  auto found = co_await ReadEngine<Gateway::RequestPtr>(*engine, std::move(read));
  co_return found;
}

asio::awaitable<Result<Actor>> AuthenticateOffThread(Authenticator& authenticator, Gateway* gateway,
                                                     std::string authorization) {
  if (auto known = authenticator.AuthenticateFromMemory(authorization)) co_return std::move(*known);
  if (gateway == nullptr) co_return authenticator.Authenticate(authorization);
  // Locals only in the captures (see GetRequestFrom).
  Authenticator* const checker = &authenticator;
  Gateway* const engine = gateway;
  std::string header = std::move(authorization);
  auto lookup = [checker, header = std::move(header)] { return checker->Authenticate(header); };
  auto actor = co_await ReadEngine<Actor>(*engine, std::move(lookup));
  co_return actor;
}

std::function<bool()> StreamCredentialCheck(Authenticator& authenticator, Gateway* gateway,
                                            std::string authorization) {
  auto refused = std::make_shared<std::atomic<bool>>(false);
  return [&authenticator, gateway, refused, header = std::move(authorization)] {
    auto known = authenticator.AuthenticateFromMemory(header);
    if (!known && gateway != nullptr) {
      if (refused->load()) return false;
      gateway->RunOnReadExecutor([&authenticator, refused, header] {
        auto actor = authenticator.Authenticate(header);
        refused->store(!actor.ok() && actor.error().code == ErrorCode::kUnauthorized);
      });
      return true;
    }
    if (!known) known = authenticator.Authenticate(header);
    return known->ok() || known->error().code != ErrorCode::kUnauthorized;
  };
}

}  // namespace countersign
