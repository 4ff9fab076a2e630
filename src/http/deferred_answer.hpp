// DeferredAnswer: a handler's answer that waits for something (a long-poll waits for its request
// to resolve), held by the connection while it waits.
//
// Thousands of clients may wait at once, so a waiting answer is an object with a callback, not
// a coroutine: while it waits, a connection holds the answer, its socket and a watch on the
// socket, and no coroutine frame. When the wait is over, the connection asks for the answer
// (Answer(), a coroutine that may read the store) and writes it.
//
// Everything runs on the connection's executor: WhenReady(), Abandon(), Answer() and the
// `ready` callback.
#pragma once

#include <functional>
#include <memory>
#include <utility>

#include <boost/asio/async_result.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "http/beast.hpp"

namespace countersign {

class DeferredAnswer {
 public:
  virtual ~DeferredAnswer() = default;

  // Calls `ready` once when the answer can be made: the wait is over, or Abandon() ended it.
  // Posted when that is already so. Called once.
  virtual void WhenReady(std::function<void()> ready) = 0;
  // The client went away: the wait ends (`ready` runs), and Answer() then gives an empty
  // response, which is discarded.
  virtual void Abandon() = 0;
  // After `ready`: the response. Called once.
  virtual asio::awaitable<HttpResponse> Answer() = 0;
};

// Completes when `answer` is ready (WhenReady), resumed on the answer's executor.
inline asio::awaitable<void> AwaitReady(DeferredAnswer& answer) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
      [&answer](auto handler) {
        // std::function needs a copyable callable; the coroutine's handler is move-only.
        auto held = std::make_shared<decltype(handler)>(std::move(handler));
        answer.WhenReady([held] { std::move (*held)(); });
      },
      asio::use_awaitable);
}

}  // namespace countersign
