// Alarms: callbacks at moments of the injected Clock, for timers that wait on behalf of
// network code (a long-poll's timeout, a chat hook's answer deadline, a stream's heartbeat,
// an engine call's deadline).
//
// One thread waits on the Clock for the earliest alarm, so a FakeClock drives every such timer
// in tests and none of them sleeps. A callback runs on that thread, outside the lock, in the
// order of the moments; it must be quick (post to an executor and return). Cancel() removes an
// alarm that has not fired; one whose callback is already running is not waited for, so
// callbacks hold what they touch weakly or by value. Stop() joins the thread and drops every
// alarm not yet fired; At() after Stop() sets nothing. Thread-safe.
#pragma once

#include <compare>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <thread>

#include "core/clock.hpp"
#include "core/mutex.hpp"

namespace countersign {

class Alarms {
 public:
  using Fire = std::function<void()>;
  // Names one alarm. A default Ticket names none.
  struct Ticket {
    TimePoint when;
    uint64_t sequence = 0;
    auto operator<=>(const Ticket&) const = default;
  };

  explicit Alarms(Clock& clock);
  ~Alarms();
  Alarms(const Alarms&) = delete;
  Alarms& operator=(const Alarms&) = delete;

  const Clock& clock() const { return clock_; }
  TimePoint Now() const { return clock_.Now(); }
  // `fire` runs once the clock reaches `when` (at once, on the alarm thread, if it has).
  Ticket At(TimePoint when, Fire fire);
  Ticket After(Millis delay, Fire fire) { return At(Now() + delay, std::move(fire)); }
  // True when the alarm was still set (and now never fires).
  bool Cancel(const Ticket& ticket);
  void Stop();

  // Alarms set and not yet fired.
  size_t size() const;

 private:
  void Run();

  Clock& clock_;
  mutable Mutex mu_;
  std::condition_variable changed_;
  std::map<Ticket, Fire> set_ CS_GUARDED_BY(mu_);
  uint64_t next_sequence_ CS_GUARDED_BY(mu_) = 1;
  bool stopping_ CS_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace countersign
