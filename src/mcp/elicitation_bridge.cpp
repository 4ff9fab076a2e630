#include "mcp/elicitation_bridge.hpp"

#include <boost/json/array.hpp>

namespace countersign {
namespace {

constexpr std::size_t kMaxTitleBytes = 509;  // a 512-byte title with "..."

std::string StringAt(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string();
}

boost::json::array Choices(const char* yes_label) {
  return boost::json::array{
      boost::json::object{{"id", "approve"}, {"label", yes_label}, {"outcome", "approved"}},
      boost::json::object{{"id", "deny"}, {"label", "Decline"}, {"outcome", "denied"}}};
}

}  // namespace

Result<ElicitationMode> ReadElicitationMode(const boost::json::object& params) {
  const auto* mode = params.if_contains("mode");
  if (mode == nullptr || mode->is_null() || (mode->is_string() && mode->get_string() == "form")) {
    const auto* schema = params.if_contains("requestedSchema");
    if (schema == nullptr || !schema->is_object()) {
      return Error::Invalid("a form elicitation needs an object requestedSchema");
    }
    return ElicitationMode::kForm;
  }
  if (mode->is_string() && mode->get_string() == "url") {
    if (StringAt(params, "url").empty()) return Error::Invalid("a URL elicitation needs a url");
    return ElicitationMode::kUrl;
  }
  return Error::Invalid("unsupported elicitation mode");
}

boost::json::object ElicitationRequestBody(ElicitationMode mode, const boost::json::object& params,
                                           const McpProxyIdentity& identity, const McpGate* gate) {
  std::string message = StringAt(params, "message");
  if (message.empty()) message = identity.server + " asks for information";
  boost::json::object body{{"kind", "approval"},
                           {"action", McpActionPart("mcp." + identity.server + ".elicitation")},
                           {"title", Echo(message, kMaxTitleBytes)}};
  boost::json::object details{{"server", identity.server}, {"message", message}};
  if (mode == ElicitationMode::kForm) {
    body["response_schema"] = params.at("requestedSchema");
    body["choices"] = Choices("Answer");
  } else {
    details["url"] = StringAt(params, "url");
    details["elicitation_id"] = StringAt(params, "elicitationId");
    details["instructions"] = "Open this link, then choose Done (or Decline).";
    body["choices"] = Choices("Done");
  }
  body["details"] = std::move(details);
  if (!identity.session.empty()) body["session"] = identity.session;
  if (gate != nullptr) {
    if (!gate->approvers.empty()) {
      boost::json::array approvers;
      for (const auto& approver : gate->approvers) approvers.emplace_back(approver);
      body["approvers"] = std::move(approvers);
    }
    if (gate->timeout_seconds) body["timeout_seconds"] = *gate->timeout_seconds;
  }
  return body;
}

boost::json::object ElicitResultForRequest(ElicitationMode mode,
                                           const boost::json::object& request) {
  const std::string status = StringAt(request, "status");
  if (status == "denied") return ElicitDecline();
  if (status != "approved") return ElicitCancel();
  if (mode == ElicitationMode::kUrl) return boost::json::object{{"action", "accept"}};
  const auto* response = request.if_contains("response");
  if (response == nullptr || !response->is_object()) return ElicitDecline();
  return boost::json::object{{"action", "accept"}, {"content", *response}};
}

boost::json::object ElicitDecline() { return boost::json::object{{"action", "decline"}}; }

boost::json::object ElicitCancel() { return boost::json::object{{"action", "cancel"}}; }

}  // namespace countersign
