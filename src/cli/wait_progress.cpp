#include "cli/wait_progress.hpp"

#include <algorithm>
#include <sstream>
#include <utility>
#include <vector>

#include <boost/json/serialize.hpp>

#include "cli/json_fields.hpp"
#include "cli/query_string.hpp"
#include "cli/request_view.hpp"

namespace countersign {
namespace {

// Distinct principals whose decisions among the first `count` of `request` have `outcome`:
// the count the server compares with the quorum or the deny threshold.
std::size_t DistinctWith(const boost::json::object& request, std::size_t count,
                         const std::string& outcome) {
  std::vector<std::string> seen;
  const auto& decisions = ArrayField(request, "decisions");
  for (std::size_t i = 0; i < count && i < decisions.size(); ++i) {
    const auto* decision = decisions[i].if_object();
    if (decision == nullptr || TextField(*decision, "outcome") != outcome) continue;
    const std::string by = TextField(*decision, "by");
    if (std::find(seen.begin(), seen.end(), by) == seen.end()) seen.push_back(by);
  }
  return seen.size();
}

// A member of `from` copied as it is (not made display-safe: JSON lines are for programs).
void Copy(boost::json::object& to, const boost::json::object& from, std::string_view key) {
  if (const auto* value = from.if_contains(key); value != nullptr && !value->is_null()) {
    to[key] = *value;
  }
}

}  // namespace

WaitProgress::WaitProgress(std::ostream& out, Style style, std::string server_url)
    : out_(out), style_(style), server_url_(std::move(server_url)) {}

std::string WaitProgress::InboxUrl(const std::string& server_url, const std::string& id) {
  std::string base = server_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/ui/requests/" + PercentEncode(id);
}

std::string WaitProgress::Step(const boost::json::object& request, std::size_t index) {
  const auto& decisions = ArrayField(request, "decisions");
  if (index >= decisions.size() || !decisions[index].is_object()) return "";
  const auto& decision = decisions[index].get_object();
  const std::string outcome = TextField(decision, "outcome");
  std::string step = TextField(decision, "by") + " ";
  if (outcome == "approved") {
    step += "approved, " + std::to_string(DistinctWith(request, index + 1, outcome)) + " of " +
            std::to_string(IntField(request, "quorum").value_or(1));
  } else if (outcome == "denied") {
    step += "denied";
    const auto threshold = IntField(request, "deny_threshold").value_or(1);
    if (threshold > 1) {
      step += ", " + std::to_string(DistinctWith(request, index + 1, outcome)) + " of " +
              std::to_string(threshold) + " denials";
    }
  } else if (outcome == "escalate") {
    step += "escalated";
  } else if (outcome == "answered") {
    step += "answered";
  } else {
    step += "chose " + TextField(decision, "choice");
  }
  const std::string comment = TextField(decision, "comment");
  if (!comment.empty()) step += ": " + boost::json::serialize(boost::json::value(comment));
  return step;
}

void WaitProgress::Started(const boost::json::object& request, const std::string& headline) {
  const std::string id = TextField(request, "id");
  const std::string inbox = InboxUrl(server_url_, id);
  if (style_ == Style::kHuman) {
    Write(headline + "\n  who may decide: " + WhoMayDecide(request) + "\n  inbox: " + inbox + "\n");
  } else if (style_ == Style::kJson) {
    boost::json::object line;
    line["event"] = "waiting";
    Copy(line, request, "id");
    Copy(line, request, "status");
    Copy(line, request, "action");
    Copy(line, request, "approvers");
    Copy(line, request, "quorum");
    Copy(line, request, "deadline_at");
    Copy(line, request, "on_timeout");
    line["inbox_url"] = inbox;
    Write(boost::json::serialize(line) + "\n");
  }
  Saw(request);
}

void WaitProgress::Saw(const boost::json::object& request) {
  const auto& decisions = ArrayField(request, "decisions");
  for (; reported_ < decisions.size(); ++reported_) {
    const auto* decision = decisions[reported_].if_object();
    if (decision == nullptr) continue;
    if (style_ == Style::kHuman) {
      Write("  " + Step(request, reported_) + "\n");
    } else if (style_ == Style::kJson) {
      boost::json::object line;
      line["event"] = "decision";
      Copy(line, request, "id");
      Copy(line, *decision, "by");
      Copy(line, *decision, "choice");
      Copy(line, *decision, "outcome");
      Copy(line, *decision, "comment");
      Copy(line, *decision, "answer");
      Copy(line, *decision, "at");
      line["approvals"] = DistinctWith(request, reported_ + 1, "approved");
      line["quorum"] = IntField(request, "quorum").value_or(1);
      Write(boost::json::serialize(line) + "\n");
    }
  }
}

void WaitProgress::Warned(const boost::json::object& created) {
  if (style_ != Style::kJson) {
    std::ostringstream lines;
    PrintWarnings(lines, created);
    if (!lines.str().empty()) Write(lines.str());
    return;
  }
  for (const auto& warning : ArrayField(created, "warnings")) {
    boost::json::object line;
    line["event"] = "warning";
    line["message"] = warning.is_string() ? warning.get_string() : "";
    Write(boost::json::serialize(line) + "\n");
  }
}

void WaitProgress::Interrupted(const std::string& id, bool kept, const std::string& failure) {
  if (style_ == Style::kJson) {
    boost::json::object line;
    line["event"] = "interrupted";
    line["id"] = id;
    line["cancelled"] = !kept && failure.empty();
    if (!failure.empty()) line["error"] = failure;
    Write(boost::json::serialize(line) + "\n");
    return;
  }
  // A failure is an error, said even when the output is otherwise silent.
  if (!failure.empty()) {
    Write("countersign: interrupted; could not cancel " + id + ": " + failure + "\n");
  } else if (style_ == Style::kHuman) {
    Write(kept ? "countersign: interrupted; " + id + " stays pending\n"
               : "countersign: interrupted; cancelled " + id + "\n");
  }
}

void WaitProgress::Write(const std::string& line) {
  out_ << line;
  out_.flush();
}

}  // namespace countersign
