#include "http/claude_code_hook.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace countersign {
namespace {

boost::json::value Json(std::string_view text) { return boost::json::parse(text); }

constexpr char kPreToolUse[] = R"({
  "session_id": "abc123",
  "transcript_path": "/home/u/.claude/projects/p/abc123.jsonl",
  "cwd": "/home/u/project",
  "permission_mode": "default",
  "hook_event_name": "PreToolUse",
  "tool_name": "Bash",
  "tool_input": {"command": "rm -rf build", "description": "Clean the build"},
  "tool_use_id": "toolu_01ABC"
})";

constexpr char kPermissionRequest[] = R"({
  "session_id": "abc123",
  "cwd": "/home/u/project",
  "permission_mode": "default",
  "hook_event_name": "PermissionRequest",
  "tool_name": "Edit",
  "tool_input": {"file_path": "/home/u/project/a.txt", "old_string": "a", "new_string": "b"},
  "permission_suggestions": [{"type": "setMode", "mode": "acceptEdits", "destination": "session"}]
})";

ClaudeHookCall Parsed(std::string_view text) {
  auto call = ParseClaudeHookCall(Json(text));
  EXPECT_TRUE(call.ok()) << (call.ok() ? "" : call.error().message);
  return call.ok() ? std::move(call).value() : ClaudeHookCall{};
}

Request Resolved(RequestStatus status, std::vector<std::string> by) {
  Request r;
  r.id = "req_01JD3Z6Q8W9K4M2N7P5R0S1T2V";
  r.action = "claude.Bash";
  r.arguments = Json(R"({"command": "rm -rf build"})").get_object();
  r.status = status;
  r.resolved_by = std::move(by);
  return r;
}

Decision Vote(std::string who, Outcome outcome, std::string comment) {
  Decision d;
  d.principal = std::move(who);
  d.outcome = outcome;
  d.choice = outcome == Outcome::kApproved ? "approve" : "deny";
  d.comment = std::move(comment);
  return d;
}

const boost::json::object& Output(const boost::json::object& answer) {
  return answer.at("hookSpecificOutput").as_object();
}

std::string Text(const boost::json::value& v) { return std::string(v.as_string()); }

TEST(ClaudeCodeHookTest, APreToolUseCallBecomesAnApprovalOfTheTool) {
  const ClaudeHookCall call = Parsed(kPreToolUse);
  EXPECT_EQ(call.event, ClaudeHookEvent::kPreToolUse);
  EXPECT_EQ(call.tool_name, "Bash");
  const NewRequest input = ClaudeHookRequest(call);
  EXPECT_EQ(input.kind, "approval");
  EXPECT_EQ(input.action, "claude.Bash");
  EXPECT_EQ(input.title, "Claude Code wants to use Bash");
  EXPECT_EQ(input.arguments,
            Json(R"({"command": "rm -rf build", "description": "Clean the build"})").get_object());
  EXPECT_EQ(input.session, "abc123");
  EXPECT_EQ(input.details, Json(R"({"cwd": "/home/u/project", "permission_mode": "default",
                                    "hook_event_name": "PreToolUse", "tool_use_id": "toolu_01ABC",
                                    "session_id": "abc123"})")
                               .get_object());
  EXPECT_TRUE(input.idempotency_key.starts_with("claude-code:"));
  EXPECT_FALSE(input.body_sha256.empty());
}

TEST(ClaudeCodeHookTest, TheSameToolUseGetsTheSameKeyAndAnotherGetsAnother) {
  const NewRequest first = ClaudeHookRequest(Parsed(kPreToolUse));
  const NewRequest again = ClaudeHookRequest(Parsed(kPreToolUse));
  EXPECT_EQ(first.idempotency_key, again.idempotency_key);
  EXPECT_EQ(first.body_sha256, again.body_sha256);
  ClaudeHookCall other = Parsed(kPreToolUse);
  other.tool_use_id = "toolu_02DEF";
  EXPECT_NE(ClaudeHookRequest(other).idempotency_key, first.idempotency_key);
  other = Parsed(kPreToolUse);
  other.session_id = "another";
  EXPECT_NE(ClaudeHookRequest(other).idempotency_key, first.idempotency_key);
}

TEST(ClaudeCodeHookTest, APermissionRequestHasNoToolUseIdAndSoNoIdempotencyKey) {
  const ClaudeHookCall call = Parsed(kPermissionRequest);
  EXPECT_EQ(call.event, ClaudeHookEvent::kPermissionRequest);
  const NewRequest input = ClaudeHookRequest(call);
  EXPECT_EQ(input.action, "claude.Edit");
  EXPECT_EQ(input.idempotency_key, "");
  EXPECT_EQ(input.details, Json(R"({"cwd": "/home/u/project", "permission_mode": "default",
                                    "hook_event_name": "PermissionRequest",
                                    "session_id": "abc123"})")
                               .get_object());
}

