// What the executor's report (Request::execution) and its absence read as on every surface
// that shows a request to a person: the inbox, the chat messages. Pure functions; thread-safe.
#pragma once

#include <string>

#include "core/clock.hpp"
#include "core/request.hpp"

namespace countersign {

// The largest execution report detail, in bytes.
inline constexpr size_t kMaxExecutionDetail = 4096;

// "ran: succeeded", "ran: failed (exit 2)" or "ran: failed" (no exit code reported).
std::string ExecutionSummary(const ExecutionReport& report);

// Whether `r` is approved, expects an execution report (report_within > 0), has none, and
// its time to report (resolved_at + report_within) passed before `now`: what /metrics counts
// as unreported (Store::CountUnreported) and the inbox flags as "no execution report".
bool ExecutionOverdue(const Request& r, TimePoint now);

}  // namespace countersign
