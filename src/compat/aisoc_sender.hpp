// AisocSender: makes the AiSOC adapter's outbound HTTP calls (chat prompts, case timeline
// POSTs) on threads of its own, so a slow or silent receiver never holds an io thread. A
// coroutine hands a call over and resumes from `done` (through AwaitCallback).
//
// Bounded: at most `max_queued` calls wait; past that Send() answers at once, on the calling
// thread, with a reply of status 0 saying the sender is busy. `done` runs on a sender thread
// (or the caller's, when refused) and must not block for long. The destructor stops taking
// calls, lets the queued ones finish (each is bounded by its timeout) and joins the threads.
// Thread-safe. The transport must outlive the sender.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "core/mutex.hpp"
#include "notify/http_transport.hpp"

namespace countersign {

class AisocSender {
 public:
  using Done = std::function<void(OutboundReply)>;

  AisocSender(HttpTransport& transport, size_t threads = 2, size_t max_queued = 64);
  ~AisocSender();
  AisocSender(const AisocSender&) = delete;
  AisocSender& operator=(const AisocSender&) = delete;

  void Send(OutboundCall call, std::chrono::milliseconds timeout, Done done);

 private:
  struct Job {
    OutboundCall call;
    std::chrono::milliseconds timeout{0};
    Done done;
  };
  void Run();

  HttpTransport& transport_;
  const size_t max_queued_;
  Mutex mu_;
  std::condition_variable wake_;
  std::deque<Job> queue_ CS_GUARDED_BY(mu_);
  bool stopping_ CS_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace countersign
