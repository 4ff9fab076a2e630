// AwaitCallback: lets a coroutine co_await an engine call that reports through a callback.
//
// `start` receives a callback taking a T; it may call it on any thread (the store's writer
// thread, typically). The coroutine resumes on its own executor, and holds work on that
// executor while suspended so a draining io_context does not return underneath it.
#pragma once

#include <functional>
#include <memory>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "http/beast.hpp"

namespace countersign {

template <typename T, typename Start>
asio::awaitable<T> AwaitCallback(Start start) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(T)>(
      [start = std::move(start)](auto handler) mutable {
        using Handler = decltype(handler);
        auto executor = asio::get_associated_executor(handler);
        auto shared = std::make_shared<Handler>(std::move(handler));
        auto work = std::make_shared<asio::executor_work_guard<decltype(executor)>>(executor);
        start(std::function<void(T)>([shared, work](T value) {
          asio::post(work->get_executor(), [shared, work, value = std::move(value)]() mutable {
            (*shared)(std::move(value));
            work->reset();
          });
        }));
      },
      asio::use_awaitable);
}

}  // namespace countersign
