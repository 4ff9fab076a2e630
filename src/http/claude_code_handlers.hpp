// ClaudeCodeHandlers: POST /hooks/claude-code, the endpoint of Claude Code's hooks of type
// "http" (PreToolUse and PermissionRequest; PROTOCOLS-AGENTS 3.2, docs/claude-code.md).
//
// A hook call becomes a countersign approval request, created as POST /v1/requests creates one
// (SubmitRequest: policies, grants, approvers, quorum, notifications, receipts all apply),
// whose requester is the bearer token's principal. A request the engine decides at once (a
// policy with decision = "approve" or "deny", a session grant) is answered at once; otherwise
// the answer waits, without holding a thread (AnswerOnceResolved), up to `?wait=SECONDS`
// (default 540, at most 3600; Claude Code's http hooks time out after 600 s by default).
//
// Answers (ClaudeHookDecision, ClaudeHookHandBack):
//   decided   200 with the hook's JSON decision: allow when approved (with the approver's
//             edited input), deny otherwise (denied, expired, cancelled) with a reason that
//             names who decided and the request, written for Claude to read.
//   wait ran out  the request is cancelled ("handed back to Claude Code") and PreToolUse gets
//             "ask" (the person at the terminal decides); PermissionRequest, which has no
//             "ask", gets an empty 200: no decision, so Claude Code shows its own prompt.
//   refused   401 (no or bad token, with WWW-Authenticate), 400 (not a JSON object, a field of
//             the wrong type, an event other than PreToolUse and PermissionRequest), 413, 415,
//             422, 403 (a token that may not create requests), 429, 503: the usual JSON error.
// Claude Code treats every non-2xx answer as a non-blocking error: no decision is taken and
// its own permission rules and prompts apply, exactly as without the hook. That is why an
// unknown event is a 400 rather than a 2xx: nothing is allowed by it either way, and the error
// shows the person that the hook is configured for an event countersign does not decide.
// Refusals are logged at warn with their reason (a missing token is the likeliest mistake:
// the variable not listed in the hook's allowedEnvVars).
//
// When Claude Code stops waiting (the connection closes while the answer waits), the request
// is cancelled ("Claude Code stopped waiting"): nobody should decide a call that is no longer
// asked about.
//
// Thread-safe: no mutable state of its own; the gateway, authenticator and metrics must outlive
// the server's connections.
#pragma once

#include <chrono>
#include <string>

#include "auth/authenticator.hpp"
#include "engine/gateway.hpp"
#include "http/claude_code_hook.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"

namespace countersign {

struct ClaudeCodeOptions {
  // With auth off, the requester is named "claude-code" (there is no token to name it).
  bool auth_off = false;
  std::chrono::seconds default_wait{540};
  std::chrono::seconds max_wait{3600};
};

class ClaudeCodeHandlers {
 public:
  static constexpr char kPath[] = "/hooks/claude-code";
  static constexpr char kHandedBack[] = "handed back to Claude Code";
  static constexpr char kStoppedWaiting[] = "Claude Code stopped waiting";

  ClaudeCodeHandlers(Gateway& gateway, Authenticator& authenticator, Metrics& metrics,
                     ClaudeCodeOptions options = {})
      : gateway_(gateway), authenticator_(authenticator), metrics_(metrics), options_(options) {}

  void Register(Router& router);

  asio::awaitable<HttpResponse> Hook(RequestContext& ctx);

 private:
  // The answer once the wait is over, from the request as it stands then.
  asio::awaitable<HttpResponse> Finish(ClaudeHookEvent event, Actor actor,
                                       std::chrono::seconds waited,
                                       Result<Gateway::RequestPtr> current);
  // Cancels request `id` (still pending) for `actor`, and logs what came of it.
  void CancelInBackground(const Actor& actor, const std::string& id, const char* reason);

  Gateway& gateway_;
  Authenticator& authenticator_;
  Metrics& metrics_;
  ClaudeCodeOptions options_;
};

}  // namespace countersign
