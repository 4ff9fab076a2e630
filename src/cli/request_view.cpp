#include "cli/request_view.hpp"

#include <string>

#include <boost/json/serialize.hpp>

#include "cli/json_fields.hpp"
#include "core/choice_meaning.hpp"

namespace countersign {
namespace {

// Strings quoted the way JSON would quote them, so odd characters stay visible.
std::string Quoted(const std::string& text) {
  return boost::json::serialize(boost::json::value(text));
}

void PrintDecisions(std::ostream& out, const boost::json::object& request) {
  for (const auto& element : ArrayField(request, "decisions")) {
    const auto* decision = element.if_object();
    if (decision == nullptr) continue;
    out << "  " << ShortTime(TextField(*decision, "at")) << "  " << TextField(*decision, "by")
        << "  " << TextField(*decision, "choice");
    const std::string comment = TextField(*decision, "comment");
    if (!comment.empty()) out << "  " << Quoted(comment);
    const std::string answer = TextField(*decision, "answer");
    if (!answer.empty()) out << "  answer: " << Quoted(answer);
    out << "\n";
  }
}

std::size_t CountApprovals(const boost::json::object& request) {
  std::size_t approvals = 0;
  for (const auto& element : ArrayField(request, "decisions")) {
    const auto* decision = element.if_object();
    if (decision != nullptr && TextField(*decision, "outcome") == "approved") ++approvals;
  }
  return approvals;
}

}  // namespace

std::string ReasonInWords(const std::string& reason_code) {
  if (reason_code == "approved") return "approved by its approvers";
  if (reason_code == "approved_by_grant") return "approved by a standing grant";
  if (reason_code == "approved_by_policy") return "approved by policy";
  if (reason_code == "denied_by_person") return "denied by an approver";
  if (reason_code == "denied_by_policy") return "denied by policy";
  if (reason_code == "expired") return "expired: nobody decided in time";
  if (reason_code == "escalation_exhausted") {
    return "escalation exhausted: nobody decided in time at any tier";
  }
  if (reason_code == "cancelled_by_requester") return "cancelled by its requester";
  if (reason_code == "cancelled_by_admin") return "cancelled by an admin";
  if (reason_code == "answered") return "answered";
  if (reason_code == "dismissed") return "dismissed: an analyst chose to do nothing";
  if (reason_code == "ended") return "ended before it was settled";
  return reason_code;
}

std::string WhoMayDecide(const boost::json::object& request) {
  std::string who = Join(ArrayField(request, "approvers"), ", ");
  if (who.empty()) who = "any approver or admin of the tenant";
  const auto quorum = IntField(request, "quorum");
  if (quorum && *quorum > 1) who += "; " + std::to_string(*quorum) + " approvals needed";
  return who;
}

bool DecidedAtCreation(const boost::json::object& request) {
  for (const auto& element : ArrayField(request, "resolved_by")) {
    const std::string by = Text(element);
    if (by.starts_with("policy:") || by.starts_with("grant:")) return true;
  }
  return false;
}

void PrintSummaryLine(std::ostream& out, const boost::json::object& request) {
  out << TextField(request, "id") << " " << TextField(request, "status") << "  "
      << TextField(request, "action") << "  " << Quoted(TextField(request, "title")) << "\n";
}

void PrintRequestDetails(std::ostream& out, const boost::json::object& request) {
  auto line = [&out](const char* label, const std::string& value) {
    if (!value.empty()) out << "  " << label << value << "\n";
  };
  PrintSummaryLine(out, request);
  line("kind:        ", TextField(request, "kind"));
  line("tenant:      ", TextField(request, "tenant"));
  line("requester:   ", TextField(request, "requester"));
  line("session:     ", TextField(request, "session"));
  std::string policy = TextField(request, "policy");
  const std::string policy_reason = TextField(request, "policy_reason");
  if (!policy.empty() && !policy_reason.empty()) policy += " (" + policy_reason + ")";
  line("policy:      ", policy);
  line("risk:        ", TextField(request, "risk"));
  const auto& details = ObjectField(request, "details");
  if (!details.empty()) line("details:     ", boost::json::serialize(details));
  const auto& arguments = ObjectField(request, "arguments");
  if (!arguments.empty()) line("arguments:   ", boost::json::serialize(arguments));
  line("args sha256: ", TextField(request, "arguments_sha256"));
  std::string choices;
  for (const auto& element : ArrayField(request, "choices")) {
    const auto* choice = element.if_object();
    if (choice == nullptr) continue;
    if (!choices.empty()) choices += ", ";
    // The label as the approvers see it, with what the choice does in words.
    Choice shown;
    shown.label = TextField(*choice, "label");
    const auto outcome = ParseOutcome(TextField(*choice, "outcome"));
    if (outcome) shown.outcome = *outcome;
    choices += TextField(*choice, "id") + " (" + TextField(*choice, "outcome") + ")";
    if (outcome && !shown.label.empty() && ChoiceMeaning::NeedsOutcomeWords(shown)) {
      choices += " \"" + ChoiceMeaning::Caption(shown) + "\"";
    }
  }
  line("choices:     ", choices);
  line("approvers:   ", WhoMayDecide(request));
  line("created:     ", ShortTime(TextField(request, "created_at")));
  // A request a grant or a policy decided at once never waited for its deadline.
  if (!DecidedAtCreation(request)) {
    line("deadline:    ", ShortTime(TextField(request, "deadline_at")) + " (then " +
                              TextField(request, "on_timeout") + ")");
  }
  const auto escalation = IntField(request, "escalation_level");
  if (escalation && *escalation > 0) line("escalation:  ", std::to_string(*escalation));
  line("notify:      ", Join(ArrayField(request, "notify"), ", "));
  line("callback:    ", TextField(request, "callback_url"));
  line("resolved:    ", ShortTime(TextField(request, "resolved_at")));
  line("resolved by: ", Join(ArrayField(request, "resolved_by"), ", "));
  const std::string reason_code = TextField(request, "reason_code");
  if (!reason_code.empty()) {
    line("reason:      ", reason_code + " (" + ReasonInWords(reason_code) + ")");
  }
  line("answer:      ", TextField(request, "answer"));
  if (!ArrayField(request, "decisions").empty()) {
    out << "  decisions:\n";
    PrintDecisions(out, request);
  }
}

void PrintOutcome(std::ostream& out, const boost::json::object& request) {
  const std::string status = TextField(request, "status");
  out << TextField(request, "id") << " " << status;
  if (status == "pending") {
    const auto quorum = IntField(request, "quorum").value_or(1);
    out << " (" << CountApprovals(request) << " of " << quorum << " approvals)";
  } else {
    const std::string by = Join(ArrayField(request, "resolved_by"), ", ");
    if (!by.empty()) {
      out << " by " << by;
    } else if (status == "expired" || status == "denied") {
      out << " at its deadline " << ShortTime(TextField(request, "deadline_at"));
    }
  }
  const std::string answer = TextField(request, "answer");
  if (!answer.empty()) out << ": " << Quoted(answer);
  // Where "by …" does not already say it: a policy, a grant, the deadline, who cancelled.
  const std::string reason_code = TextField(request, "reason_code");
  if (!reason_code.empty() && reason_code != "approved" && reason_code != "denied_by_person" &&
      reason_code != "answered") {
    out << " (" << ReasonInWords(reason_code) << ")";
  }
  out << "\n";
  PrintDecisions(out, request);
}

}  // namespace countersign
