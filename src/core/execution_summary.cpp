#include "core/execution_summary.hpp"

namespace countersign {

std::string ExecutionSummary(const ExecutionReport& report) {
  std::string text = "ran: " + report.status;
  if (report.status != "succeeded" && report.exit_code) {
    text += " (exit " + std::to_string(*report.exit_code) + ")";
  }
  return text;
}

bool ExecutionOverdue(const Request& r, TimePoint now) {
  // The same test as the store's count, so the inbox flags exactly what /metrics counts.
  return r.status == RequestStatus::kApproved && r.report_within.count() > 0 && !r.execution &&
         r.resolved_at && *r.resolved_at + r.report_within < now;
}

}  // namespace countersign
