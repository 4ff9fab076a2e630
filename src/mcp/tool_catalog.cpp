#include "mcp/tool_catalog.hpp"

#include <array>
#include <cstdlib>
#include <iostream>

#include <boost/json/parse.hpp>

namespace countersign {
namespace {

constexpr std::array<McpTool, 5> kTools = {McpTool::kRequestApproval, McpTool::kAskHuman,
                                           McpTool::kGetRequest, McpTool::kCancelRequest,
                                           McpTool::kPermissionPrompt};

// The definitions as JSON text, in the order of kTools: easier to review than built-up
// objects. Parsed once; a typo here fails every test.
constexpr const char* kDefinitions = R"json([
{
  "name": "request_approval",
  "title": "Ask a human to approve an action",
  "description": "Ask a human to approve an action before you perform it, and wait for the decision. Use it before anything risky, irreversible or outside what you were asked to do (deploying, deleting data, spending money, messaging people on someone's behalf). Put the exact call you will make in `arguments`: approvers see it and may edit it, and once approved you must use the returned `arguments`, not your own. The call blocks until a person decides or the deadline passes, reporting progress while it waits. Approved: the result names the approvers and carries `receipt`, a signed proof of the approval. Denied, expired or cancelled: the result is an error whose text starts with the reason (`denied:`, `expired:`, `cancelled:`), says who decided and why, and names the exact reason code, e.g. `(reason_code: denied_by_policy)`; do not perform the action.",
  "inputSchema": {
    "type": "object",
    "properties": {
      "action": {"type": "string", "pattern": "^[A-Za-z0-9_.:/-]{1,128}$", "description": "What is to be done, as a short machine name, e.g. deploy_production or db.drop_table. The gateway's policies match on it."},
      "title": {"type": "string", "minLength": 1, "maxLength": 512, "description": "One line for the approvers, e.g. \"Deploy v2.0 to production\"."},
      "details": {"type": "object", "description": "Context for the approvers (why, ticket, what changes), as a JSON object."},
      "arguments": {"type": "object", "description": "The exact call you will make if approved, as a JSON object. Approvers may edit it."},
      "response_schema": {"type": "object", "description": "A form the approver fills in to approve (a flat JSON Schema object of string, number, integer, boolean and enum properties, as in MCP elicitation), e.g. a change ticket number or a maintenance window. The filled-in form comes back in `response`."},
      "approvers": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 128}, "maxItems": 100, "description": "Who may decide: principal names or group:NAME. Leave it out to let the gateway's policy choose."},
      "timeout_seconds": {"type": "integer", "minimum": 1, "maximum": 2592000, "description": "Seconds the people have before the request expires (default: the gateway's, usually 300)."},
      "session": {"type": "string", "maxLength": 128, "description": "A label for your session or task, so approvers can see related requests together."}
    },
    "required": ["action", "title"]
  },
  "outputSchema": {
    "type": "object",
    "properties": {
      "request_id": {"type": "string"},
      "status": {"type": "string", "enum": ["approved"]},
      "reason_code": {"type": ["string", "null"], "enum": ["approved", "approved_by_grant", "approved_by_policy", null], "description": "How it was approved: by people (approved), by a standing grant, or by a policy."},
      "approved_by": {"type": "array", "items": {"type": "string"}},
      "arguments": {"type": "object", "description": "The arguments to use: the approver's edit when there was one, else yours."},
      "arguments_edited": {"type": "boolean"},
      "comments": {"type": "array", "items": {"type": "object", "properties": {"by": {"type": "string"}, "comment": {"type": "string"}}, "required": ["by", "comment"]}},
      "receipt": {"type": ["string", "null"], "description": "The signed approval receipt (a compact JWS), verifiable against the gateway's GET /v1/keys."},
      "receipt_jti": {"type": ["string", "null"], "description": "The receipt's unique id (its jti claim), by which POST /v1/receipts/consume counts its uses."},
      "receipt_use": {"type": ["string", "null"], "enum": ["reusable", "single_use", null], "description": "single_use: whoever performs the action must consume the receipt (POST /v1/receipts/consume) first, and must not perform it when that is refused."},
      "response": {"type": "object", "description": "The form the approver filled in, when response_schema was given; its hash is in the receipt."}
    },
    "required": ["request_id", "status", "approved_by", "arguments", "arguments_edited", "comments", "receipt"]
  },
  "annotations": {"title": "Ask a human to approve an action", "readOnlyHint": false, "destructiveHint": false, "idempotentHint": false, "openWorldHint": true}
},
{
  "name": "ask_human",
  "title": "Ask a human a question",
  "description": "Ask a human a question and wait for the answer, when you need a fact, a preference or a judgement that only a person can give. The call blocks until someone answers or the deadline passes, reporting progress while it waits. The answer comes back as text in `answer`; give `response_schema` (a JSON Schema object) to ask for a structured answer as well, returned in `response` when the person gives one. Expired or cancelled: the result is an error whose text starts with the reason.",
  "inputSchema": {
    "type": "object",
    "properties": {
      "question": {"type": "string", "minLength": 1, "description": "The question, in one or two sentences."},
      "details": {"type": "object", "description": "Context for the person answering, as a JSON object."},
      "response_schema": {"type": "object", "description": "A JSON Schema for a structured answer, passed to the gateway as is."},
      "approvers": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 128}, "maxItems": 100, "description": "Who may answer: principal names or group:NAME. Leave it out to let the gateway's policy choose."},
      "timeout_seconds": {"type": "integer", "minimum": 1, "maximum": 2592000, "description": "Seconds the people have before the question expires (default: the gateway's, usually 300)."}
    },
    "required": ["question"]
  },
  "outputSchema": {
    "type": "object",
    "properties": {
      "request_id": {"type": "string"},
      "status": {"type": "string", "enum": ["answered"]},
      "reason_code": {"type": ["string", "null"]},
      "answer": {"type": "string"},
      "answered_by": {"type": "string"},
      "response": {"type": "object", "description": "The structured answer, when response_schema was given and the person gave one."}
    },
    "required": ["request_id", "status", "answer", "answered_by"]
  },
  "annotations": {"title": "Ask a human a question", "readOnlyHint": false, "destructiveHint": false, "idempotentHint": false, "openWorldHint": true}
},
{
  "name": "get_request",
  "title": "Read a countersign request",
  "description": "Read a request made earlier (by request_approval or ask_human) as it stands now: its status (pending, approved, denied, answered, expired, cancelled), the decisions so far, the answer and the receipt. Does not wait.",
  "inputSchema": {
    "type": "object",
    "properties": {
      "id": {"type": "string", "pattern": "^req_", "description": "The request id, req_..."}
    },
    "required": ["id"]
  },
  "outputSchema": {"$ref": "#summary"},
  "annotations": {"title": "Read a countersign request", "readOnlyHint": true, "destructiveHint": false, "idempotentHint": true, "openWorldHint": false}
},
{
  "name": "cancel_request",
  "title": "Cancel a pending countersign request",
  "description": "Cancel a pending request you made, for example when the action is no longer needed. The people are told it was withdrawn. A request that is already decided cannot be cancelled (the result is an error starting with `conflict:`).",
  "inputSchema": {
    "type": "object",
    "properties": {
      "id": {"type": "string", "pattern": "^req_", "description": "The request id, req_..."},
      "reason": {"type": "string", "maxLength": 4000, "description": "Why it is cancelled, recorded in the audit log."}
    },
    "required": ["id"]
  },
  "outputSchema": {"$ref": "#summary"},
  "annotations": {"title": "Cancel a pending countersign request", "readOnlyHint": false, "destructiveHint": true, "idempotentHint": false, "openWorldHint": false}
},
{
  "name": "permission_prompt",
  "title": "Ask a human whether Claude Code may use a tool",
  "description": "Claude Code's permission prompt (claude -p --permission-prompt-tool mcp__countersign__permission_prompt): asks a human whether the tool may run with this input and waits. Returns, as JSON text, {\"behavior\":\"allow\",\"updatedInput\":{...}} (the input, as the approver may have edited it) or {\"behavior\":\"deny\",\"message\":\"...\"}.",
  "inputSchema": {
    "type": "object",
    "properties": {
      "tool_name": {"type": "string", "minLength": 1, "description": "The tool Claude Code wants to use, e.g. Bash or mcp__github__create_issue."},
      "input": {"type": "object", "description": "The tool's input."},
      "tool_use_id": {"type": "string", "description": "Claude Code's id of this tool use."}
    },
    "required": ["tool_name", "input"]
  },
  "outputSchema": {
    "type": "object",
    "properties": {
      "behavior": {"type": "string", "enum": ["allow", "deny"]},
      "updatedInput": {"type": "object"},
      "message": {"type": "string"}
    },
    "required": ["behavior"]
  },
  "annotations": {"title": "Ask a human whether Claude Code may use a tool", "readOnlyHint": false, "destructiveHint": false, "idempotentHint": false, "openWorldHint": true}
}
])json";

