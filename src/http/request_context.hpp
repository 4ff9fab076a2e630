// RequestContext: one HTTP request as a handler sees it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/ip/address.hpp>
#include <boost/json/value.hpp>

#include "auth/actor.hpp"
#include "core/result.hpp"
#include "http/beast.hpp"
#include "http/deferred_answer.hpp"
#include "http/response_stream.hpp"

namespace countersign {

struct RequestContext {
  const HttpRequest& request;
  std::map<std::string, std::string, std::less<>> path;   // {id} and friends, from the route
  std::map<std::string, std::string, std::less<>> query;  // decoded query parameters
  Actor actor;                                            // set once authenticated
  // A handler that may wait long (a long-poll) sets this to the answer that waits, and returns
  // at once: the connection then holds it after the router's and the handler's frames, and the
  // request itself, are freed, so a waiting client holds little. It must not refer to `request`
  // or to this context.
  std::shared_ptr<DeferredAnswer> deferred;
  // Instead of `deferred`, a handler whose answer is a body written while it works (an MCP
  // tool call's event stream) sets this and returns at once: the connection calls it with its
  // ResponseStream once the router's and the handler's frames, and the request, are freed,
  // and closes when it returns. It must not refer to `request` or to this context.
  std::function<asio::awaitable<void>(ResponseStream&)> streamed = nullptr;
  // Set with `streamed`: called, on the connection's executor, when the client goes away while
  // the stream runs. It should end the stream soon (what it writes is then discarded).
  std::function<void()> abandon;
  // The client's address (the TCP peer: a proxy in front of the server, when there is one).
  asio::ip::address peer{};

  std::string_view Query(std::string_view key) const {
    auto it = query.find(key);
    return it == query.end() ? std::string_view() : std::string_view(it->second);
  }
};

// The integer query parameter `name`, or `fallback` when absent: kMalformed when it is not an
// integer, kInvalid outside [min, max].
// The idempotency key of a create (POST /v1/requests, POST /v1/alerts): the Idempotency-Key
// header fills `key` (the body's idempotency_key) or must equal it (kInvalid otherwise); with
// a key, `body_sha256` becomes the canonical hash of `body`, by which a replay is recognised.
Status TakeIdempotencyKey(const RequestContext& ctx, const boost::json::value& body,
                          std::string& key, std::string& body_sha256);

Result<int64_t> IntParam(const RequestContext& ctx, std::string_view name, int64_t fallback,
                         int64_t min, int64_t max);

}  // namespace countersign
