// Small pieces of text the server's HTML pages (link pages, inbox pages) share.
#pragma once

#include <string>

#include "core/clock.hpp"
#include "core/request.hpp"

namespace countersign {

// "2026-11-21 10:00 UTC": for reading; a <time> element carries the exact instant.
std::string HumanTime(TimePoint t);
// How many distinct principals have approved `r` so far.
int DistinctApprovals(const Request& r);
// "1 of 2 approvals".
std::string ApprovalProgress(const Request& r);

}  // namespace countersign