TEST(ClaudeCodeHookTest, OnlyTheFieldsPresentGoIntoTheDetails) {
  const ClaudeHookCall call =
      Parsed(R"({"hook_event_name": "PreToolUse", "tool_name": "Read", "tool_input": {}})");
  const NewRequest input = ClaudeHookRequest(call);
  EXPECT_EQ(input.details, Json(R"({"hook_event_name": "PreToolUse"})").get_object());
  EXPECT_EQ(input.session, "");
  EXPECT_EQ(input.idempotency_key, "");
}

TEST(ClaudeCodeHookTest, ToolNamesBecomeValidActions) {
  EXPECT_EQ(ClaudeToolAction("mcp__github__create_issue"), "claude.mcp__github__create_issue");
  EXPECT_EQ(ClaudeToolAction("Web Fetch!"), "claude.Web_Fetch_");
  EXPECT_EQ(ClaudeToolAction("a.b:c/d-e"), "claude.a.b:c/d-e");
  EXPECT_EQ(ClaudeToolAction("caf\xc3\xa9"), "claude.caf__");
  const std::string long_name(200, 'x');
  const std::string action = ClaudeToolAction(long_name);
  EXPECT_EQ(action.size(), 128u);
  EXPECT_EQ(action, "claude." + std::string(121, 'x'));
}

TEST(ClaudeCodeHookTest, MalformedCallsAreRefusedNamingTheField) {
  struct Case {
    const char* body;
    const char* says;
  };
  const Case cases[] = {
      {R"([1, 2])", "JSON object"},
      {R"({"tool_name": "Bash", "tool_input": {}})", "hook_event_name"},
      {R"({"hook_event_name": 3, "tool_name": "Bash", "tool_input": {}})", "hook_event_name"},
      {R"({"hook_event_name": "PostToolUse", "tool_name": "Bash", "tool_input": {}})",
       "PostToolUse"},
      {R"({"hook_event_name": "Stop"})", "Stop"},
      {R"({"hook_event_name": "PreToolUse", "tool_input": {}})", "tool_name"},
      {R"({"hook_event_name": "PreToolUse", "tool_name": "", "tool_input": {}})", "tool_name"},
      {R"({"hook_event_name": "PreToolUse", "tool_name": 7, "tool_input": {}})", "tool_name"},
      {R"({"hook_event_name": "PreToolUse", "tool_name": "a\nb", "tool_input": {}})", "tool_name"},
      {R"({"hook_event_name": "PreToolUse", "tool_name": "Bash"})", "tool_input"},
      {R"({"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": "ls"})",
       "tool_input"},
      {R"({"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {},
           "session_id": 5})",
       "session_id"},
      {R"({"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {},
           "tool_use_id": ["x"]})",
       "tool_use_id"},
      {R"({"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {},
           "cwd": {}})",
       "cwd"},
  };
  for (const auto& c : cases) {
    auto call = ParseClaudeHookCall(Json(c.body));
    ASSERT_FALSE(call.ok()) << c.body;
    EXPECT_EQ(call.error().code, ErrorCode::kMalformed) << c.body;
    EXPECT_NE(call.error().message.find(c.says), std::string::npos) << call.error().message;
  }
}

TEST(ClaudeCodeHookTest, ToolNamesAndSessionsAreBounded) {
  boost::json::object body{{"hook_event_name", "PreToolUse"},
                           {"tool_name", std::string(200, 'T')},
                           {"tool_input", boost::json::object()}};
  EXPECT_TRUE(ParseClaudeHookCall(body).ok());
  body["tool_name"] = std::string(201, 'T');
  EXPECT_FALSE(ParseClaudeHookCall(body).ok());
  body["tool_name"] = "Bash";
  body["session_id"] = std::string(128, 's');
  EXPECT_TRUE(ParseClaudeHookCall(body).ok());
  body["session_id"] = std::string(129, 's');
  EXPECT_FALSE(ParseClaudeHookCall(body).ok());
}

TEST(ClaudeCodeHookTest, NullCommonFieldsCountAsAbsent) {
  const ClaudeHookCall call = Parsed(R"({"hook_event_name": "PreToolUse", "tool_name": "Bash",
                                         "tool_input": {}, "session_id": null, "cwd": null})");
  EXPECT_EQ(call.session_id, "");
  EXPECT_EQ(call.cwd, "");
}

