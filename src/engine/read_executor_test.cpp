#include "engine/read_executor.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <vector>

namespace countersign {
namespace {

using namespace std::chrono_literals;

TEST(ReadExecutorTest, RunsEveryTaskItAccepts) {
  ReadExecutor executor(2, 100);
  std::atomic<int> ran{0};
  std::promise<void> all;
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(executor.Post([&] {
      if (++ran == 50) all.set_value();
    }));
  }
  ASSERT_EQ(all.get_future().wait_for(30s), std::future_status::ready);
  EXPECT_EQ(ran.load(), 50);
  EXPECT_EQ(executor.refused(), 0u);
}

TEST(ReadExecutorTest, RefusesWhenItsQueueIsFullAndCountsIt) {
  ReadExecutor executor(1, 2);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> started;
  // The only thread is held by the first task; two more fill the queue.
  ASSERT_TRUE(executor.Post([&] {
    started.set_value();
    released.wait();
  }));
  ASSERT_EQ(started.get_future().wait_for(30s), std::future_status::ready);
  std::atomic<int> ran{0};
  EXPECT_TRUE(executor.Post([&] { ++ran; }));
  EXPECT_TRUE(executor.Post([&] { ++ran; }));
  EXPECT_EQ(executor.queued(), 2u);
  EXPECT_FALSE(executor.Post([&] { ran += 100; }));
  EXPECT_EQ(executor.refused(), 1u);
  release.set_value();
  executor.Stop();  // drains the two queued tasks
  EXPECT_EQ(ran.load(), 2);
}

TEST(ReadExecutorTest, StopFinishesQueuedTasksThenRefusesNewOnes) {
  ReadExecutor executor(1, 100);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::vector<int> order;
  std::mutex mu;
  ASSERT_TRUE(executor.Post([&] { released.wait(); }));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(executor.Post([&, i] {
      std::lock_guard lock(mu);
      order.push_back(i);
    }));
  }
  release.set_value();
  executor.Stop();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));  // one thread: in the order posted
  EXPECT_FALSE(executor.Post([] {}));
}

}  // namespace
}  // namespace countersign