// What get_request and cancel_request return: the request as it stands (tool_results.hpp).
constexpr const char* kSummarySchema = R"json({
  "type": "object",
  "properties": {
    "request_id": {"type": "string"},
    "kind": {"type": "string"},
    "action": {"type": "string"},
    "title": {"type": "string"},
    "status": {"type": "string", "enum": ["pending", "approved", "denied", "answered", "expired", "cancelled", "dismissed", "ended"]},
    "requester": {"type": "string"},
    "created_at": {"type": "string"},
    "deadline_at": {"type": "string"},
    "resolved_at": {"type": ["string", "null"]},
    "reason_code": {"type": ["string", "null"], "description": "Why it left pending: approved, approved_by_grant, approved_by_policy, denied_by_person, denied_by_policy, expired, cancelled_by_requester, cancelled_by_admin, escalation_exhausted, answered, dismissed or ended; null while pending."},
    "resolved_by": {"type": "array", "items": {"type": "string"}},
    "arguments": {"type": "object"},
    "decisions": {"type": "array", "items": {"type": "object", "properties": {"by": {"type": "string"}, "choice": {"type": "string"}, "outcome": {"type": "string"}, "comment": {"type": "string"}, "at": {"type": "string"}}, "required": ["by", "choice", "outcome"]}},
    "answer": {"type": ["string", "null"]},
    "response": {"type": ["object", "null"]},
    "receipt": {"type": ["string", "null"]}
  },
  "required": ["request_id", "kind", "action", "title", "status", "resolved_by", "decisions"]
})json";

