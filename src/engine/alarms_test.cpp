// Alarms on a FakeClock: they fire when the test moves time past them, in order, and never
// after Cancel() or Stop().
#include "engine/alarms.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "testing/fake_clock.hpp"

namespace countersign {
namespace {

using std::chrono::seconds;

// Records what fired, in order; Await() waits (with a bound) for a marker alarm, which fires
// after every alarm due no later than it.
class FiredLog {
 public:
  Alarms::Fire Record(std::string name) {
    return [this, name = std::move(name)] {
      std::lock_guard lock(mu_);
      fired_.push_back(name);
    };
  }

  // Sets an alarm at `when` and waits for it: everything due before it has fired by then.
  void Await(Alarms& alarms, TimePoint when) {
    auto reached = std::make_shared<std::promise<void>>();
    auto future = reached->get_future();
    alarms.At(when, [reached] { reached->set_value(); });
    ASSERT_EQ(future.wait_for(seconds(30)), std::future_status::ready)
        << "the marker alarm did not fire";
  }

  std::vector<std::string> fired() {
    std::lock_guard lock(mu_);
    return fired_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> fired_;
};

class AlarmsTest : public ::testing::Test {
 protected:
  testing::FakeClock clock_;
  FiredLog log_;
  Alarms alarms_{clock_};
};

TEST_F(AlarmsTest, FiresOnlyOnceTheClockReachesTheMomentAndInOrder) {
  const TimePoint t0 = clock_.Now();
  alarms_.At(t0 + seconds(20), log_.Record("twenty"));
  alarms_.At(t0 + seconds(10), log_.Record("ten"));
  alarms_.At(t0 + seconds(30), log_.Record("thirty"));
  EXPECT_EQ(alarms_.size(), 3u);

  clock_.Advance(seconds(9));
  log_.Await(alarms_, t0 + seconds(9));
  EXPECT_TRUE(log_.fired().empty());

  clock_.Advance(seconds(11));
  log_.Await(alarms_, t0 + seconds(20));
  EXPECT_EQ(log_.fired(), (std::vector<std::string>{"ten", "twenty"}));
  EXPECT_EQ(alarms_.size(), 1u);

  clock_.Advance(seconds(10));
  log_.Await(alarms_, t0 + seconds(30));
  EXPECT_EQ(log_.fired(), (std::vector<std::string>{"ten", "twenty", "thirty"}));
  EXPECT_EQ(alarms_.size(), 0u);
}

TEST_F(AlarmsTest, AnAlarmAlreadyDueFiresAtOnce) {
  alarms_.At(clock_.Now() - seconds(1), log_.Record("late"));
  log_.Await(alarms_, clock_.Now());
  EXPECT_EQ(log_.fired(), std::vector<std::string>{"late"});
}

TEST_F(AlarmsTest, SameMomentFiresInTheOrderSet) {
  const TimePoint at = clock_.Now() + seconds(5);
  alarms_.At(at, log_.Record("first"));
  alarms_.At(at, log_.Record("second"));
  clock_.Advance(seconds(5));
  log_.Await(alarms_, at);
  EXPECT_EQ(log_.fired(), (std::vector<std::string>{"first", "second"}));
}

TEST_F(AlarmsTest, ACancelledAlarmNeverFires) {
  const TimePoint t0 = clock_.Now();
  const Alarms::Ticket cancelled = alarms_.At(t0 + seconds(5), log_.Record("cancelled"));
  alarms_.At(t0 + seconds(6), log_.Record("kept"));
  EXPECT_TRUE(alarms_.Cancel(cancelled));
  EXPECT_FALSE(alarms_.Cancel(cancelled)) << "a second Cancel finds nothing";
  EXPECT_FALSE(alarms_.Cancel(Alarms::Ticket{})) << "the empty ticket names no alarm";

  clock_.Advance(seconds(10));
  log_.Await(alarms_, t0 + seconds(10));
  EXPECT_EQ(log_.fired(), std::vector<std::string>{"kept"});
}

TEST_F(AlarmsTest, CancelAfterFiringReportsNothingCancelled) {
  const Alarms::Ticket ticket = alarms_.After(seconds(1), log_.Record("fired"));
  clock_.Advance(seconds(1));
  log_.Await(alarms_, clock_.Now());
  EXPECT_EQ(log_.fired(), std::vector<std::string>{"fired"});
  EXPECT_FALSE(alarms_.Cancel(ticket));
}

TEST_F(AlarmsTest, AnEarlierAlarmSetWhileWaitingIsNotMissed) {
  // The thread is waiting for the alarm an hour away; a nearer one must wake it.
  const TimePoint t0 = clock_.Now();
  alarms_.At(t0 + std::chrono::hours(1), log_.Record("hour"));
  log_.Await(alarms_, t0);  // the thread has looked at the set and gone back to waiting
  alarms_.At(t0 + seconds(1), log_.Record("second"));
  clock_.Advance(seconds(1));
  log_.Await(alarms_, t0 + seconds(1));
  EXPECT_EQ(log_.fired(), std::vector<std::string>{"second"});
}

TEST_F(AlarmsTest, StopDropsWhatIsSetAndRefusesMore) {
  auto owned = std::make_shared<int>(7);
  alarms_.After(seconds(1), [owned] {});
  EXPECT_EQ(owned.use_count(), 2);
  alarms_.Stop();
  EXPECT_EQ(owned.use_count(), 1) << "Stop() destroys the callbacks it drops";
  EXPECT_EQ(alarms_.size(), 0u);
  const Alarms::Ticket ticket = alarms_.After(seconds(1), log_.Record("after stop"));
  EXPECT_EQ(ticket.sequence, 0u);
  EXPECT_EQ(alarms_.size(), 0u);
  alarms_.Stop();  // twice is harmless
}

}  // namespace
}  // namespace countersign
