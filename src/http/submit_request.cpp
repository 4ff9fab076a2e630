#include "http/submit_request.hpp"

#include <utility>

#include "http/engine_call.hpp"

namespace countersign {

asio::awaitable<Result<Gateway::Created>> SubmitRequest(Gateway& gateway, Metrics& metrics,
                                                        Actor actor, NewRequest input) {
  auto created = co_await CallEngine<Gateway::Created>(
      gateway, [&](auto done) { gateway.Create(actor, std::move(input), std::move(done)); });
  if (created.ok() && !created->replayed) metrics.CountRequestCreated();
  co_return created;
}

}  // namespace countersign