TEST(ClaudeCodeHookTest, AnApprovalAllowsThePreToolUseNamingWhoAndTheRequest) {
  Request r = Resolved(RequestStatus::kApproved, {"alice"});
  r.decisions.push_back(Vote("alice", Outcome::kApproved, "fine, it is only build output"));
  const auto answer = ClaudeHookDecision(ClaudeHookEvent::kPreToolUse, r);
  const auto& out = Output(answer);
  EXPECT_EQ(Text(out.at("hookEventName")), "PreToolUse");
  EXPECT_EQ(Text(out.at("permissionDecision")), "allow");
  const std::string reason = Text(out.at("permissionDecisionReason"));
  EXPECT_NE(reason.find("alice"), std::string::npos) << reason;
  EXPECT_NE(reason.find(r.id), std::string::npos) << reason;
  EXPECT_NE(reason.find("fine, it is only build output"), std::string::npos) << reason;
  EXPECT_FALSE(out.contains("updatedInput")) << "nobody edited the input";
  EXPECT_EQ(answer.size(), 1u);
}

TEST(ClaudeCodeHookTest, APolicyOrAGrantApprovalSaysSo) {
  const auto by_policy = ClaudeHookDecision(ClaudeHookEvent::kPreToolUse,
                                            Resolved(RequestStatus::kApproved, {"policy:reads"}));
  EXPECT_NE(Text(Output(by_policy).at("permissionDecisionReason")).find("policy \"reads\""),
            std::string::npos);
  const auto by_grant = ClaudeHookDecision(ClaudeHookEvent::kPreToolUse,
                                           Resolved(RequestStatus::kApproved, {"grant:grt_01X"}));
  EXPECT_NE(Text(Output(by_grant).at("permissionDecisionReason")).find("grant (grt_01X)"),
            std::string::npos);
}

TEST(ClaudeCodeHookTest, EditedArgumentsBecomeTheUpdatedInput) {
  Request r = Resolved(RequestStatus::kApproved, {"alice", "bob"});
  Decision first = Vote("alice", Outcome::kApproved, "");
  first.arguments = Json(R"({"command": "rm -rf build/tmp"})").get_object();
  Decision second = Vote("bob", Outcome::kApproved, "");
  second.arguments = Json(R"({"command": "rm -rf build/cache"})").get_object();
  r.decisions = {first, second};
  const auto pre = ClaudeHookDecision(ClaudeHookEvent::kPreToolUse, r);
  EXPECT_EQ(Output(pre).at("updatedInput"), Json(R"({"command": "rm -rf build/cache"})"))
      << "the newest edit among the approvals, as the receipt binds";
  EXPECT_NE(Text(Output(pre).at("permissionDecisionReason")).find("changed"), std::string::npos);
  const auto permission = ClaudeHookDecision(ClaudeHookEvent::kPermissionRequest, r);
  EXPECT_EQ(permission, Json(R"({"hookSpecificOutput": {"hookEventName": "PermissionRequest",
      "decision": {"behavior": "allow", "updatedInput": {"command": "rm -rf build/cache"}}}})")
                            .get_object());
}

TEST(ClaudeCodeHookTest, ArgumentsSentBackUnchangedAreNoEdit) {
  Request r = Resolved(RequestStatus::kApproved, {"alice"});
  Decision d = Vote("alice", Outcome::kApproved, "");
  d.arguments = r.arguments;
  r.decisions = {d};
  EXPECT_EQ(EditedArguments(r), std::nullopt);
  EXPECT_FALSE(
      Output(ClaudeHookDecision(ClaudeHookEvent::kPreToolUse, r)).contains("updatedInput"));
}

TEST(ClaudeCodeHookTest, APermissionRequestApprovalAlwaysCarriesTheInput) {
  const auto answer = ClaudeHookDecision(ClaudeHookEvent::kPermissionRequest,
                                         Resolved(RequestStatus::kApproved, {"alice"}));
  EXPECT_EQ(answer, Json(R"({"hookSpecificOutput": {"hookEventName": "PermissionRequest",
      "decision": {"behavior": "allow", "updatedInput": {"command": "rm -rf build"}}}})")
                        .get_object());
}

TEST(ClaudeCodeHookTest, ADenialDeniesWithWhoDeniedAndTheirComment) {
  Request r = Resolved(RequestStatus::kDenied, {"bob"});
  r.decisions.push_back(Vote("bob", Outcome::kDenied, "not on the shared build machine"));
  const auto pre = ClaudeHookDecision(ClaudeHookEvent::kPreToolUse, r);
  EXPECT_EQ(Text(Output(pre).at("permissionDecision")), "deny");
  const std::string reason = Text(Output(pre).at("permissionDecisionReason"));
  EXPECT_NE(reason.find("denied by bob"), std::string::npos) << reason;
  EXPECT_NE(reason.find("not on the shared build machine"), std::string::npos) << reason;
  EXPECT_NE(reason.find(r.id), std::string::npos) << reason;
  EXPECT_FALSE(Output(pre).contains("updatedInput"));

  const auto permission = ClaudeHookDecision(ClaudeHookEvent::kPermissionRequest, r);
  const auto& decision = Output(permission).at("decision").as_object();
  EXPECT_EQ(Text(decision.at("behavior")), "deny");
  EXPECT_EQ(Text(decision.at("message")), reason);
  EXPECT_EQ(decision.size(), 2u);
}

