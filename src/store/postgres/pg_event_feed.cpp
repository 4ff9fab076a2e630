#include "store/postgres/pg_event_feed.hpp"

#include <libpq-fe.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include <spdlog/spdlog.h>

#include "core/mutex_lock.hpp"
#include "store/postgres/pg_connection.hpp"

namespace countersign {
namespace {

constexpr int kReadBatch = 1000;

}  // namespace

PgEventFeed::PgEventFeed(PgEventFeedOptions options, int64_t delivered_through,
                         ReadAfter read_after)
    : options_(std::move(options)),
      read_after_(std::move(read_after)),
      delivered_(delivered_through),
      wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

PgEventFeed::~PgEventFeed() {
  Stop();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void PgEventFeed::AddListener(Store::CommitListener listener) {
  MutexLock lock(mu_);
  listeners_.push_back(std::move(listener));
}

void PgEventFeed::Start() {
  if (thread_.joinable() || stopping_.load()) return;
  thread_ = std::thread([this] { Loop(); });
}

void PgEventFeed::Stop() {
  stopping_.store(true);
  if (wake_fd_ >= 0) {
    const uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof(one));
  }
  if (thread_.joinable()) thread_.join();
}

int64_t PgEventFeed::DeliveredThrough() const {
  MutexLock lock(mu_);
  return delivered_;
}

void PgEventFeed::Deliver(const std::vector<Event>& events) {
  if (events.empty()) return;
  for (const auto& listener : listeners_) listener(events);
  delivered_ = events.back().seq;
}

bool PgEventFeed::CatchUp(int64_t through) {
  for (;;) {
    if (through > 0 && delivered_ >= through) return true;
    auto read = read_after_(delivered_, kReadBatch);
    if (!read.ok()) {
      if (auto left_out = read_errors_.Allow()) {
        spdlog::warn(
            "store: cannot read new events for this replica's listeners ({} more left "
            "out): {}",
            *left_out, read.error().message);
      }
      return false;
    }
    std::vector<Event>& events = read.value();
    const size_t got = events.size();
    // Only the gapless run from the watermark; what follows a gap waits for the next read.
    size_t run = 0;
    while (run < events.size() && events[run].seq == delivered_ + 1 + static_cast<int64_t>(run) &&
           (through == 0 || events[run].seq <= through)) {
      ++run;
    }
    const bool complete = run == got;
    events.resize(run);
    Deliver(events);
    if (!complete || got < static_cast<size_t>(kReadBatch)) return true;
  }
}

void PgEventFeed::Committed(const std::vector<Event>& events) {
  if (events.empty()) return;
  MutexLock lock(mu_);
  if (events.back().seq <= delivered_) return;  // the feed's thread got there first
  if (events.front().seq > delivered_ + 1) {
    // Other replicas' events come first; when they cannot be read, the thread delivers all.
    if (!CatchUp(events.front().seq - 1) || delivered_ < events.front().seq - 1) return;
  }
  std::vector<Event> rest;
  for (const Event& e : events) {
    if (e.seq > delivered_) rest.push_back(e);
  }
  Deliver(rest);
}

bool PgEventFeed::WaitReadable(int socket, std::chrono::milliseconds timeout) {
  pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {socket, POLLIN, 0}};
  const int n = poll(fds, socket >= 0 ? 2 : 1, static_cast<int>(timeout.count()));
  return n > 0 && socket >= 0 && (fds[1].revents & (POLLIN | POLLERR | POLLHUP)) != 0;
}

void PgEventFeed::Loop() {
  std::unique_ptr<PgConnection> conn;
  auto backoff = std::chrono::milliseconds(100);
  auto quiet_since = std::chrono::steady_clock::now();
  LogThrottle connect_errors;
  while (!stopping_.load()) {
    if (!conn || conn->Broken()) {
      if (conn) spdlog::warn("store: lost the LISTEN connection; re-opening it");
      listening_.store(false);
      conn.reset();
      auto opened = PgConnection::Open(options_.url, "countersign-listen");
      Status listened =
          opened.ok() ? (*opened)->Exec(std::string("LISTEN ") + kChannel) : Status(opened.error());
      if (!listened.ok()) {
        if (auto left_out = connect_errors.Allow()) {
          spdlog::warn("store: cannot LISTEN for other replicas' commits ({} more left out): {}",
                       *left_out, listened.error().message);
        }
        WaitReadable(-1, backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
        continue;
      }
      conn = std::move(opened).value();
      backoff = std::chrono::milliseconds(100);
      connections_.fetch_add(1);
      listening_.store(true);
      quiet_since = std::chrono::steady_clock::now();
      // What was committed while nobody listened.
      MutexLock lock(mu_);
      CatchUp(0);
    }
    const bool readable = WaitReadable(PQsocket(conn->handle()), options_.poll);
    if (stopping_.load()) break;
    if (readable && PQconsumeInput(conn->handle()) == 0) continue;  // broken: re-opened above
    const auto now = std::chrono::steady_clock::now();
    if (!readable && now - quiet_since >= options_.heartbeat) {
      // A connection a firewall dropped silently shows only when used.
      if (!conn->Exec("SELECT 1").ok()) continue;
      quiet_since = now;
    }
    // What arrived, including during the heartbeat's round trip; the read below covers it all.
    while (PGnotify* notify = PQnotifies(conn->handle())) {
      quiet_since = now;
      PQfreemem(notify);
    }
    MutexLock lock(mu_);
    CatchUp(0);
  }
  listening_.store(false);
}

}  // namespace countersign
