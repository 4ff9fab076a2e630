#include "mcp/tool_progress.hpp"

#include <string_view>

namespace countersign {
namespace {

std::string StringAt(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string();
}

}  // namespace

std::string McpWaitingMessage(McpTool tool, const boost::json::object& request) {
  std::string from;
  if (const auto* approvers = request.if_contains("approvers");
      approvers && approvers->is_array()) {
    for (const auto& approver : approvers->get_array()) {
      if (!approver.is_string()) continue;
      if (!from.empty()) from += ", ";
      from += std::string(approver.get_string());
    }
  }
  if (from.empty()) from = tool == McpTool::kAskHuman ? "anyone who may answer" : "any approver";
  const char* what = tool == McpTool::kAskHuman ? "an answer" : "approval";
  return std::string("waiting for ") + what + " from " + from + " (request " +
         StringAt(request, "id") + ", deadline " + StringAt(request, "deadline_at") + ")";
}

boost::json::object McpProgressParams(const boost::json::value& progress_token,
                                      std::int64_t progress, const std::string& message) {
  return boost::json::object{
      {"progressToken", progress_token}, {"progress", progress}, {"message", message}};
}

}  // namespace countersign
