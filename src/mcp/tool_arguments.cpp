#include "mcp/tool_arguments.hpp"

#include <optional>

#include "mcp/mcp_gate_set.hpp"

namespace countersign {
namespace {

constexpr size_t kMaxActionBytes = 128;
constexpr size_t kMaxTitleBytes = 512;
// A question longer than a title is cut to this many bytes plus "..." for the title, and
// kept whole in details.question.
constexpr size_t kQuestionTitleBytes = kMaxTitleBytes - 3;
constexpr std::string_view kAskHumanAction = "mcp.ask_human";

bool IsActionByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == ':' || c == '/' || c == '-';
}

// The member `key`, or nullptr when it is absent or null.
const boost::json::value* Member(const boost::json::object& arguments, std::string_view key) {
  const auto* value = arguments.if_contains(key);
  return value == nullptr || value->is_null() ? nullptr : value;
}

Result<std::optional<std::string>> OptionalString(const boost::json::object& arguments,
                                                  std::string_view key) {
  const auto* value = Member(arguments, key);
  if (value == nullptr) return std::optional<std::string>();
  if (!value->is_string()) return Error::Invalid("`" + std::string(key) + "` must be a string");
  return std::optional<std::string>(std::string(value->get_string()));
}

Result<std::string> RequiredString(const boost::json::object& arguments, std::string_view key) {
  auto text = OptionalString(arguments, key);
  if (!text.ok()) return std::move(text).error();
  if (!text->has_value() || (*text)->empty()) {
    return Error::Invalid("`" + std::string(key) + "` is required (a non-empty string)");
  }
  return std::move(**text);
}

// Copies `key` into `body` when given, checking that it is an object.
Status CopyObject(const boost::json::object& arguments, std::string_view key,
                  boost::json::object& body) {
  const auto* value = Member(arguments, key);
  if (value == nullptr) return Ok();
  if (!value->is_object()) return Error::Invalid("`" + std::string(key) + "` must be an object");
  body[key] = *value;
  return Ok();
}

// approvers (array of strings) and timeout_seconds (integer), shared by the asking tools.
Status CopyAudience(const boost::json::object& arguments, boost::json::object& body) {
  if (const auto* approvers = Member(arguments, "approvers")) {
    const auto* list = approvers->if_array();
    bool strings = list != nullptr;
    for (size_t i = 0; strings && i < list->size(); ++i) strings = (*list)[i].is_string();
    if (!strings) return Error::Invalid("`approvers` must be an array of strings");
    body["approvers"] = *approvers;
  }
  if (const auto* timeout = Member(arguments, "timeout_seconds")) {
    if (!timeout->is_int64() && !timeout->is_uint64()) {
      return Error::Invalid("`timeout_seconds` must be an integer (seconds)");
    }
    body["timeout_seconds"] = *timeout;
  }
  return Ok();
}

Result<boost::json::object> ApprovalBody(const boost::json::object& arguments) {
  auto action = RequiredString(arguments, "action");
  if (!action.ok()) return std::move(action).error();
  if (action->size() > kMaxActionBytes) {
    return Error::Invalid("`action` is over 128 bytes");
  }
  for (char c : *action) {
    if (!IsActionByte(c)) {
      return Error::Invalid(
          "`action` may hold only A-Z a-z 0-9 _ . : / - (e.g. deploy_production)");
    }
  }
  auto title = RequiredString(arguments, "title");
  if (!title.ok()) return std::move(title).error();
  auto session = OptionalString(arguments, "session");
  if (!session.ok()) return std::move(session).error();

  boost::json::object body{{"kind", "approval"}, {"action", *action}, {"title", *title}};
  CS_RETURN_IF_ERROR(CopyObject(arguments, "details", body));
  CS_RETURN_IF_ERROR(CopyObject(arguments, "arguments", body));
  CS_RETURN_IF_ERROR(CopyObject(arguments, "response_schema", body));
  CS_RETURN_IF_ERROR(CopyAudience(arguments, body));
  if (session->has_value()) body["session"] = **session;
  return body;
}

Result<boost::json::object> QuestionBody(const boost::json::object& arguments) {
  auto question = RequiredString(arguments, "question");
  if (!question.ok()) return std::move(question).error();
  boost::json::object body{{"kind", "question"}, {"action", kAskHumanAction}};
  CS_RETURN_IF_ERROR(CopyObject(arguments, "details", body));
  CS_RETURN_IF_ERROR(CopyObject(arguments, "response_schema", body));
  CS_RETURN_IF_ERROR(CopyAudience(arguments, body));
  if (question->size() <= kMaxTitleBytes) {
    body["title"] = *question;
  } else {
    body["title"] = Echo(*question, kQuestionTitleBytes);
    auto& details = body["details"];
    if (!details.is_object()) details = boost::json::object();
    details.get_object().emplace("question", *question);  // the caller's own wins
  }
  return body;
}

Result<boost::json::object> PermissionBody(const boost::json::object& arguments) {
  auto tool_name = RequiredString(arguments, "tool_name");
  if (!tool_name.ok()) return std::move(tool_name).error();
  auto tool_use_id = OptionalString(arguments, "tool_use_id");
  if (!tool_use_id.ok()) return std::move(tool_use_id).error();
  const auto* input = Member(arguments, "input");
  if (input != nullptr && !input->is_object()) return Error::Invalid("`input` must be an object");

  boost::json::object details{{"tool_name", *tool_name}};
  if (tool_use_id->has_value()) details["tool_use_id"] = **tool_use_id;
  boost::json::object body{{"kind", "approval"},
                           {"action", PermissionPromptAction(*tool_name)},
                           {"title", "Claude Code wants to use " + Echo(*tool_name, 200)}};
  body["details"] = std::move(details);
  body["arguments"] = input != nullptr ? *input : boost::json::object();
  return body;
}

}  // namespace

Result<boost::json::object> RequestBodyFor(McpTool tool, const boost::json::object& arguments) {
  switch (tool) {
    case McpTool::kRequestApproval:
      return ApprovalBody(arguments);
    case McpTool::kAskHuman:
      return QuestionBody(arguments);
    case McpTool::kPermissionPrompt:
      return PermissionBody(arguments);
    case McpTool::kGetRequest:
    case McpTool::kCancelRequest:
      break;
  }
  return Error::Internal(std::string(McpToolName(tool)) + " does not create a request");
}

Result<std::string> RequestIdArgument(const boost::json::object& arguments) {
  return RequiredString(arguments, "id");
}

Result<std::string> CancelReasonArgument(const boost::json::object& arguments) {
  auto reason = OptionalString(arguments, "reason");
  if (!reason.ok()) return std::move(reason).error();
  if (!reason->has_value() || (*reason)->empty()) return std::string(kMcpCancelReason);
  return std::move(**reason);
}

std::string PermissionPromptAction(std::string_view tool_name) {
  return McpActionPart("claude." + std::string(tool_name));
}

}  // namespace countersign
