// Small pieces of text the server's HTML pages (link pages, inbox pages) share.
#pragma once

#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/request.hpp"

namespace countersign {

// "2026-11-21 10:00 UTC": for reading; a <time> element carries the exact instant.
std::string HumanTime(TimePoint t);
// How many distinct principals have approved `r` so far.
int DistinctApprovals(const Request& r);
// "1 of 2 approvals".
std::string ApprovalProgress(const Request& r);
// What a standing grant given with an approval of `r` lets through, for the page that says
// what was recorded: "Also granted: deploy_production is approved without asking in session
// s-1 until 2026-12-04 21:55 UTC." `scope` is the grant's: "session", "requester" or "tenant".
std::string GrantGivenSentence(const Request& r, std::string_view scope, TimePoint until);

}  // namespace countersign
