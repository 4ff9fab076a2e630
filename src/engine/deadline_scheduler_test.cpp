// DeadlineScheduler on a FakeClock, reading from an in-memory stand-in for the store's pending
// requests: it holds a window, not every request; reads on in (deadline, id) order as the
// window passes; fires each deadline once and in order; and survives a failed read.
#include "engine/deadline_scheduler.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "testing/fake_clock.hpp"

namespace countersign {
namespace {

using std::chrono::seconds;

// The store's pending requests as ListPendingDeadlines reads them: (deadline, id) order, a
// page after a cursor. Records each read; FailNext(n) makes the next n reads fail.
class FakePending {
 public:
  void Add(const std::string& id, TimePoint deadline) {
    std::lock_guard lock(mu_);
    rows_[{deadline, id}] = "default";
  }
  void FailNext(int n) {
    std::lock_guard lock(mu_);
    fail_next_ = n;
  }
  struct Read {
    DeadlineCursor after;
    int limit;
    size_t returned;
  };
  std::vector<Read> reads() {
    std::lock_guard lock(mu_);
    return reads_;
  }

  DeadlineScheduler::PendingSource Source() {
    return [this](const DeadlineCursor& after, int limit) -> Result<std::vector<PendingDeadline>> {
      std::lock_guard lock(mu_);
      if (fail_next_ > 0) {
        --fail_next_;
        reads_.push_back({after, limit, 0});
        return Error::Unavailable("database is locked");
      }
      std::vector<PendingDeadline> page;
      for (auto it = rows_.upper_bound({after.deadline, after.id});
           it != rows_.end() && static_cast<int>(page.size()) < limit; ++it) {
        page.push_back({it->second, it->first.second, it->first.first});
      }
      reads_.push_back({after, limit, page.size()});
      return page;
    };
  }

 private:
  std::mutex mu_;
  std::map<std::pair<TimePoint, std::string>, std::string> rows_;
  std::vector<Read> reads_;
  int fail_next_ = 0;
};

// Records the ids that fired, in order; WaitFor(id) waits (with a bound) until that one has.
class FiredLog {
 public:
  DeadlineScheduler::OnDue Record() {
    return [this](const std::string&, const std::string& id) {
      std::lock_guard lock(mu_);
      fired_.push_back(id);
      cv_.notify_all();
    };
  }
  void WaitFor(const std::string& id) {
    std::unique_lock lock(mu_);
    ASSERT_TRUE(cv_.wait_for(lock, seconds(30),
                             [&] {
                               for (const auto& f : fired_) {
                                 if (f == id) return true;
                               }
                               return false;
                             }))
        << id << " did not fire";
  }
  size_t Count() {
    std::lock_guard lock(mu_);
    return fired_.size();
  }
  // Everything fired before the marker, which is then forgotten.
  std::vector<std::string> Before(const std::string& marker) {
    WaitFor(marker);
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& f : fired_) {
      if (f != marker) out.push_back(f);
    }
    fired_.clear();
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> fired_;
};

std::string Id(int i) {
  std::string digits = std::to_string(i);
  return "req_" + std::string(4 - digits.size(), '0') + digits;
}

std::vector<std::string> Ids(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i <= to; ++i) out.push_back(Id(i));
  return out;
}

class DeadlineSchedulerTest : public ::testing::Test {
 protected:
  ~DeadlineSchedulerTest() override {
    if (scheduler_) scheduler_->Stop();
  }

  void StartWithWindow(int window) {
    scheduler_.emplace(clock_, log_.Record(), pending_.Source(), window);
    scheduler_->Start();
  }

  // Everything that fired up to `at` (the clock is moved there): a marker retry at `at` fires
  // after every pending deadline before it, once the reads have caught up with it.
  std::vector<std::string> FiredUpTo(TimePoint at) {
    if (clock_.Now() < at) clock_.Set(at);
    const std::string marker = "~marker" + std::to_string(markers_++);
    scheduler_->Retry("default", marker, at);
    return log_.Before(marker);
  }

