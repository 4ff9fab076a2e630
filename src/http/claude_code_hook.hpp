// Claude Code's http hooks as countersign reads and answers them: the pure half of
// POST /hooks/claude-code (the route is ClaudeCodeHandlers).
//
// A hook call is the JSON Claude Code would give a command hook on stdin (PROTOCOLS-AGENTS
// 3.2): PreToolUse (tool_name, tool_input, tool_use_id and the common fields session_id, cwd,
// permission_mode, transcript_path, ...) or PermissionRequest (tool_name, tool_input, optional
// permission_suggestions, no tool_use_id). ParseClaudeHookCall checks it (kMalformed, 400,
// naming the field) and keeps what countersign uses; unknown fields are ignored.
//
// ClaudeHookRequest turns it into the approval countersign asks for: action
// "claude.<tool_name>" (ClaudeToolAction), the tool's input as the arguments, the session as
// the session (so a session grant covers the tool), and, when the call has a tool_use_id, an
// idempotency key of session_id and tool_use_id, so a retried hook reaches the same request.
//
// ClaudeHookDecision renders the hook's answer once the request has left pending;
// ClaudeHookHandBack the answer when nobody decided within the wait. Every reason and message
// is at most kMaxHookText bytes (Claude Code caps its hooks' strings at 10,000 characters).
// Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/request.hpp"
#include "core/result.hpp"
#include "engine/new_request.hpp"

namespace countersign {

enum class ClaudeHookEvent { kPreToolUse, kPermissionRequest };

struct ClaudeHookCall {
  ClaudeHookEvent event = ClaudeHookEvent::kPreToolUse;
  std::string tool_name;  // as Claude Code names it: "Bash", "mcp__github__create_issue"
  boost::json::object tool_input;
  // Empty when the body has none.
  std::string session_id;
  std::string tool_use_id;
  std::string cwd;
  std::string permission_mode;
};

inline constexpr size_t kMaxToolNameBytes = 200;
inline constexpr size_t kMaxHookText = 10000;

const char* ClaudeHookEventName(ClaudeHookEvent event);

// The hook call in `body`, or kMalformed saying what is wrong. An event other than PreToolUse
// and PermissionRequest is kMalformed too: countersign decides nothing else.
Result<ClaudeHookCall> ParseClaudeHookCall(const boost::json::value& body);

// "claude." + `tool_name`, each byte outside [A-Za-z0-9_.:/-] replaced by '_', cut to 128
// bytes: always a valid action.
std::string ClaudeToolAction(std::string_view tool_name);

// The approval request `call` asks for (kind approval, default choices and timeout: the
// policies decide the rest).
NewRequest ClaudeHookRequest(const ClaudeHookCall& call);

// The arguments the approval of `request` agreed to, when an approver changed them: the
// newest approving decision's edited arguments. nullopt when nobody edited them.
std::optional<boost::json::object> EditedArguments(const Request& request);

// The answer to a hook of `event` about `request`, which is no longer pending: allow when it
// was approved (with the edited input, if any), deny otherwise, with a reason that says who
// decided and names the request.
boost::json::object ClaudeHookDecision(ClaudeHookEvent event, const Request& request);

// The answer when `waited` ran out with the request still pending (it is then cancelled):
// PreToolUse gets "ask", handing the decision back to the person at the terminal;
// PermissionRequest has no "ask", so it gets nullopt, to be answered with an empty 200 (no
// decision: Claude Code shows its own prompt).
std::optional<boost::json::object> ClaudeHookHandBack(ClaudeHookEvent event,
                                                      const std::string& request_id,
                                                      std::chrono::seconds waited);

}  // namespace countersign
