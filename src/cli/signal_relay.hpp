// SignalRelay: takes SIGINT and SIGTERM off the process's threads and hands them to a
// handler on a thread of its own, so a blocking call (an HTTP long-poll, waitpid) never has
// to be interrupted and no code runs in a signal handler.
//
// The constructor blocks SIGINT and SIGTERM in the calling thread, so every thread started
// after it (by the caller, by Asio) inherits the block; construct it before any other thread
// exists. The handler runs on the relay's thread, one signal at a time, and may block. The
// destructor stops the thread and restores the calling thread's original signal mask; a
// signal that arrives after the thread stopped stays pending until then and is delivered
// with its usual effect. Not copyable; at most one per process.
#pragma once

#include <signal.h>

#include <atomic>
#include <functional>
#include <thread>

namespace countersign {

class SignalRelay {
 public:
  // `signal` is SIGINT or SIGTERM. `sent_by_process` is true when another process sent it
  // with kill(2) or sigqueue(3), false when the kernel did (the terminal's Ctrl-C, which
  // reaches the whole foreground process group at once).
  using Handler = std::function<void(int signal, bool sent_by_process)>;

  explicit SignalRelay(Handler handler);
  ~SignalRelay();
  SignalRelay(const SignalRelay&) = delete;
  SignalRelay& operator=(const SignalRelay&) = delete;

  // The signal mask the calling thread had before the constructor: what a child process
  // should start with.
  const sigset_t& original_mask() const { return original_mask_; }

 private:
  void Loop();

  Handler handler_;
  sigset_t relayed_;
  sigset_t original_mask_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace countersign
