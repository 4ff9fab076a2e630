#include "http/claude_code_hook.hpp"

#include <utility>
#include <vector>

#include "core/canonical_json.hpp"
#include "core/sha256.hpp"
#include "core/utf8_text.hpp"
#include "engine/field_rules.hpp"

namespace countersign {
namespace {

constexpr std::string_view kActionPrefix = "claude.";
constexpr size_t kMaxActionBytes = 128;
// Generous bounds for the common fields: a path may be long, the rest are short tokens.
constexpr size_t kMaxCwdBytes = 4096;
constexpr size_t kMaxFieldBytes = 256;
constexpr std::string_view kDenySuffix =
    " Do not retry the same call; change your approach or ask the user.";

bool IsActionChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == ':' || c == '/' || c == '-';
}

// The optional string field `key` of `body` into `out` (absent or null: left empty).
Status OptionalString(const boost::json::object& body, const char* key, size_t max_bytes,
                      std::string& out) {
  const auto* v = body.if_contains(key);
  if (!v || v->is_null()) return Ok();
  if (!v->is_string()) return Error::Malformed(std::string(key) + " must be a string");
  std::string_view text = v->get_string();
  if (text.size() > max_bytes) {
    return Error::Malformed(std::string(key) + " is longer than " + std::to_string(max_bytes) +
                            " bytes");
  }
  if (HasControlChars(text)) {
    return Error::Malformed(std::string(key) + " holds a control character");
  }
  out = std::string(text);
  return Ok();
}

std::string Capped(std::string text) { return ValidUtf8(text, kMaxHookText); }

// "alice", "alice and bob", "alice, bob and carol"; "policy:reads" reads as policy "reads".
std::string Names(const std::vector<std::string>& resolved_by) {
  std::string out;
  for (size_t i = 0; i < resolved_by.size(); ++i) {
    if (i > 0) out += i + 1 == resolved_by.size() ? " and " : ", ";
    const std::string& who = resolved_by[i];
    if (who.starts_with("policy:")) {
      out += "countersign policy \"" + who.substr(7) + "\"";
    } else if (who.starts_with("grant:")) {
      out += "a standing grant (" + who.substr(6) + ")";
    } else {
      out += who;
    }
  }
  return out;
}

// ` alice said: "ok"; bob said: "fine".` for the decisions that led to `outcome`.
std::string Comments(const Request& r, Outcome outcome) {
  std::string out;
  for (const auto& d : r.decisions) {
    if (d.outcome != outcome || d.comment.empty()) continue;
    out += out.empty() ? " " : "; ";
    out += d.principal + " said: \"" + d.comment + "\"";
  }
  if (!out.empty()) out += ".";
  return out;
}

std::string AllowReason(const Request& r, bool edited) {
  std::string out = "Approved in countersign by " + Names(r.resolved_by) + " (request " + r.id +
                    ")." + Comments(r, Outcome::kApproved);
  if (edited) out += " The approver changed the tool's input; it runs as approved.";
  return out;
}

// " (reason_code: CODE)", or "" for a request without one: the machine-readable reason
// (denied_by_person, denied_by_policy, expired, escalation_exhausted, ...) next to the words.
std::string ReasonCodeNote(const Request& r) {
  if (r.reason_code == ReasonCode::kNone) return "";
  return std::string(" (reason_code: ") + ReasonCodeName(r.reason_code) + ")";
}

std::string DenyReason(const Request& r) {
  const std::string request = "countersign request " + r.id;
  // Inside the parentheses that name the request.
  const std::string named = r.reason_code == ReasonCode::kNone
                                ? request
                                : request + ", reason_code: " + ReasonCodeName(r.reason_code);
  switch (r.status) {
    case RequestStatus::kDenied:
      if (r.resolved_by.empty()) {
        return "Nobody approved this call in countersign before its deadline, so it is denied (" +
               named + ")." + std::string(kDenySuffix);
      }
      return "A reviewer denied this call in countersign: denied by " + Names(r.resolved_by) +
             " (" + named + ")." + Comments(r, Outcome::kDenied) + std::string(kDenySuffix);
    case RequestStatus::kExpired:
      return "Nobody decided " + request + " before it expired" + ReasonCodeNote(r) +
             ", so this call is not allowed. Ask the user before trying it again.";
    case RequestStatus::kCancelled:
      return request + " for this call was cancelled" +
             (r.resolved_by.empty() ? std::string() : " by " + Names(r.resolved_by)) +
             ReasonCodeNote(r) + ", so the call is not allowed." + std::string(kDenySuffix);
    default:
      return request + " ended as " + StatusName(r.status) + ReasonCodeNote(r) +
             ", so this call is not allowed." + std::string(kDenySuffix);
  }
}

boost::json::object HookOutput(ClaudeHookEvent event, boost::json::object fields) {
  boost::json::object out{{"hookEventName", ClaudeHookEventName(event)}};
  for (auto& [key, value] : fields) out[key] = std::move(value);
  return boost::json::object{{"hookSpecificOutput", std::move(out)}};
}

}  // namespace

const char* ClaudeHookEventName(ClaudeHookEvent event) {
  switch (event) {
    case ClaudeHookEvent::kPreToolUse:
      return "PreToolUse";
    case ClaudeHookEvent::kPermissionRequest:
      return "PermissionRequest";
  }
  return "PreToolUse";
}

