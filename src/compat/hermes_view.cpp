#include "compat/hermes_view.hpp"

#include <boost/json/serialize.hpp>

#include "core/time_format.hpp"

namespace countersign {
namespace {

boost::json::value ResolvedAtIso(const Request& request) {
  if (!request.resolved_at) return nullptr;
  return boost::json::value(HermesIsoTime(*request.resolved_at));
}

}  // namespace

const char* HermesStatus(const Request& request) {
  switch (request.status) {
    case RequestStatus::kPending:
      return "pending";
    case RequestStatus::kApproved:
      // Every human vote is a decision row; an approval without one came from a grant or a
      // policy, which is what the daemon's whitelist answered as auto_approved.
      return request.decisions.empty() ? "auto_approved" : "approved";
    case RequestStatus::kExpired:
      return "expired";
    case RequestStatus::kDenied:
    case RequestStatus::kAnswered:
    case RequestStatus::kCancelled:
    case RequestStatus::kDismissed:
    case RequestStatus::kEnded:
      return "denied";
  }
  return "denied";
}

std::string HermesResolvedBy(const Request& request) {
  if (request.pending()) return "";
  // Only a deadline resolves a request without naming who or what resolved it.
  if (request.resolved_by.empty()) return "system:timeout";
  std::string out;
  for (const auto& name : request.resolved_by) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

std::string HermesIsoTime(TimePoint t) {
  // FormatTime: "2026-04-13T22:17:45.123Z". isoformat() writes microseconds, and leaves the
  // fraction out entirely when it is zero.
  const std::string rfc3339 = FormatTime(t);
  const std::string millis = rfc3339.substr(20, 3);
  std::string out = rfc3339.substr(0, 19);
  if (millis != "000") out += "." + millis + "000";
  out += "+00:00";
  return out;
}

double HermesUnixSeconds(TimePoint t) { return static_cast<double>(ToUnixMillis(t)) / 1000.0; }

int64_t HermesTimeoutSeconds(const Request& request) {
  return std::chrono::duration_cast<std::chrono::seconds>(request.deadline_at - request.created_at)
      .count();
}

boost::json::value HermesResolvedAt(const Request& request) {
  if (!request.resolved_at) return nullptr;
  return HermesUnixSeconds(*request.resolved_at);
}

boost::json::object HermesConfirmationJson(const Request& request) {
  boost::json::value reason_code = nullptr;
  if (request.reason_code != ReasonCode::kNone) reason_code = ReasonCodeName(request.reason_code);
  return boost::json::object{{"id", request.id},
                             {"action", request.action},
                             {"description", request.title},
                             {"details", request.details},
                             {"requester", request.requester},
                             {"session_key", request.session},
                             {"status", HermesStatus(request)},
                             {"resolved_by", HermesResolvedBy(request)},
                             {"resolved_at", HermesResolvedAt(request)},
                             {"created_at", HermesUnixSeconds(request.created_at)},
                             {"timeout_seconds", HermesTimeoutSeconds(request)},
                             {"created_at_iso", HermesIsoTime(request.created_at)},
                             {"resolved_at_iso", ResolvedAtIso(request)},
                             {"expires_at_iso", HermesIsoTime(request.deadline_at)},
                             {"countersign_status", StatusName(request.status)},
                             {"countersign_reason_code", std::move(reason_code)}};
}

boost::json::object HermesAuditEntryJson(const Request& request) {
  return boost::json::object{{"id", request.id},
                             {"action", request.action},
                             {"description", request.title},
                             {"details", boost::json::serialize(request.details)},
                             {"requester", request.requester},
                             {"session_key", request.session},
                             {"status", HermesStatus(request)},
                             {"resolved_by", HermesResolvedBy(request)},
                             {"created_at", HermesUnixSeconds(request.created_at)},
                             {"resolved_at", HermesResolvedAt(request)},
                             {"resolved_at_iso", ResolvedAtIso(request)},
                             {"created_at_iso", HermesIsoTime(request.created_at)}};
}

}  // namespace countersign
