"""POST /hooks/claude-code: Claude Code's http hooks, answered with countersign's decisions.

The bodies under claude_code/ are hook calls as Claude Code sends them (PROTOCOLS-AGENTS 3.2).
A hook that has to wait runs in a thread; the test decides through the v1 API meanwhile and
then reads the hook's answer. Nothing sleeps to wait for state: the tests poll the API, with a
bound, for what they need to see.
"""

import copy
import json
import os
import queue
import shutil
import tempfile
import threading
import unittest

import harness
from harness import ServerTestCase
from test_longpoll import waiters

HERE = os.path.dirname(os.path.abspath(__file__))
PATH = "/hooks/claude-code"
POLL_BOUND = 30.0

CONFIG = """
[[policy]]
name = "claude-read-only"
match = { action = "claude.Read" }
decision = "approve"
"""


def recorded(name):
    with open(os.path.join(HERE, "claude_code", name + ".json")) as f:
        return json.load(f)


def poll_until(condition, what):
    """condition()'s first true value, polling the server's state within POLL_BOUND."""
    return harness.poll(condition, what, POLL_BOUND)


class ClaudeCodeHookTest(ServerTestCase):
    def setUp(self):
        config_dir = tempfile.mkdtemp(prefix="countersign-claude-")
        self.addCleanup(shutil.rmtree, config_dir, True)
        config = os.path.join(config_dir, "countersign.toml")
        with open(config, "w") as f:
            f.write(CONFIG)
        self.extra_args = ["--config", config]
        super().setUp()
        s = self.server
        self.claude = s.create_token("dev-laptop", "agent")
        self.alice = s.create_token("alice", "approver")
        self.bob = s.create_token("bob", "approver")

    # -- helpers -----------------------------------------------------------------------------
    def hook(self, body, wait=None, token="claude"):
        path = PATH if wait is None else f"{PATH}?wait={wait}"
        if token == "claude":
            token = self.claude
        return self.server.call("POST", path, body, token=token)

    def hook_in_background(self, body, wait=None):
        answers = queue.Queue()
        thread = threading.Thread(target=lambda: answers.put(self.hook(body, wait)), daemon=True)
        thread.start()
        return answers

    def requests_of_claude(self, status=None):
        query = "requester=dev-laptop" + (f"&status={status}" if status else "")
        r = self.server.call("GET", f"/v1/requests?{query}")
        self.assertEqual(r.status, 200, r)
        return r.json["requests"]

    def pending_request(self):
        """The one request the hook created, once it is there."""
        pending = poll_until(lambda: self.requests_of_claude("pending"), "a pending request")
        self.assertEqual(len(pending), 1, pending)
        return pending[0]

    def wait_for_waiters(self, count):
        poll_until(lambda: waiters(self.server) >= count, f"{count} waiters")

    def decide(self, rid, token, choice="approve", **extra):
        r = self.server.call("POST", f"/v1/requests/{rid}/decisions",
                             dict(choice=choice, **extra), token=token)
        self.assertEqual(r.status, 200, r)
        return r.json

    def output(self, answer):
        self.assertEqual(answer.status, 200, answer)
        self.assertIn("hookSpecificOutput", answer.json, answer)
        return answer.json["hookSpecificOutput"]

    # -- authentication and validation -------------------------------------------------------
    def test_a_call_without_a_valid_token_is_401_with_www_authenticate(self):
        for token in (None, "cs_notatokenatallnotatokenatallnotatokenatall0"):
            r = self.hook(recorded("pre_tool_use_bash"), token=token)
            self.assertEqual(r.status, 401, r)
            self.assertTrue(r.headers.get("WWW-Authenticate", "").startswith("Bearer"), r.headers)
            self.assertEqual(r.json["error"]["code"], "unauthorized")
        self.assertEqual(self.requests_of_claude(), [])
        self.assertIn("/hooks/claude-code refused (401)", self.server.read_log())

    def test_malformed_calls_and_unknown_events_are_400_and_create_nothing(self):
        bash = recorded("pre_tool_use_bash")
        r = self.server.call("POST", PATH, raw=b'{"hook_event_name": "PreToolUse",',
                             token=self.claude)
        self.assertEqual(r.status, 400, r)
        self.assertEqual(self.hook([bash]).status, 400)
        cases = [
            ({"tool_input": "rm -rf build"}, "tool_input"),
            ({"tool_name": 12}, "tool_name"),
            ({"tool_name": ""}, "tool_name"),
            ({"tool_name": "T" * 201}, "tool_name"),
            ({"session_id": 7}, "session_id"),
            ({"hook_event_name": "PostToolUse"}, "PostToolUse"),
            ({"hook_event_name": "UserPromptSubmit"}, "UserPromptSubmit"),
        ]
        for change, says in cases:
            body = copy.deepcopy(bash)
            body.update(change)
            r = self.hook(body)
            self.assertEqual(r.status, 400, (change, r))
            self.assertEqual(r.json["error"]["code"], "malformed", r)
            self.assertIn(says, r.json["error"]["message"])
        body = copy.deepcopy(bash)
        del body["hook_event_name"]
        self.assertEqual(self.hook(body).status, 400)
        self.assertEqual(self.hook(bash, wait="soon").status, 400)
        self.assertEqual(self.hook(bash, wait=3601).status, 422)
        self.assertEqual(self.requests_of_claude(), [])
        self.assertIn("/hooks/claude-code refused (400)", self.server.read_log())

    # -- decided at once ---------------------------------------------------------------------
    def test_a_read_allowed_by_policy_is_answered_at_once(self):
        out = self.output(self.hook(recorded("pre_tool_use_read")))
        self.assertEqual(out["hookEventName"], "PreToolUse")
        self.assertEqual(out["permissionDecision"], "allow")
        self.assertIn('policy "claude-read-only"', out["permissionDecisionReason"])
        self.assertNotIn("updatedInput", out)
        [req] = self.requests_of_claude()
        self.assertEqual(req["status"], "approved")
        self.assertEqual(req["action"], "claude.Read")
        self.assertEqual(req["resolved_by"], ["policy:claude-read-only"])
        self.assertIn(req["id"], out["permissionDecisionReason"])

    # -- decided while the hook waits --------------------------------------------------------
    def test_bash_approved_by_another_principal_while_the_hook_waits_is_allowed(self):
        bash = recorded("pre_tool_use_bash")
        answers = self.hook_in_background(bash)
        req = self.pending_request()
        self.assertEqual(req["kind"], "approval")
        self.assertEqual(req["action"], "claude.Bash")
        self.assertEqual(req["title"], "Claude Code wants to use Bash")
        self.assertEqual(req["arguments"], bash["tool_input"])
        self.assertEqual(req["requester"], "dev-laptop")
        self.assertEqual(req["session"], bash["session_id"])
        self.assertEqual(req["details"], {
            "cwd": bash["cwd"], "permission_mode": "default", "hook_event_name": "PreToolUse",
            "tool_use_id": bash["tool_use_id"], "session_id": bash["session_id"]})
        self.decide(req["id"], self.alice, comment="only build output")
        out = self.output(answers.get(timeout=30))
        self.assertEqual(out["permissionDecision"], "allow")
        reason = out["permissionDecisionReason"]
        self.assertIn("alice", reason)
        self.assertIn(req["id"], reason)
        self.assertIn("only build output", reason)
        self.assertNotIn("updatedInput", out)
        self.assertIsNotNone(self.server.get_request(req["id"])["receipt"])

    def test_an_approval_with_edited_arguments_updates_the_input(self):
        answers = self.hook_in_background(recorded("pre_tool_use_bash"))
        req = self.pending_request()
        edited = {"command": "rm -rf build/tmp", "description": "Remove only the scratch files"}
        self.decide(req["id"], self.alice, arguments=edited)
        out = self.output(answers.get(timeout=30))
        self.assertEqual(out["permissionDecision"], "allow")
        self.assertEqual(out["updatedInput"], edited)

    def test_a_denied_mcp_tool_is_denied_with_the_comment_for_claude(self):
        issue = recorded("pre_tool_use_mcp_github")
        answers = self.hook_in_background(issue)
        req = self.pending_request()
        self.assertEqual(req["action"], "claude.mcp__github__create_issue")
        self.assertEqual(req["arguments"], issue["tool_input"])
        self.decide(req["id"], self.bob, "deny", comment="file it in the tracker, not on GitHub")
        out = self.output(answers.get(timeout=30))
        self.assertEqual(out["permissionDecision"], "deny")
        reason = out["permissionDecisionReason"]
        self.assertIn("bob", reason)
        self.assertIn("file it in the tracker, not on GitHub", reason)
        self.assertIn(req["id"], reason)

    def test_a_permission_request_is_answered_with_behavior_allow_or_deny(self):
        edit = recorded("permission_request_edit")
        answers = self.hook_in_background(edit)
        req = self.pending_request()
        self.assertEqual(req["action"], "claude.Edit")
        self.decide(req["id"], self.alice)
        answer = answers.get(timeout=30)
        self.assertEqual(answer.status, 200, answer)
        self.assertEqual(answer.json, {"hookSpecificOutput": {
            "hookEventName": "PermissionRequest",
            "decision": {"behavior": "allow", "updatedInput": edit["tool_input"]}}})

        answers = self.hook_in_background(edit)  # no tool_use_id: a new request
        req = self.pending_request()
        self.decide(req["id"], self.bob, "deny", comment="not that file")
        out = self.output(answers.get(timeout=30))
        self.assertEqual(out["hookEventName"], "PermissionRequest")
        self.assertEqual(out["decision"]["behavior"], "deny")
        self.assertIn("not that file", out["decision"]["message"])
        self.assertNotIn("updatedInput", out["decision"])

    def test_a_session_grant_allows_the_next_call_of_that_tool_at_once(self):
        bash = recorded("pre_tool_use_bash")
        answers = self.hook_in_background(bash)
        req = self.pending_request()
        self.decide(req["id"], self.alice, grant={"scope": "session", "ttl_seconds": 3600})
        self.assertEqual(self.output(answers.get(timeout=30))["permissionDecision"], "allow")
        again = copy.deepcopy(bash)
        again["tool_use_id"] = "toolu_01Zz9yX8wV7uT6sR5qP4oN3m"
        again["tool_input"] = {"command": "ls build"}
        out = self.output(self.hook(again))
        self.assertEqual(out["permissionDecision"], "allow")
        self.assertIn("grant", out["permissionDecisionReason"])

    # -- nobody decides ----------------------------------------------------------------------
    def test_a_run_out_wait_hands_back_to_claude_code_and_cancels_the_request(self):
        out = self.output(self.hook(recorded("pre_tool_use_bash"), wait=1))
        self.assertEqual(out["permissionDecision"], "ask")
        [req] = self.requests_of_claude()
        self.assertEqual(req["status"], "cancelled")
        self.assertIn(req["id"], out["permissionDecisionReason"])
        [cancelled] = [e for e in self.server.audit(req["id"]) if e["type"] == "request.cancelled"]
        self.assertEqual(cancelled["data"]["reason"], "handed back to Claude Code")

        # PermissionRequest has no "ask": an empty 200 is no decision, and Claude Code prompts.
        r = self.hook(recorded("permission_request_edit"), wait=1)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, "")
        self.assertEqual(len(self.requests_of_claude("cancelled")), 2)

    def test_a_client_that_stops_waiting_cancels_its_request(self):
        conn = self.server.connection()
        body = json.dumps(recorded("pre_tool_use_bash")).encode()
        conn.request("POST", PATH, body=body, headers={
            "Authorization": "Bearer " + self.claude, "Content-Type": "application/json"})
        req = self.pending_request()
        self.wait_for_waiters(1)
        conn.close()

        def settled():
            status = self.server.get_request(req["id"])["status"]
            return None if status == "pending" else status

        status = poll_until(settled, "end of the request after the client left")
        self.assertEqual(status, "cancelled")
        [cancelled] = [e for e in self.server.audit(req["id"]) if e["type"] == "request.cancelled"]
        self.assertEqual(cancelled["data"]["reason"], "Claude Code stopped waiting")

    # -- retries -----------------------------------------------------------------------------
    def test_a_retried_call_with_the_same_tool_use_id_reaches_the_same_request(self):
        bash = recorded("pre_tool_use_bash")
        first = self.hook_in_background(bash)
        req = self.pending_request()
        self.wait_for_waiters(1)
        second = self.hook_in_background(bash)
        self.wait_for_waiters(2)
        self.assertEqual(len(self.requests_of_claude()), 1)
        self.decide(req["id"], self.alice)
        for answers in (first, second):
            out = self.output(answers.get(timeout=30))
            self.assertEqual(out["permissionDecision"], "allow")
            self.assertIn(req["id"], out["permissionDecisionReason"])
        # Retried after the decision: answered at once from the same request.
        out = self.output(self.hook(bash))
        self.assertEqual(out["permissionDecision"], "allow")
        self.assertIn(req["id"], out["permissionDecisionReason"])
        self.assertEqual(len(self.requests_of_claude()), 1)


if __name__ == "__main__":
    unittest.main()
