"""What `countersign request --wait` says while it waits, Ctrl-C while it waits, `ls --mine`
(the API's decidable=true), what `get` shows, and option errors in plain words.

Each test starts its own server and runs the CLI binary against it (test_cli.CliTestCase).
Decisions are made once the CLI's request is pending; a step the CLI sees late (several
decisions in one answer) is still reported once each, in order, so nothing depends on timing.
"""

import json
import signal
import unittest

from test_cli import CliTestCase, run_cli


class WaitProgressTest(CliTestCase):

    def two_of_two(self, *extra_args):
        """`request --wait` for a 2-of-2 quorum, approved by alice then bob."""
        alice = self.server.create_token("alice", "approver")
        bob = self.server.create_token("bob", "approver")
        proc, request_id = self.start_waiting_cli(
            "two of two", "--approver", "alice", "--approver", "bob", "--quorum", "2",
            *extra_args)
        self.cli_ok("approve", request_id, "--comment", "canary is green", token=alice)
        self.cli_ok("approve", request_id, token=bob)
        code, out, err = self.finish(proc)
        self.assertEqual(code, 0, err)
        return request_id, out, err

    def test_wait_says_who_may_decide_the_inbox_page_and_each_approval(self):
        request_id, out, err = self.two_of_two()
        lines = err.splitlines()
        self.assertTrue(lines[0].startswith(f"waiting for a decision on {request_id} (deadline "),
                        err)
        self.assertIn("Ctrl-C cancels it", lines[0])
        self.assertEqual(lines[1:5], [
            "  who may decide: alice, bob; 2 approvals needed",
            f"  inbox: {self.server.url}/ui/requests/{request_id}",
            '  alice approved, 1 of 2: "canary is green"',
            "  bob approved, 2 of 2",
        ])
        self.assertIn(request_id + " approved by alice, bob", out)

    def test_json_progress_lines_parse_and_stdout_is_the_final_request(self):
        request_id, out, err = self.two_of_two("--json")
        events = [json.loads(line) for line in err.splitlines()]
        self.assertEqual([e["event"] for e in events], ["waiting", "decision", "decision"])
        waiting = events[0]
        self.assertEqual(waiting["id"], request_id)
        self.assertEqual(waiting["approvers"], ["alice", "bob"])
        self.assertEqual(waiting["quorum"], 2)
        self.assertEqual(waiting["inbox_url"], f"{self.server.url}/ui/requests/{request_id}")
        self.assertEqual([(e["by"], e["outcome"], e["approvals"], e["quorum"])
                          for e in events[1:]],
                         [("alice", "approved", 1, 2), ("bob", "approved", 2, 2)])
        self.assertEqual(events[1]["comment"], "canary is green")
        final = json.loads(out)
        self.assertEqual((final["id"], final["status"]), (request_id, "approved"))

    def test_quiet_wait_says_nothing_while_waiting(self):
        _, out, err = self.two_of_two("-q")
        self.assertEqual((out, err), ("", ""))


class WaitInterruptTest(CliTestCase):

    def interrupt(self, sig, *extra_args):
        proc, request_id = self.start_waiting_cli("interrupt me", *extra_args)
        proc.send_signal(sig)
        code, _, err = self.finish(proc)
        self.assertEqual(code, 130, err)
        return request_id, err

    def test_sigint_cancels_the_request_and_exits_130(self):
        request_id, err = self.interrupt(signal.SIGINT)
        self.assertEqual(self.get(request_id)["status"], "cancelled")
        self.assertIn("interrupted; cancelled " + request_id, err)
        events = self.server.call("GET", f"/v1/audit?request={request_id}").json["events"]
        cancelled = [e for e in events if e["type"] == "request.cancelled"]
        self.assertIn("SIGINT", cancelled[0]["data"]["reason"])

    def test_sigterm_cancels_the_request_too(self):
        request_id, _ = self.interrupt(signal.SIGTERM)
        self.assertEqual(self.get(request_id)["status"], "cancelled")

    def test_keep_on_interrupt_leaves_the_request_pending_and_exits_130(self):
        request_id, err = self.interrupt(signal.SIGINT, "--keep-on-interrupt")
        self.assertEqual(self.get(request_id)["status"], "pending")
        self.assertIn(request_id + " stays pending", err)

    def test_the_waiting_line_says_what_ctrl_c_will_do(self):
        r = self.cli("request", "--action", "a", "--title", "kept", "--wait", "--wait-timeout",
                     "1", "--keep-on-interrupt")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("; Ctrl-C leaves it pending", r.stderr.splitlines()[0])

    def test_json_says_what_the_interrupt_did(self):
        request_id, err = self.interrupt(signal.SIGINT, "--json")
        last = json.loads(err.splitlines()[-1])
        self.assertEqual(last, {"event": "interrupted", "id": request_id, "cancelled": True})

    def test_help_documents_the_interrupt_and_its_exit_code(self):
        r = run_cli(["request", "--help"])
        self.assertIn("--keep-on-interrupt", r.stdout)
        self.assertIn("130 interrupted while waiting", r.stdout)