Result<ClaudeHookCall> ParseClaudeHookCall(const boost::json::value& body) {
  if (!body.is_object()) return Error::Malformed("the body must be a JSON object");
  const auto& o = body.get_object();
  ClaudeHookCall call;

  const auto* event = o.if_contains("hook_event_name");
  if (!event || !event->is_string()) {
    return Error::Malformed("hook_event_name must be a string");
  }
  if (event->get_string() == "PreToolUse") {
    call.event = ClaudeHookEvent::kPreToolUse;
  } else if (event->get_string() == "PermissionRequest") {
    call.event = ClaudeHookEvent::kPermissionRequest;
  } else {
    return Error::Malformed("hook_event_name \"" + ValidUtf8(event->get_string(), 64) +
                            "\" is not an event countersign decides: configure this hook for "
                            "PreToolUse or PermissionRequest only");
  }

  const auto* tool_name = o.if_contains("tool_name");
  if (!tool_name || !tool_name->is_string() || tool_name->get_string().empty()) {
    return Error::Malformed("tool_name must be a non-empty string");
  }
  if (tool_name->get_string().size() > kMaxToolNameBytes) {
    return Error::Malformed("tool_name is longer than " + std::to_string(kMaxToolNameBytes) +
                            " bytes");
  }
  if (HasControlChars(tool_name->get_string())) {
    return Error::Malformed("tool_name holds a control character");
  }
  call.tool_name = std::string(tool_name->get_string());

  const auto* tool_input = o.if_contains("tool_input");
  if (!tool_input || !tool_input->is_object()) {
    return Error::Malformed("tool_input must be an object");
  }
  call.tool_input = tool_input->get_object();

  // The engine takes a session of at most kMaxShortText printable bytes.
  CS_RETURN_IF_ERROR(OptionalString(o, "session_id", kMaxShortText, call.session_id));
  CS_RETURN_IF_ERROR(OptionalString(o, "tool_use_id", kMaxFieldBytes, call.tool_use_id));
  CS_RETURN_IF_ERROR(OptionalString(o, "cwd", kMaxCwdBytes, call.cwd));
  CS_RETURN_IF_ERROR(OptionalString(o, "permission_mode", kMaxFieldBytes, call.permission_mode));
  return call;
}

std::string ClaudeToolAction(std::string_view tool_name) {
  std::string out(kActionPrefix);
  for (char c : tool_name) {
    if (out.size() >= kMaxActionBytes) break;
    out += IsActionChar(c) ? c : '_';
  }
  return out;
}

NewRequest ClaudeHookRequest(const ClaudeHookCall& call) {
  NewRequest input;
  input.kind = "approval";
  input.action = ClaudeToolAction(call.tool_name);
  input.title = "Claude Code wants to use " + call.tool_name;
  auto detail = [&](const char* key, const std::string& value) {
    if (!value.empty()) input.details[key] = value;
  };
  detail("cwd", call.cwd);
  detail("permission_mode", call.permission_mode);
  input.details["hook_event_name"] = ClaudeHookEventName(call.event);
  detail("tool_use_id", call.tool_use_id);
  detail("session_id", call.session_id);
  input.arguments = call.tool_input;
  input.session = call.session_id;
  if (!call.tool_use_id.empty()) {
    // Hashed: always a short, printable key, however long the two ids are.
    input.idempotency_key = "claude-code:" + Sha256Hex(call.session_id + '\n' + call.tool_use_id);
    // A retry is recognised by what the request is made of, not by the bytes of the body.
    const boost::json::object made_of{{"action", input.action},
                                      {"title", input.title},
                                      {"details", input.details},
                                      {"arguments", input.arguments},
                                      {"session", input.session}};
    input.body_sha256 = Sha256Hex(CanonicalJson(made_of));
  }
  return input;
}

std::optional<boost::json::object> EditedArguments(const Request& request) {
  std::optional<boost::json::object> out;
  for (const auto& d : request.decisions) {
    if (d.outcome == Outcome::kApproved && d.arguments) out = *d.arguments;
  }
  if (out && *out == request.arguments) return std::nullopt;
  return out;
}

boost::json::object ClaudeHookDecision(ClaudeHookEvent event, const Request& request) {
  const bool allowed = request.status == RequestStatus::kApproved;
  const std::optional<boost::json::object> edited =
      allowed ? EditedArguments(request) : std::nullopt;
  const std::string reason =
      Capped(allowed ? AllowReason(request, edited.has_value()) : DenyReason(request));
  if (event == ClaudeHookEvent::kPreToolUse) {
    boost::json::object fields{{"permissionDecision", allowed ? "allow" : "deny"},
                               {"permissionDecisionReason", reason}};
    if (edited) fields["updatedInput"] = *edited;
    return HookOutput(event, std::move(fields));
  }
  boost::json::object decision;
  if (allowed) {
    decision = {{"behavior", "allow"}, {"updatedInput", edited ? *edited : request.arguments}};
  } else {
    decision = {{"behavior", "deny"}, {"message", reason}};
  }
  return HookOutput(event, boost::json::object{{"decision", std::move(decision)}});
}

std::optional<boost::json::object> ClaudeHookHandBack(ClaudeHookEvent event,
                                                      const std::string& request_id,
                                                      std::chrono::seconds waited) {
  if (event == ClaudeHookEvent::kPermissionRequest) return std::nullopt;
  const std::string reason =
      "Nobody decided in countersign within " + std::to_string(waited.count()) +
      " s, so the decision is yours (request " + request_id + " was cancelled).";
  return HookOutput(event, boost::json::object{{"permissionDecision", "ask"},
                                               {"permissionDecisionReason", Capped(reason)}});
}

}  // namespace countersign