boost::json::array ParseDefinitions() {
  boost::system::error_code definitions_ec;
  boost::system::error_code summary_ec;
  boost::json::value definitions = boost::json::parse(kDefinitions, definitions_ec);
  const boost::json::value summary = boost::json::parse(kSummarySchema, summary_ec);
  if (definitions_ec || summary_ec || !definitions.is_array() ||
      definitions.get_array().size() != kTools.size()) {
    // A broken constant of this file: no caller could do anything useful.
    std::cerr << "countersign: internal error: the MCP tool definitions do not parse\n";
    std::abort();
  }
  for (auto& definition : definitions.get_array()) {
    auto& output = definition.as_object()["outputSchema"];
    if (output.as_object().contains("$ref")) output = summary;
  }
  return std::move(definitions.get_array());
}

}  // namespace

std::optional<McpTool> FindMcpTool(std::string_view name) {
  for (McpTool tool : kTools) {
    if (McpToolName(tool) == name) return tool;
  }
  return std::nullopt;
}

std::string_view McpToolName(McpTool tool) {
  switch (tool) {
    case McpTool::kRequestApproval:
      return "request_approval";
    case McpTool::kAskHuman:
      return "ask_human";
    case McpTool::kGetRequest:
      return "get_request";
    case McpTool::kCancelRequest:
      return "cancel_request";
    case McpTool::kPermissionPrompt:
      return "permission_prompt";
  }
  return "";
}

bool McpToolWaits(McpTool tool) {
  return tool == McpTool::kRequestApproval || tool == McpTool::kAskHuman ||
         tool == McpTool::kPermissionPrompt;
}

const boost::json::array& McpToolDefinitions() {
  static const boost::json::array definitions = ParseDefinitions();
  return definitions;
}

const boost::json::object& McpToolDefinition(McpTool tool) {
  return McpToolDefinitions().at(static_cast<size_t>(tool)).get_object();
}

}  // namespace countersign