class DecidableTest(CliTestCase):

    def setUp(self):
        super().setUp()
        s = self.server
        self.alice = s.create_token("alice", "approver", groups=["sre"])
        self.agent = s.create_token("ci-bot", "agent")
        self.for_sre = s.create_request(token=self.agent, title="for sre",
                                        approvers=["group:sre"])
        self.for_bob = s.create_request(token=self.agent, title="for bob", approvers=["bob"])
        self.for_anyone = s.create_request(token=self.agent, title="for anyone")
        self.decided = s.create_request(token=self.agent, title="alice voted",
                                        approvers=["alice", "carol"], quorum=2)
        r = s.call("POST", f"/v1/requests/{self.decided['id']}/decisions",
                   {"choice": "approve"}, token=self.alice)
        self.assertEqual(r.status, 200, r)
        self.own = s.create_request(title="admin's own")
        self.closed = s.create_request(token=self.agent, title="closed")
        s.call("POST", f"/v1/requests/{self.closed['id']}/cancel", {}, token=self.agent)

    def ids(self, query, token):
        r = self.server.call("GET", "/v1/requests" + query, token=token)
        self.assertEqual(r.status, 200, r)
        return [request["id"] for request in r.json["requests"]], r.json["next_cursor"]

    def test_decidable_lists_only_what_the_caller_may_decide_now(self):
        ids, cursor = self.ids("?decidable=true", self.alice)
        self.assertEqual(ids, [self.own["id"], self.for_anyone["id"], self.for_sre["id"]])
        self.assertIsNone(cursor)
        # Without the filter alice sees every request of the tenant.
        every, _ = self.ids("", self.alice)
        self.assertEqual(len(every), 6)
        # The admin may not decide its own request, nor one that names other approvers.
        self.assertEqual(self.ids("?decidable=true", "admin"), ([self.for_anyone["id"]], None))
        # An agent decides nothing.
        self.assertEqual(self.ids("?decidable=true", self.agent), ([], None))

    def test_decidable_pages_follow_the_cursor(self):
        first, cursor = self.ids("?decidable=true&limit=2", self.alice)
        self.assertEqual(first, [self.own["id"], self.for_anyone["id"]])
        self.assertEqual(cursor, self.for_anyone["id"])
        rest, cursor = self.ids(f"?decidable=true&limit=2&cursor={cursor}", self.alice)
        self.assertEqual(rest, [self.for_sre["id"]])
        self.assertIsNone(cursor)

    def test_decidable_refuses_another_status_and_a_bad_value(self):
        r = self.server.call("GET", "/v1/requests?decidable=true&status=approved",
                             token=self.alice)
        self.assertEqual(r.status, 422, r)
        r = self.server.call("GET", "/v1/requests?decidable=yes", token=self.alice)
        self.assertEqual(r.status, 400, r)

    def test_ls_mine_lists_the_requests_i_can_decide(self):
        out = self.cli_ok("ls", "--mine", token=self.alice).stdout
        for listed in (self.own, self.for_anyone, self.for_sre):
            self.assertIn(listed["id"], out)
        for left_out in (self.for_bob, self.decided, self.closed):
            self.assertNotIn(left_out["id"], out)
        as_json = self.cli_json("ls", "--mine", token=self.alice)
        self.assertEqual(len(as_json["requests"]), 3)
        r = run_cli(["ls", "--help"])
        self.assertIn("requests I can decide", r.stdout)


class GetAndRequestOutputTest(CliTestCase):

    def test_get_shows_the_policy_reason_and_who_may_decide(self):
        request = self.server.create_request(title="Rotate keys", approvers=["group:sre"],
                                             quorum=2)
        out = self.cli_ok("get", request["id"]).stdout
        self.assertIn(f"policy:      {request['policy']} ({request['policy_reason']})", out)
        self.assertIn("approvers:   group:sre; 2 approvals needed", out)
        self.assertIn("deadline:", out)
        anyone = self.server.create_request(title="Anyone")
        self.assertIn("approvers:   any approver or admin of the tenant",
                      self.cli_ok("get", anyone["id"]).stdout)

    def test_a_grant_approved_request_prints_no_deadline(self):
        r = self.server.call("POST", "/v1/grants", {"action": "deploy_staging", "scope": "tenant",
                                                    "ttl_seconds": 600})
        self.assertEqual(r.status, 201, r)
        created = self.cli_ok("request", "--action", "deploy_staging", "--title", "Deploy")
        self.assertIn(" approved  deploy_staging", created.stdout)
        self.assertNotIn("deadline", created.stdout)
        self.assertIn("  by grant:" + r.json["id"], created.stdout)
        request_id = created.stdout.split()[0]
        shown = self.cli_ok("get", request_id).stdout
        self.assertNotIn("deadline", shown)
        self.assertIn("resolved by: grant:" + r.json["id"], shown)


class OptionWordsTest(unittest.TestCase):

    def test_numeric_options_say_their_range_in_plain_words(self):
        cases = [
            (["request", "--action", "a", "--title", "t", "--quorum", "0"],
             "--quorum: must be a whole number from 1 to 100, got '0'"),
            (["ls", "--limit", "501"], "--limit: must be a whole number from 1 to 500, got '501'"),
            (["audit", "--limit", "many"],
             "--limit: must be a whole number from 1 to 1000, got 'many'"),
            (["request", "--action", "a", "--title", "t", "--timeout", "soon"],
             "--timeout: must be a duration such as 90s, 15m or 1h (or a number of seconds), "
             "got 'soon'"),
            (["grant", "create", "--action", "a", "--ttl", "0"],
             "--ttl: must be a duration from 1s to 24855d, got '0'"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                r = run_cli(args)
                self.assertEqual(r.returncode, 3, r.stderr)
                self.assertIn(message, r.stderr)


if __name__ == "__main__":
    unittest.main()
