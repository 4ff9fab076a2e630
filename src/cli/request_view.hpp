// How the CLI shows a request (the v1 request JSON) to a person. Pure functions writing to
// the given stream; thread-safe as long as the streams are not shared.
#pragma once

#include <ostream>
#include <string>

#include <boost/json/object.hpp>

namespace countersign {

// One line: `req_… pending  deploy_production  "Deploy v2.0"`.
void PrintSummaryLine(std::ostream& out, const boost::json::object& request);

// Every field a person deciding would want, one per line, then the decisions.
void PrintRequestDetails(std::ostream& out, const boost::json::object& request);

// Who may decide it, in words: "alice, group:sre" or "any approver or admin of the tenant",
// then "; 2 approvals needed" when its quorum is more than one.
std::string WhoMayDecide(const boost::json::object& request);

// Whether it was decided when it was created, by a policy or a grant (its `resolved_by` is
// "policy:NAME" or "grant:ID"): then its deadline never mattered.
bool DecidedAtCreation(const boost::json::object& request);

// A reason code (the request's `reason_code`) in words: "denied by policy", "expired: nobody
// decided in time", "escalation exhausted: ...". An unknown code is returned as it is.
std::string ReasonInWords(const std::string& reason_code);

// What happened to it: `req_… approved by alice, bob` (or still pending, with the progress
// towards the quorum), with the reason in words where "by …" does not say it
// (`req_… denied by policy:strict (denied by policy)`, `req_… expired at its deadline …
// (expired: nobody decided in time)`), then one line per decision with its comment or answer.
void PrintOutcome(std::ostream& out, const boost::json::object& request);

}  // namespace countersign
