#include "http/io_context_pool.hpp"

#include <future>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/post.hpp>

namespace countersign {
namespace {

// Runs a task on `executor`; returns the id of the thread that ran it.
std::thread::id RunOn(const asio::any_io_executor& executor) {
  std::promise<std::thread::id> ran;
  auto id = ran.get_future();
  asio::post(executor, [&ran] { ran.set_value(std::this_thread::get_id()); });
  return id.get();
}

TEST(IoContextPoolTest, ContextsAreTakenInTurnAndEachRunsOnAThreadOfItsOwn) {
  IoContextPool pool(2);
  ASSERT_EQ(pool.size(), 2u);
  pool.Start();
  const asio::any_io_executor first = pool.Next();
  const asio::any_io_executor second = pool.Next();
  EXPECT_NE(first, second);
  EXPECT_EQ(pool.Next(), first);
  EXPECT_EQ(pool.Next(), second);

  const std::thread::id a = RunOn(first);
  const std::thread::id b = RunOn(second);
  EXPECT_NE(a, b);
  EXPECT_NE(a, std::this_thread::get_id());
  EXPECT_EQ(RunOn(first), a);  // a context keeps its thread
  pool.Release();
  pool.Join();
}

TEST(IoContextPoolTest, AnIdleContextKeepsRunningUntilReleased) {
  IoContextPool pool(1);
  pool.Start();
  const asio::any_io_executor executor = pool.Next();
  // Nothing was queued before Start(): had run() returned for lack of work, this would hang.
  const std::thread::id ran = RunOn(executor);
  EXPECT_EQ(RunOn(executor), ran);
  pool.Release();
  pool.Join();  // returns: nothing is left to run
}

TEST(IoContextPoolTest, JoinWaitsForWorkStillQueuedAtRelease) {
  IoContextPool pool(1);
  pool.Start();
  std::promise<void> gate;
  auto opened = gate.get_future().share();
  bool finished = false;
  asio::post(pool.Next(), [opened, &finished] {
    opened.wait();
    finished = true;
  });
  pool.Release();
  gate.set_value();
  pool.Join();
  EXPECT_TRUE(finished);
}

TEST(IoContextPoolTest, ASizeBelowOneMeansOne) {
  IoContextPool pool(0);
  EXPECT_EQ(pool.size(), 1u);
}

}  // namespace
}  // namespace countersign