  // Waits (a bounded while, polling: the failure is counted on the scheduler's thread).
  bool FailedReadsReach(int64_t n) {
    const auto give_up = std::chrono::steady_clock::now() + seconds(30);
    while (scheduler_->failed_reads() < n && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::yield();
    }
    return scheduler_->failed_reads() == n;
  }

  testing::FakeClock clock_;
  const TimePoint t0_ = clock_.Now();
  FakePending pending_;
  FiredLog log_;
  std::optional<DeadlineScheduler> scheduler_;
  int markers_ = 0;
};

TEST_F(DeadlineSchedulerTest, FiresEachDeadlineOnceInOrderReadingOnAsTheWindowPasses) {
  for (int i = 1; i <= 10; ++i) pending_.Add(Id(i), t0_ + seconds(10 * i));
  StartWithWindow(3);

  EXPECT_TRUE(FiredUpTo(t0_ + seconds(5)).empty());
  EXPECT_EQ(FiredUpTo(t0_ + seconds(35)), Ids(1, 3));
  EXPECT_EQ(FiredUpTo(t0_ + seconds(100)), Ids(4, 10));
  for (const auto& read : pending_.reads()) EXPECT_EQ(read.limit, 3);
}

TEST_F(DeadlineSchedulerTest, HoldsOnlyTheWindowWhenFarMoreArePending) {
  for (int i = 1; i <= 1000; ++i) pending_.Add(Id(i), t0_ + seconds(60 + i));
  StartWithWindow(16);
  // The first read has come in once something from it fired.
  EXPECT_EQ(FiredUpTo(t0_ + seconds(61)), Ids(1, 1));
  EXPECT_LE(scheduler_->size(), 16u);

  EXPECT_EQ(FiredUpTo(t0_ + seconds(1060)), Ids(2, 1000));
  EXPECT_LE(scheduler_->size(), 16u);
  const auto reads = pending_.reads();
  // 1000 / 16 full pages and the short last one; each read starts where the last one ended.
  ASSERT_EQ(reads.size(), 63u);
  EXPECT_EQ(reads[0].after.id, "");
  for (size_t i = 1; i < reads.size(); ++i) {
    EXPECT_EQ(reads[i].after.id, Id(static_cast<int>(16 * i))) << i;
  }
}

TEST_F(DeadlineSchedulerTest, DeadlinesPassedBeforeStartFireAtOnceReadAPageAtATime) {
  for (int i = 1; i <= 100; ++i) pending_.Add(Id(i), t0_ - seconds(1000 - i));
  StartWithWindow(10);

  EXPECT_EQ(FiredUpTo(t0_), Ids(1, 100));
  const auto reads = pending_.reads();
  ASSERT_EQ(reads.size(), 11u);  // ten full pages, then an empty one
  for (const auto& read : reads) EXPECT_LE(read.returned, 10u);
  EXPECT_EQ(reads.back().returned, 0u);
}

TEST_F(DeadlineSchedulerTest, EqualDeadlinesAcrossAPageBoundaryEachFireOnce) {
  for (int i = 1; i <= 7; ++i) pending_.Add(Id(i), t0_ + seconds(30));
  pending_.Add(Id(8), t0_ + seconds(40));
  StartWithWindow(3);

  EXPECT_EQ(FiredUpTo(t0_ + seconds(30)), Ids(1, 7));
  EXPECT_EQ(FiredUpTo(t0_ + seconds(40)), Ids(8, 8));
  const auto reads = pending_.reads();
  ASSERT_GE(reads.size(), 3u);
  EXPECT_EQ(reads[1].after.deadline, t0_ + seconds(30));
  EXPECT_EQ(reads[1].after.id, Id(3));
  EXPECT_EQ(reads[2].after.id, Id(6));
}

TEST_F(DeadlineSchedulerTest, ScheduleBeforeTheHorizonIsHeldAndAfterItIsLeftToTheStore) {
  for (int i = 1; i <= 10; ++i) pending_.Add(Id(i), t0_ + seconds(10 * i));
  StartWithWindow(4);
  EXPECT_TRUE(FiredUpTo(t0_ + seconds(1)).empty());
  const size_t window = scheduler_->size();
  EXPECT_EQ(window, 4u);

  // Created after start: the store holds both, as the gateway schedules after the commit.
  pending_.Add("req_soon", t0_ + seconds(15));
  scheduler_->Schedule("default", "req_soon", t0_ + seconds(15));
  EXPECT_EQ(scheduler_->size(), window + 1);
  pending_.Add("req_late", t0_ + seconds(500));
  scheduler_->Schedule("default", "req_late", t0_ + seconds(500));
  EXPECT_EQ(scheduler_->size(), window + 1);

  EXPECT_EQ(FiredUpTo(t0_ + seconds(20)), (std::vector<std::string>{Id(1), "req_soon", Id(2)}));
  auto rest = Ids(3, 10);
  rest.push_back("req_late");
  EXPECT_EQ(FiredUpTo(t0_ + seconds(500)), rest);
}

TEST_F(DeadlineSchedulerTest, SchedulingManyBeforeTheHorizonKeepsMemoryBounded) {
  for (int i = 1; i <= 8; ++i) pending_.Add(Id(i), t0_ + seconds(1000 + i));
  StartWithWindow(8);
  EXPECT_TRUE(FiredUpTo(t0_ + seconds(1)).empty());
  for (int i = 100; i < 200; ++i) {
    pending_.Add(Id(i), t0_ + seconds(i));
    scheduler_->Schedule("default", Id(i), t0_ + seconds(i));
  }
  EXPECT_LE(scheduler_->size(), 2u * 8u + 1u);  // the marker's retry included

  auto all = Ids(100, 199);
  for (const auto& id : Ids(1, 8)) all.push_back(id);
  EXPECT_EQ(FiredUpTo(t0_ + seconds(2000)), all);
}

TEST_F(DeadlineSchedulerTest, AFailedReadIsRetriedASecondLaterAndLosesNothing) {
  pending_.Add(Id(1), t0_ - seconds(5));
  pending_.Add(Id(2), t0_ + seconds(5));
  pending_.FailNext(2);
  StartWithWindow(4);
  scheduler_->Retry("default", "~first", t0_);
  // Each failed read is tried again a second later on the clock; until one succeeds nothing
  // fires, not even the retry already due, so that everything fires in deadline order.
  ASSERT_TRUE(FailedReadsReach(1));
  EXPECT_EQ(log_.Count(), 0u);
  clock_.Advance(seconds(1));
  ASSERT_TRUE(FailedReadsReach(2));
  EXPECT_EQ(log_.Count(), 0u);
  EXPECT_EQ(FiredUpTo(clock_.Now() + seconds(10)),
            (std::vector<std::string>{Id(1), "~first", Id(2)}));
  EXPECT_EQ(scheduler_->failed_reads(), 2);
  const auto reads = pending_.reads();
  ASSERT_EQ(reads.size(), 3u);
  EXPECT_EQ(reads[2].after.id, "");  // the same page again
}

TEST_F(DeadlineSchedulerTest, ARetryIsHeldPastTheHorizonUntilItFires) {
  for (int i = 1; i <= 10; ++i) pending_.Add(Id(i), t0_ + seconds(10 * i));
  StartWithWindow(2);
  scheduler_->Retry("default", "req_retry", t0_ + seconds(55));
  EXPECT_EQ(FiredUpTo(t0_ + seconds(60)),
            (std::vector<std::string>{Id(1), Id(2), Id(3), Id(4), Id(5), "req_retry", Id(6)}));
}

TEST(DeadlineSchedulerWithoutSourceTest, HoldsEveryEntryAndFiresEachWhenDue) {
  testing::FakeClock clock;
  FiredLog log;
  DeadlineScheduler scheduler(clock, log.Record());
  const TimePoint t0 = clock.Now();
  for (int i = 1; i <= 50; ++i) scheduler.Schedule("default", Id(i), t0 + seconds(i));
  EXPECT_EQ(scheduler.size(), 50u);
  scheduler.Start();
  clock.Set(t0 + seconds(50));
  scheduler.Schedule("default", "~marker", t0 + seconds(50));
  EXPECT_EQ(log.Before("~marker"), Ids(1, 50));
  scheduler.Stop();
}

}  // namespace
}  // namespace countersign
