// GatewayHarness: a Gateway over a fresh SQLite store in a temporary directory, on a fake
// clock, for the unit tests of the engine and of the handlers above it.
//
// Call<T>() hands the engine a callback and waits for it, but only up to a bound: an engine
// that never answers fails the test with a clear error instead of hanging it (and the late
// callback, if it ever comes, writes into shared state, not into a dead stack frame).
// Flush() waits until every write queued before it has committed, so a test can look at the
// store after fire-and-forget work (notes, outbox rows) without sleeping.
//
// Header-only: the test executables that use it already link the engine and the store.
#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "core/result.hpp"
#include "engine/gateway.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "testing/fake_clock.hpp"
#include "testing/temp_dir.hpp"

namespace countersign::testing {

class GatewayHarness {
 public:
  // Bounds how long a test waits for another thread to report; never a timing assertion.
  static constexpr std::chrono::seconds kBound{30};

  GatewayHarness() = default;
  GatewayHarness(const GatewayHarness&) = delete;
  GatewayHarness& operator=(const GatewayHarness&) = delete;
  ~GatewayHarness() { Close(); }

  // Opens the store (`store_options.path` defaults to countersign.db in the directory), then
  // builds and starts the gateway. Closes what was open before.
  Status Open(GatewayOptions options = {}, const ReceiptSigner* signer = nullptr,
              SqliteStoreOptions store_options = {}) {
    Close();
    if (store_options.path.empty()) store_options.path = dir_.File("countersign.db");
    auto opened = SqliteStore::Open(store_options);
    if (!opened.ok()) return std::move(opened).error();
    store_ = std::move(opened).value();
    gateway_ = std::make_unique<Gateway>(*store_, clock_, options, signer);
    return gateway_->Start();
  }

  // In the server's order: the gateway's timers, then its reads, then the store (its queued
  // writes commit, and their callbacks still find the gateway), then the objects.
  void Close() {
    if (gateway_) {
      gateway_->Stop();
      gateway_->StopReads();
    }
    if (store_) store_->Stop();
    gateway_.reset();
    store_.reset();
  }

  // Runs `start(callback)` and returns what the callback is given, or kInternal when it is
  // not called within `bound`.
  template <typename T, typename Start>
  static Result<T> Call(Start start, std::chrono::milliseconds bound = kBound) {
    auto promise = std::make_shared<std::promise<Result<T>>>();
    auto future = promise->get_future();
    start([promise](Result<T> result) { promise->set_value(std::move(result)); });
    if (future.wait_for(bound) != std::future_status::ready) {
      ADD_FAILURE() << "the engine did not answer within " << bound.count() << " ms";
      return Error::Internal("no answer within " + std::to_string(bound.count()) + " ms");
    }
    return future.get();
  }

  // Waits until every write queued so far has committed: the store's writer takes writes in
  // order, so an empty write queued now completes after all of them.
  Status Flush() {
    auto flushed = Call<bool>([this](auto done) {
      store_->Write([](Transaction&) { return Ok(); },
                    [done = std::move(done)](Status s) mutable {
                      if (s.ok()) {
                        done(true);
                      } else {
                        done(std::move(s).error());
                      }
                    });
    });
    if (!flushed.ok()) return std::move(flushed).error();
    return Ok();
  }

  TempDir& dir() { return dir_; }
  FakeClock& clock() { return clock_; }
  SqliteStore& store() { return *store_; }
  Gateway& gateway() { return *gateway_; }

 private:
  TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<Gateway> gateway_;
};

}  // namespace countersign::testing
