#include "engine/request_counts.hpp"

#include <utility>

#include "core/mutex_lock.hpp"
#include "store/store.hpp"

namespace countersign {

void RequestCounts::Seed(std::map<std::string, int64_t> by_status) {
  MutexLock lock(mu_);
  by_status_ = std::move(by_status);
}

void RequestCounts::Apply(const std::vector<Event>& events) {
  MutexLock lock(mu_);
  for (const Event& e : events) {
    if (e.type == "request.created") {
      ++by_status_["pending"];
      continue;
    }
    if (e.type == kRetentionPrunedEvent) {
      // Requests removed by retention leave the counts too.
      const auto* removed = e.data.if_contains("statuses");
      if (removed == nullptr || !removed->is_object()) continue;
      for (const auto& [status, count] : removed->get_object()) {
        if (count.is_int64()) by_status_[std::string(status)] -= count.get_int64();
      }
      continue;
    }
    std::string final_status;
    if (e.type == "request.cancelled") {
      final_status = "cancelled";
    } else if (e.type == "request.resolved" || e.type == "request.expired") {
      const auto* status = e.data.if_contains("status");
      if (status == nullptr || !status->is_string()) continue;
      final_status = std::string(status->get_string());
    } else {
      continue;
    }
    --by_status_["pending"];
    ++by_status_[final_status];
  }
}

std::map<std::string, int64_t> RequestCounts::ByStatus() const {
  MutexLock lock(mu_);
  return by_status_;
}

}  // namespace countersign
