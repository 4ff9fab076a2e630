#include "mcp/tool_results.hpp"

#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

namespace countersign {
namespace {

std::string StringAt(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string();
}

const boost::json::array& ArrayAt(const boost::json::object& object, std::string_view key) {
  static const boost::json::array kEmpty;
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_array() ? value->get_array() : kEmpty;
}

boost::json::array Strings(const boost::json::array& values) {
  boost::json::array strings;
  for (const auto& value : values) {
    if (value.is_string()) strings.push_back(value);
  }
  return strings;
}

std::string JoinStrings(const boost::json::array& values) {
  std::string joined;
  for (const auto& value : values) {
    if (!value.is_string()) continue;
    if (!joined.empty()) joined += ", ";
    joined += std::string(value.get_string());
  }
  return joined;
}

// `key` of `object` when it is an object or null (else null), for a ["object","null"] member.
boost::json::value ObjectOrNull(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_object() ? *value : boost::json::value(nullptr);
}

boost::json::value StringOrNull(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? *value : boost::json::value(nullptr);
}

boost::json::object ObjectAt(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_object() ? value->get_object() : boost::json::object();
}

boost::json::object TextBlock(std::string text) {
  return boost::json::object{{"type", "text"}, {"text", std::move(text)}};
}

// content: the structured result as JSON text, plus structuredContent.
boost::json::object StructuredResult(boost::json::object structured) {
  boost::json::object result;
  result["content"] = boost::json::array{TextBlock(boost::json::serialize(structured))};
  result["structuredContent"] = std::move(structured);
  return result;
}

boost::json::object ErrorResult(McpToolFailure failure, std::string_view message) {
  std::string text(McpToolFailureName(failure));
  text += ": ";
  text += message;
  boost::json::object result;
  result["content"] = boost::json::array{TextBlock(std::move(text))};
  result["isError"] = true;
  return result;
}

// Decisions with `outcome`, as `by ("comment")`, joined.
std::string DecidersWithComments(const boost::json::object& request, std::string_view outcome) {
  std::string text;
  for (const auto& value : ArrayAt(request, "decisions")) {
    const auto* decision = value.if_object();
    if (decision == nullptr || StringAt(*decision, "outcome") != outcome) continue;
    if (!text.empty()) text += ", ";
    text += StringAt(*decision, "by");
    const std::string comment = StringAt(*decision, "comment");
    if (!comment.empty()) text += " (\"" + comment + "\")";
  }
  return text;
}

// Why a waiting tool's request did not end as it hoped, and the sentence the model reads.
struct Unsuccessful {
  McpToolFailure failure;
  std::string message;
};

Unsuccessful WhyUnsuccessful(const boost::json::object& request) {
  const std::string status = StringAt(request, "status");
  const std::string id = StringAt(request, "id");
  const std::string resolved_by = JoinStrings(ArrayAt(request, "resolved_by"));
  if (status == "denied") {
    std::string who = DecidersWithComments(request, "denied");
    if (who.empty()) who = resolved_by;
    std::string message =
        who.empty() ? "request " + id + " was denied when its deadline passed without a decision"
                    : "request " + id + " was denied by " + who;
    return {McpToolFailure::kDenied, message + ". Do not perform the action."};
  }
  if (status == "expired") {
    return {McpToolFailure::kExpired, "nobody decided request " + id + " before its deadline (" +
                                          StringAt(request, "deadline_at") +
                                          "). Do not perform the action."};
  }
  if (status == "cancelled") {
    std::string message = "request " + id + " was cancelled";
    if (!resolved_by.empty()) message += " by " + resolved_by;
    return {McpToolFailure::kCancelled, message + ". Do not perform the action."};
  }
  if (status == "pending") {
    return {McpToolFailure::kUnavailable, "request " + id + " is still pending"};
  }
  // dismissed, ended (conversations), or a status this build does not know: never a yes.
  return {McpToolFailure::kDenied,
          "request " + id + " ended as " + status + ". Do not perform the action."};
}

boost::json::object ApprovalResult(const boost::json::object& request) {
  bool edited = false;
  boost::json::object arguments = ApprovedArguments(request, edited);
  boost::json::array comments;
  for (const auto& value : ArrayAt(request, "decisions")) {
    const auto* decision = value.if_object();
    if (decision == nullptr) continue;
    const std::string comment = StringAt(*decision, "comment");
    if (!comment.empty()) {
      comments.push_back(
          boost::json::object{{"by", StringAt(*decision, "by")}, {"comment", comment}});
    }
  }
  boost::json::object structured{{"request_id", StringAt(request, "id")}, {"status", "approved"}};
  structured["approved_by"] = Strings(ArrayAt(request, "resolved_by"));
  structured["arguments"] = std::move(arguments);
  structured["arguments_edited"] = edited;
  structured["comments"] = std::move(comments);
  structured["receipt"] = StringOrNull(request, "receipt");
  if (auto response = ObjectOrNull(request, "response"); response.is_object()) {
    structured["response"] = std::move(response);
  }
  return StructuredResult(std::move(structured));
}

boost::json::object AnswerResult(const boost::json::object& request) {
  const auto& resolved_by = ArrayAt(request, "resolved_by");
  std::string answered_by;
  if (!resolved_by.empty() && resolved_by[0].is_string()) {
    answered_by = std::string(resolved_by[0].get_string());
  }
  boost::json::object structured{{"request_id", StringAt(request, "id")},
                                 {"status", "answered"},
                                 {"answer", StringAt(request, "answer")},
                                 {"answered_by", answered_by}};
  if (auto response = ObjectOrNull(request, "response"); response.is_object()) {
    structured["response"] = std::move(response);
  }
  return StructuredResult(std::move(structured));
}

boost::json::object PermissionAllow(boost::json::object updated_input) {
  boost::json::object decision{{"behavior", "allow"}};
  decision["updatedInput"] = std::move(updated_input);
  return StructuredResult(std::move(decision));
}

boost::json::object PermissionDeny(McpToolFailure failure, std::string_view message) {
  std::string text(McpToolFailureName(failure));
  text += ": ";
  text += message;
  return StructuredResult(boost::json::object{{"behavior", "deny"}, {"message", std::move(text)}});
}

}  // namespace

std::string_view McpToolFailureName(McpToolFailure failure) {
  switch (failure) {
    case McpToolFailure::kDenied:
      return "denied";
    case McpToolFailure::kExpired:
      return "expired";
    case McpToolFailure::kCancelled:
      return "cancelled";
    case McpToolFailure::kUnavailable:
      return "unavailable";
    case McpToolFailure::kInvalidArguments:
      return "invalid_arguments";
    case McpToolFailure::kNotFound:
      return "not_found";
    case McpToolFailure::kForbidden:
      return "forbidden";
    case McpToolFailure::kConflict:
      return "conflict";
  }
  return "unavailable";
}

McpToolFailure FailureForGatewayError(const Error& error) {
  switch (error.code) {
    case ErrorCode::kMalformed:
    case ErrorCode::kInvalid:
    case ErrorCode::kTooLarge:
    case ErrorCode::kUnsupportedMediaType:
      return McpToolFailure::kInvalidArguments;
    case ErrorCode::kUnauthorized:
    case ErrorCode::kForbidden:
      return McpToolFailure::kForbidden;
    case ErrorCode::kNotFound:
      return McpToolFailure::kNotFound;
    case ErrorCode::kConflict:
      return McpToolFailure::kConflict;
    case ErrorCode::kRateLimited:
    case ErrorCode::kUnavailable:
    case ErrorCode::kInternal:
      return McpToolFailure::kUnavailable;
  }
  return McpToolFailure::kUnavailable;
}

boost::json::object ApprovedArguments(const boost::json::object& request, bool& edited) {
  const auto& decisions = ArrayAt(request, "decisions");
  for (auto it = decisions.rbegin(); it != decisions.rend(); ++it) {
    const auto* decision = it->if_object();
    if (decision == nullptr || StringAt(*decision, "outcome") != "approved") continue;
    const auto* arguments = decision->if_contains("arguments");
    if (arguments != nullptr && arguments->is_object()) {
      edited = true;
      return arguments->get_object();
    }
  }
  edited = false;
  return ObjectAt(request, "arguments");
}

boost::json::object ToolFailureResult(McpTool tool, McpToolFailure failure,
                                      std::string_view message) {
  if (tool == McpTool::kPermissionPrompt) return PermissionDeny(failure, message);
  return ErrorResult(failure, message);
}

boost::json::object ToolResultForRequest(McpTool tool, const boost::json::object& request) {
  const std::string status = StringAt(request, "status");
  switch (tool) {
    case McpTool::kGetRequest:
    case McpTool::kCancelRequest:
      return StructuredResult(RequestSummary(request));
    case McpTool::kRequestApproval:
      if (status == "approved") return ApprovalResult(request);
      break;
    case McpTool::kAskHuman:
      if (status == "answered") return AnswerResult(request);
      break;
    case McpTool::kPermissionPrompt:
      if (status == "approved") {
        bool edited = false;
        return PermissionAllow(ApprovedArguments(request, edited));
      }
      break;
  }
  const Unsuccessful why = WhyUnsuccessful(request);
  return ToolFailureResult(tool, why.failure, why.message);
}

boost::json::object RequestSummary(const boost::json::object& request) {
  boost::json::object summary{{"request_id", StringAt(request, "id")},
                              {"kind", StringAt(request, "kind")},
                              {"action", StringAt(request, "action")},
                              {"title", StringAt(request, "title")},
                              {"status", StringAt(request, "status")},
                              {"requester", StringAt(request, "requester")},
                              {"created_at", StringAt(request, "created_at")},
                              {"deadline_at", StringAt(request, "deadline_at")}};
  summary["resolved_at"] = StringOrNull(request, "resolved_at");
  summary["resolved_by"] = Strings(ArrayAt(request, "resolved_by"));
  summary["arguments"] = ObjectAt(request, "arguments");
  boost::json::array decisions;
  for (const auto& value : ArrayAt(request, "decisions")) {
    const auto* decision = value.if_object();
    if (decision == nullptr) continue;
    decisions.push_back(boost::json::object{{"by", StringAt(*decision, "by")},
                                            {"choice", StringAt(*decision, "choice")},
                                            {"outcome", StringAt(*decision, "outcome")},
                                            {"comment", StringAt(*decision, "comment")},
                                            {"at", StringAt(*decision, "at")}});
  }
  summary["decisions"] = std::move(decisions);
  summary["answer"] = StringOrNull(request, "answer");
  summary["response"] = ObjectOrNull(request, "response");
  summary["receipt"] = StringOrNull(request, "receipt");
  return summary;
}

}  // namespace countersign
