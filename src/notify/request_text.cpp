#include "notify/request_text.hpp"

#include "core/choice_meaning.hpp"
#include "core/time_format.hpp"

namespace countersign {

std::string JoinText(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

std::string UtcMinutes(TimePoint t) {
  std::string text = FormatTime(t);  // 2026-11-21T10:05:00.000Z
  text[10] = ' ';
  return text.substr(0, 16) + " UTC";
}

std::string RequestHeadline(const Request& r, std::string_view event) {
  const std::string by = JoinText(r.resolved_by, ", ");
  switch (r.status) {
    case RequestStatus::kPending: {
      std::string text = r.kind == Kind::kVerification ? "Please confirm"
                         : r.kind == Kind::kQuestion   ? "Question"
                                                       : "Approval needed";
      if (event == "request.reminded") text += " \u00b7 reminder: still waiting for a decision";
      if (event == "request.escalated") {
        text += " \u00b7 escalated to level " + std::to_string(r.escalation_level);
      }
      return text;
    }
    case RequestStatus::kApproved:
      return "Approved by " + by;
    case RequestStatus::kDenied:
      return "Denied by " + by;
    case RequestStatus::kAnswered:
      return "Answered by " + by;
    case RequestStatus::kExpired:
      return "Expired: no decision before the deadline";
    case RequestStatus::kCancelled:
      return "Cancelled";
    case RequestStatus::kDismissed:
      return "Dismissed by " + by;
    case RequestStatus::kEnded:
      return "Chat ended by " + by;
  }
  return {};
}

std::string DecisionText(const Request& r, const Decision& d) {
  if (!d.answer.empty()) return d.answer;
  const Choice* c = r.FindChoice(d.choice);
  return c ? ChoiceMeaning::Caption(*c) : d.choice;
}

const char* StatusIcon(RequestStatus status) {
  switch (status) {
    case RequestStatus::kPending:
      return "";
    case RequestStatus::kApproved:
      return "\u2705 ";
    case RequestStatus::kDenied:
      return "\u274c ";
    case RequestStatus::kAnswered:
      return "\U0001f4ac ";
    case RequestStatus::kExpired:
      return "\u231b ";
    case RequestStatus::kCancelled:
      return "\U0001f6ab ";
    case RequestStatus::kDismissed:
      return "\u26aa ";
    case RequestStatus::kEnded:
      return "\u23f9 ";
  }
  return "";
}

int Approvals(const Request& r) {
  int approvals = 0;
  for (const auto& d : r.decisions) approvals += d.outcome == Outcome::kApproved ? 1 : 0;
  return approvals;
}

}  // namespace countersign
