#include "mcp/tool_results.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
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

// The jti claim of `receipt` (a compact JWS), read without checking the signature: the
// executor the agent hands the receipt to checks it and consumes it by this id. "" when the
// receipt has none (or is not a JWS).
std::string ReceiptJti(std::string_view receipt) {
  const size_t first = receipt.find('.');
  const size_t second = first == std::string_view::npos ? first : receipt.find('.', first + 1);
  if (second == std::string_view::npos) return "";
  std::string payload;
  uint32_t bits = 0;
  int count = 0;
  for (char c : receipt.substr(first + 1, second - first - 1)) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    if (c >= '0' && c <= '9') v = c - '0' + 52;
    if (c == '-') v = 62;
    if (c == '_') v = 63;
    if (v < 0) return "";
    bits = (bits << 6) | static_cast<uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      payload.push_back(static_cast<char>((bits >> count) & 0xff));
    }
  }
  boost::system::error_code ec;
  const boost::json::value claims = boost::json::parse(payload, ec);
  if (ec || !claims.is_object()) return "";
  return StringAt(claims.get_object(), "jti");
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

// " (reason_code: CODE)" for a request that carries one, so a model (or the program reading
// the text of an isError result, which has no structuredContent) can tell a person's denial
// from a policy's, or a timeout from an exhausted escalation.
std::string ReasonCodeNote(const boost::json::object& request) {
  const std::string code = StringAt(request, "reason_code");
  return code.empty() ? std::string() : " (reason_code: " + code + ")";
}

Unsuccessful WhyUnsuccessful(const boost::json::object& request) {
  const std::string status = StringAt(request, "status");
  const std::string id = StringAt(request, "id");
  const std::string resolved_by = JoinStrings(ArrayAt(request, "resolved_by"));
  const std::string reason = ReasonCodeNote(request);
  if (status == "denied") {
    std::string who = DecidersWithComments(request, "denied");
    if (who.empty()) who = resolved_by;
    std::string message =
        who.empty() ? "request " + id + " was denied when its deadline passed without a decision"
                    : "request " + id + " was denied by " + who;
    return {McpToolFailure::kDenied, message + reason + ". Do not perform the action."};
  }
  if (status == "expired") {
    const std::string tiers = StringAt(request, "reason_code") == "escalation_exhausted"
                                  ? ", through every escalation tier"
                                  : "";
    return {McpToolFailure::kExpired, "nobody decided request " + id + " before its deadline (" +
                                          StringAt(request, "deadline_at") + ")" + tiers + reason +
                                          ". Do not perform the action."};
  }
  if (status == "cancelled") {
    std::string message = "request " + id + " was cancelled";
    if (!resolved_by.empty()) message += " by " + resolved_by;
    return {McpToolFailure::kCancelled, message + reason + ". Do not perform the action."};
  }
  if (status == "pending") {
    return {McpToolFailure::kUnavailable, "request " + id + " is still pending"};
  }
  // dismissed, ended (conversations), or a status this build does not know: never a yes.
  return {McpToolFailure::kDenied,
          "request " + id + " ended as " + status + reason + ". Do not perform the action."};
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
  structured["reason_code"] = StringOrNull(request, "reason_code");
  structured["approved_by"] = Strings(ArrayAt(request, "resolved_by"));
  structured["arguments"] = std::move(arguments);
  structured["arguments_edited"] = edited;
  structured["comments"] = std::move(comments);
  structured["receipt"] = StringOrNull(request, "receipt");
  // What the executor needs to know: whether it must consume the receipt (POST
  // /v1/receipts/consume) before it acts, and the id it is counted by.
  const std::string jti = ReceiptJti(StringAt(request, "receipt"));
  structured["receipt_jti"] = jti.empty() ? boost::json::value(nullptr) : boost::json::value(jti);
  structured["receipt_use"] = StringOrNull(request, "receipt_use");
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
  structured["reason_code"] = StringOrNull(request, "reason_code");
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
  summary["reason_code"] = StringOrNull(request, "reason_code");
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
