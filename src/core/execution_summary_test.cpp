#include "core/execution_summary.hpp"

#include <gtest/gtest.h>

namespace countersign {
namespace {

using namespace std::chrono_literals;

const TimePoint kApproved = FromUnixMillis(1'800'000'000'000);

Request ApprovedExpectingAReport() {
  Request r;
  r.status = RequestStatus::kApproved;
  r.resolved_at = kApproved;
  r.report_within = 60s;
  return r;
}

TEST(ExecutionSummaryTest, SaysHowTheRunWentWithTheExitCodeOfAFailure) {
  EXPECT_EQ(ExecutionSummary({"succeeded", 0, "", "ci-bot", kApproved}), "ran: succeeded");
  EXPECT_EQ(ExecutionSummary({"failed", 2, "", "ci-bot", kApproved}), "ran: failed (exit 2)");
  EXPECT_EQ(ExecutionSummary({"failed", std::nullopt, "killed by signal 9", "ci-bot", kApproved}),
            "ran: failed");
}

TEST(ExecutionSummaryTest, AnApprovalIsOverdueOnlyPastItsReportTimeWithoutAReport) {
  Request r = ApprovedExpectingAReport();
  EXPECT_FALSE(ExecutionOverdue(r, kApproved + 60s)) << "due at, not before, the time";
  EXPECT_TRUE(ExecutionOverdue(r, kApproved + 61s));

  Request reported = r;
  reported.execution = ExecutionReport{"succeeded", 0, "", "ci-bot", kApproved + 70s};
  EXPECT_FALSE(ExecutionOverdue(reported, kApproved + 1h));

  Request unexpected = r;
  unexpected.report_within = 0s;
  EXPECT_FALSE(ExecutionOverdue(unexpected, kApproved + 1h));

  Request denied = r;
  denied.status = RequestStatus::kDenied;
  EXPECT_FALSE(ExecutionOverdue(denied, kApproved + 1h));
}

}  // namespace
}  // namespace countersign
