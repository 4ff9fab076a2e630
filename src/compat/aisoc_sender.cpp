#include "compat/aisoc_sender.hpp"

#include "core/mutex_lock.hpp"

namespace countersign {

AisocSender::AisocSender(HttpTransport& transport, size_t threads, size_t max_queued)
    : transport_(transport), max_queued_(max_queued) {
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

AisocSender::~AisocSender() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

void AisocSender::Send(OutboundCall call, std::chrono::milliseconds timeout, Done done) {
  {
    MutexLock lock(mu_);
    if (!stopping_ && queue_.size() < max_queued_) {
      queue_.push_back({std::move(call), timeout, std::move(done)});
      wake_.notify_one();
      return;
    }
  }
  OutboundReply busy;
  busy.error = "the server has too many outbound calls in progress; try again shortly";
  done(std::move(busy));
}

void AisocSender::Run() {
  for (;;) {
    Job job;
    {
      MutexLock lock(mu_);
      while (!stopping_ && queue_.empty()) lock.Wait(wake_);
      if (queue_.empty()) return;  // stopping, and nothing is left to send
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job.done(transport_.Send(job.call, job.timeout));
  }
}

}  // namespace countersign