TEST(ClaudeCodeHookTest, ExpiredCancelledAndTimedOutRequestsAreDenied) {
  struct Case {
    RequestStatus status;
    std::vector<std::string> by;
    const char* says;
  };
  const Case cases[] = {
      {RequestStatus::kExpired, {}, "expired"},
      {RequestStatus::kCancelled, {"ci-bot"}, "cancelled by ci-bot"},
      {RequestStatus::kDenied, {}, "deadline"},
      {RequestStatus::kDenied, {"policy:no-deletes"}, "policy \"no-deletes\""},
  };
  for (const auto& c : cases) {
    const Request r = Resolved(c.status, c.by);
    const auto answer = ClaudeHookDecision(ClaudeHookEvent::kPreToolUse, r);
    EXPECT_EQ(Text(Output(answer).at("permissionDecision")), "deny") << c.says;
    const std::string reason = Text(Output(answer).at("permissionDecisionReason"));
    EXPECT_NE(reason.find(c.says), std::string::npos) << reason;
    EXPECT_NE(reason.find(r.id), std::string::npos) << reason;
  }
}

TEST(ClaudeCodeHookTest, ADenialNamesTheReasonCode) {
  struct Case {
    RequestStatus status;
    std::vector<std::string> by;
    ReasonCode code;
    const char* says;
  };
  const Case cases[] = {
      {RequestStatus::kDenied,
       {"policy:no-deletes"},
       ReasonCode::kDeniedByPolicy,
       "reason_code: denied_by_policy"},
      {RequestStatus::kDenied, {}, ReasonCode::kExpired, "reason_code: expired"},
      {RequestStatus::kExpired,
       {},
       ReasonCode::kEscalationExhausted,
       "(reason_code: escalation_exhausted)"},
      {RequestStatus::kCancelled,
       {"admin"},
       ReasonCode::kCancelledByAdmin,
       "cancelled by admin (reason_code: cancelled_by_admin)"},
  };
  for (const auto& c : cases) {
    Request r = Resolved(c.status, c.by);
    r.reason_code = c.code;
    const auto answer = ClaudeHookDecision(ClaudeHookEvent::kPreToolUse, r);
    const std::string reason = Text(Output(answer).at("permissionDecisionReason"));
    EXPECT_NE(reason.find(c.says), std::string::npos) << reason;
  }
}

TEST(ClaudeCodeHookTest, ReasonsAreCappedAtTenThousandBytes) {
  Request r = Resolved(RequestStatus::kDenied, {});
  for (int i = 0; i < 5; ++i) {
    const std::string who = "approver" + std::to_string(i);
    r.resolved_by.push_back(who);
    r.decisions.push_back(Vote(who, Outcome::kDenied, std::string(3990, 'x') + "\xc3\xa9"));
  }
  const auto pre = ClaudeHookDecision(ClaudeHookEvent::kPreToolUse, r);
  const std::string reason = Text(Output(pre).at("permissionDecisionReason"));
  EXPECT_LE(reason.size(), kMaxHookText);
  EXPECT_GT(reason.size(), kMaxHookText - 100);
  const auto permission = ClaudeHookDecision(ClaudeHookEvent::kPermissionRequest, r);
  EXPECT_LE(Output(permission).at("decision").at("message").as_string().size(), kMaxHookText);
}

TEST(ClaudeCodeHookTest, ARunOutWaitAsksForPreToolUseAndDecidesNothingForPermissionRequest) {
  const auto pre =
      ClaudeHookHandBack(ClaudeHookEvent::kPreToolUse, "req_01X", std::chrono::seconds(540));
  ASSERT_TRUE(pre.has_value());
  EXPECT_EQ(Text(Output(*pre).at("hookEventName")), "PreToolUse");
  EXPECT_EQ(Text(Output(*pre).at("permissionDecision")), "ask");
  const std::string reason = Text(Output(*pre).at("permissionDecisionReason"));
  EXPECT_NE(reason.find("540 s"), std::string::npos) << reason;
  EXPECT_NE(reason.find("req_01X"), std::string::npos) << reason;
  EXPECT_EQ(
      ClaudeHookHandBack(ClaudeHookEvent::kPermissionRequest, "req_01X", std::chrono::seconds(540)),
      std::nullopt);
}

}  // namespace
}  // namespace countersign
