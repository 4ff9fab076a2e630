#include "cli/signal_relay.hpp"

#include <pthread.h>

#include <cerrno>
#include <utility>

namespace countersign {

SignalRelay::SignalRelay(Handler handler) : handler_(std::move(handler)) {
  sigemptyset(&relayed_);
  sigaddset(&relayed_, SIGINT);
  sigaddset(&relayed_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &relayed_, &original_mask_);
  thread_ = std::thread([this] { Loop(); });
}

SignalRelay::~SignalRelay() {
  stopping_.store(true);
  // A thread-directed signal wakes sigwaitinfo(); the loop sees stopping_ and returns.
  pthread_kill(thread_.native_handle(), SIGTERM);
  thread_.join();
  pthread_sigmask(SIG_SETMASK, &original_mask_, nullptr);
}

void SignalRelay::Loop() {
  for (;;) {
    siginfo_t info{};
    const int signal = sigwaitinfo(&relayed_, &info);
    if (stopping_.load()) return;
    if (signal < 0) {
      if (errno == EINTR) continue;
      return;  // EINVAL cannot happen with this set; stop relaying rather than spin
    }
    handler_(signal, info.si_code == SI_USER || info.si_code == SI_QUEUE);
  }
}

}  // namespace countersign
