#include "web/page_text.hpp"

#include <algorithm>
#include <vector>

#include "core/time_format.hpp"

namespace countersign {

std::string HumanTime(TimePoint t) {
  const std::string iso = FormatTime(t);
  return iso.substr(0, 10) + " " + iso.substr(11, 5) + " UTC";
}

int DistinctApprovals(const Request& r) {
  std::vector<std::string> seen;
  for (const auto& d : r.decisions) {
    if (d.outcome == Outcome::kApproved &&
        std::find(seen.begin(), seen.end(), d.principal) == seen.end()) {
      seen.push_back(d.principal);
    }
  }
  return static_cast<int>(seen.size());
}

std::string ApprovalProgress(const Request& r) {
  return std::to_string(DistinctApprovals(r)) + " of " + std::to_string(r.quorum) +
         (r.quorum == 1 ? " approval" : " approvals");
}

std::string GrantGivenSentence(const Request& r, std::string_view scope, TimePoint until) {
  std::string whom;
  if (scope == "session") {
    whom = " in session " + r.session;
  } else if (scope == "requester") {
    whom = " whenever " + r.requester + " asks for it";
  } else {
    whom = " for every requester";
  }
  return "Also granted: " + r.action + " is approved without asking" + whom + " until " +
         HumanTime(until) + ". The grant is listed, and can be revoked, with the other grants.";
}

}  // namespace countersign
