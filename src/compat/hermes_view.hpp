// HermesView: countersign requests in the JSON shapes of the Hermes confirmation daemon
// (seeds/004: ConfirmationRequest.to_dict() and its audit_log rows).
//
// Status words: "pending"; "approved" (people approved); "auto_approved" (approved with no
// human decision: a grant or a policy); "expired"; "denied" (people or a policy denied, or
// the deadline passed under on_timeout = deny). The daemon has no word for countersign's
// "cancelled" and "answered": both read "denied", because a Hermes client proceeds only on
// "approved" and neither gives it leave to; the exact status is in "countersign_status".
// "resolved_by" is one string: the deciders joined with ", ", "grant:ID" or "policy:NAME"
// for an automatic decision, "system:timeout" for a deadline. Times are unix seconds as a
// float and, in the *_iso fields, Python's datetime.isoformat() in UTC
// ("2026-04-13T22:17:45.123000+00:00"), which Python before 3.11 can parse back (it rejects
// a trailing "Z"). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/clock.hpp"
#include "core/request.hpp"

namespace countersign {

const char* HermesStatus(const Request& request);
// Empty while pending.
std::string HermesResolvedBy(const Request& request);
std::string HermesIsoTime(TimePoint t);
double HermesUnixSeconds(TimePoint t);
// The seconds from creation to the current deadline.
int64_t HermesTimeoutSeconds(const Request& request);
// A float, or null while pending.
boost::json::value HermesResolvedAt(const Request& request);

// GET /confirm/{id}: to_dict()'s fields, plus "expires_at_iso", "countersign_status" and
// "countersign_reason_code" (the request's reason_code, null while pending).
boost::json::object HermesConfirmationJson(const Request& request);
// GET /audit: one audit_log row; "details" is a JSON string, as the daemon stores it.
boost::json::object HermesAuditEntryJson(const Request& request);

}  // namespace countersign
