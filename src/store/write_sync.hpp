// WriteSync: runs one Store::Write and blocks until it is durable. For start-up, the CLI and
// tests; never call it from a network thread.
#pragma once

#include <future>

#include "store/store.hpp"

namespace countersign {

inline Status WriteSync(Store& store, Store::WriteFn fn) {
  auto promise = std::make_shared<std::promise<Status>>();
  auto future = promise->get_future();
  store.Write(std::move(fn), [promise](Status s) { promise->set_value(std::move(s)); });
  return future.get();
}

}  // namespace countersign
