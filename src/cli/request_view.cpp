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
  line("policy:      ", TextField(request, "policy"));
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
  std::string approvers = Join(ArrayField(request, "approvers"), ", ");
  const auto quorum = IntField(request, "quorum");
  if (quorum && *quorum > 1) approvers += " (quorum " + std::to_string(*quorum) + ")";
  line("approvers:   ", approvers);
  line("created:     ", ShortTime(TextField(request, "created_at")));
  line("deadline:    ", ShortTime(TextField(request, "deadline_at")) + " (then " +
                            TextField(request, "on_timeout") + ")");
  const auto escalation = IntField(request, "escalation_level");
  if (escalation && *escalation > 0) line("escalation:  ", std::to_string(*escalation));
  line("notify:      ", Join(ArrayField(request, "notify"), ", "));
  line("callback:    ", TextField(request, "callback_url"));
  line("resolved:    ", ShortTime(TextField(request, "resolved_at")));
  line("resolved by: ", Join(ArrayField(request, "resolved_by"), ", "));
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
  out << "\n";
  PrintDecisions(out, request);
}

}  // namespace countersign
