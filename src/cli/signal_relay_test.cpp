#include "cli/signal_relay.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <vector>

namespace countersign {
namespace {

struct Seen {
  std::mutex mu;
  std::condition_variable changed;
  std::vector<std::pair<int, bool>> signals;  // guarded by mu
};

TEST(SignalRelayTest, HandsSignalsToTheHandlerOnItsOwnThread) {
  Seen seen;
  {
    SignalRelay relay([&seen](int signal, bool sent_by_process) {
      std::lock_guard<std::mutex> lock(seen.mu);
      seen.signals.emplace_back(signal, sent_by_process);
      seen.changed.notify_all();
    });
    ASSERT_EQ(kill(getpid(), SIGINT), 0);
    ASSERT_EQ(kill(getpid(), SIGTERM), 0);
    std::unique_lock<std::mutex> lock(seen.mu);
    seen.changed.wait(lock, [&seen] { return seen.signals.size() == 2; });
  }
  // Signals are taken one at a time; either may come first.
  EXPECT_TRUE(seen.signals[0].second);
  EXPECT_TRUE(seen.signals[1].second);
  EXPECT_EQ(seen.signals[0].first + seen.signals[1].first, SIGINT + SIGTERM);
}

TEST(SignalRelayTest, RestoresTheSignalMask) {
  sigset_t before;
  pthread_sigmask(SIG_SETMASK, nullptr, &before);
  {
    SignalRelay relay([](int, bool) {});
    sigset_t during;
    pthread_sigmask(SIG_SETMASK, nullptr, &during);
    EXPECT_EQ(sigismember(&during, SIGINT), 1);
    EXPECT_EQ(sigismember(&during, SIGTERM), 1);
    EXPECT_EQ(sigismember(&relay.original_mask(), SIGINT), sigismember(&before, SIGINT));
  }
  sigset_t after;
  pthread_sigmask(SIG_SETMASK, nullptr, &after);
  EXPECT_EQ(sigismember(&after, SIGINT), sigismember(&before, SIGINT));
  EXPECT_EQ(sigismember(&after, SIGTERM), sigismember(&before, SIGTERM));
}

}  // namespace
}  // namespace countersign
