"""Every reason_code, each reached over the API, and seen where programs read it.

A request's `reason_code` says how it left pending (approved, approved_by_grant,
approved_by_policy, denied_by_person, denied_by_policy, expired, cancelled_by_requester,
cancelled_by_admin, escalation_exhausted). For each, this drives a real server to that state
and checks the code in GET /v1/requests/{id}, in the body of the request's callback_url POST
(a loopback receiver, tests/testing/fake_chat.py) and in the Python client's exception (the
package in clients/python). Then one case each for an SSE event, the CLI's --json and words,
the Python decorator raising by family, and the Hermes and Molecule adapters.

Deadlines are real: the policies give 1 s, and the tests wait for the resolution (a
long-poll on /wait, or the receiver's POST), never for a fixed time.
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

import harness
from harness import Server
from stream_clients import SseClient

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "testing"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "clients", "python"))
from fake_chat import FakeChat  # noqa: E402

import countersign  # noqa: E402
from countersign import (ApprovalCancelled, ApprovalDenied, ApprovalDeniedAtDeadline,  # noqa: E402
                         ApprovalError, ApprovalExpired, ApprovalTimedOut, Client,
                         requires_approval)

CONFIG = """
# The receiver listens on loopback over http, which the outbound policy refuses unless named.
[outbound]
allow = ["127.0.0.1/32"]

[outbox]
retry_base = "50ms"
retry_max = "200ms"

[groups]
leads = ["lena"]

[[policy]]
name = "reads"
match = { action = "read_*" }
decision = "approve"

[[policy]]
name = "never"
match = { action = "drop_*" }
decision = "deny"

[[policy]]
name = "quick"
match = { action = "quick_*" }
timeout = "1s"

[[policy]]
name = "quick-deny"
match = { action = "strict_*" }
timeout = "1s"
on_timeout = "deny"

[[policy]]
name = "ladder"
match = { action = "ladder_*" }
timeout = "1s"
on_timeout = "escalate"
escalate_to = [{ approvers = ["group:leads"], timeout = "1s" }]
"""

# Each code, the status it comes with, and the exception class the Python client raises for
# it (None: approved, nothing is raised).
EXPECTED = {
    "approved": ("approved", None),
    "approved_by_grant": ("approved", None),
    "approved_by_policy": ("approved", None),
    "denied_by_person": ("denied", ApprovalDenied),
    "denied_by_policy": ("denied", ApprovalDenied),
    "expired": ("expired", ApprovalExpired),
    "cancelled_by_requester": ("cancelled", ApprovalCancelled),
    "cancelled_by_admin": ("cancelled", ApprovalCancelled),
    "escalation_exhausted": ("expired", ApprovalExpired),
}


class ReasonCodeTest(unittest.TestCase):
    """One server for the class: every test makes requests of its own."""

    @classmethod
    def setUpClass(cls):
        cls.fake = FakeChat().start()
        cls.dir = tempfile.mkdtemp(prefix="countersign-reasons-")
        config = os.path.join(cls.dir, "countersign.toml")
        with open(config, "w") as f:
            f.write(CONFIG)
        cls.server = Server(data_dir=cls.dir, extra_args=["--config", config])
        cls.server.start()
        s = cls.server
        cls.agent = s.create_token("ci-bot", "agent")
        cls.alice = s.create_token("alice", "approver")

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.fake.stop()

    def create(self, label, action, **fields):
        """A request by the agent whose terminal event goes to /cb/<label> on the receiver."""
        return self.server.create_request(token=self.agent, action=action, title=label,
                                          callback_url=f"{self.fake.url}/cb/{label}", **fields)

    def decide(self, request_id, choice):
        r = self.server.call("POST", f"/v1/requests/{request_id}/decisions", {"choice": choice},
                             token=self.alice)
        self.assertEqual(r.status, 200, r)

    def cancel(self, request_id, token):
        r = self.server.call("POST", f"/v1/requests/{request_id}/cancel", {"reason": "moot"},
                             token=token)
        self.assertEqual(r.status, 200, r)

    def settled(self, request_id):
        """The request once it has left pending: a long-poll answers at its resolution."""
        r = self.server.call("GET", f"/v1/requests/{request_id}/wait?timeout=60",
                             token=self.agent)
        self.assertEqual(r.status, 200, r)
        self.assertNotEqual(r.json["status"], "pending", r.json)
        return r.json

    def reach_every_code(self):
        """{code: request id}, each request driven to its code over the API."""
        ids = {}
        # The deadlines run while the rest is set up.
        ids["expired"] = self.create("expired", "quick_check")["id"]
        ids["escalation_exhausted"] = self.create("escalation_exhausted", "ladder_step")["id"]

        approved = self.create("approved", "deploy_staging")
        self.decide(approved["id"], "approve")
        ids["approved"] = approved["id"]

        grant = self.server.call("POST", "/v1/grants", {"action": "restart_worker",
                                                        "scope": "tenant", "ttl_seconds": 600},
                                 token=self.alice)
        self.assertEqual(grant.status, 201, grant)
        by_grant = self.create("approved_by_grant", "restart_worker")
        self.assertEqual(by_grant["status"], "approved", by_grant)
        ids["approved_by_grant"] = by_grant["id"]

        by_policy = self.create("approved_by_policy", "read_logs")
        self.assertEqual(by_policy["status"], "approved", by_policy)
        ids["approved_by_policy"] = by_policy["id"]

        denied = self.create("denied_by_person", "deploy_staging")
        self.decide(denied["id"], "deny")
        ids["denied_by_person"] = denied["id"]

        by_rule = self.create("denied_by_policy", "drop_table")
        self.assertEqual(by_rule["status"], "denied", by_rule)
        ids["denied_by_policy"] = by_rule["id"]

        withdrawn = self.create("cancelled_by_requester", "deploy_staging")
        self.cancel(withdrawn["id"], self.agent)
        ids["cancelled_by_requester"] = withdrawn["id"]

        stopped = self.create("cancelled_by_admin", "deploy_staging")
        self.cancel(stopped["id"], "admin")
        ids["cancelled_by_admin"] = stopped["id"]
        return ids

    def test_every_code_is_in_the_read_the_callback_body_and_the_python_exception(self):
        ids = self.reach_every_code()
        self.assertEqual(set(ids), set(EXPECTED))
        for code, request_id in ids.items():
            status, family = EXPECTED[code]
            with self.subTest(code=code):
                # GET /v1/requests/{id} (after the wait, so the deadlines have passed).
                request = self.settled(request_id)
                self.assertEqual((request["status"], request["reason_code"]), (status, code))

                # The callback_url's POST: at the top level and in the request it carries.
                [got] = self.fake.wait_for(1, path=f"/cb/{code}")
                body = got.json
                self.assertEqual(body["reason_code"], code, body)
                self.assertEqual(body["status"], status, body)
                self.assertEqual(body["request"]["reason_code"], code, body)
                self.assertEqual(body["data"]["reason_code"], code, body)

                # The Python client's exception for a request that was not approved.
                read = Client(self.server.url, token=self.agent).get(request_id)
                self.assertEqual(read["reason_code"], code)
                if family is None:
                    continue
                error = countersign.approval_error(read)
                self.assertIs(type(error), family)
                self.assertIsInstance(error, ApprovalError)
                self.assertEqual((error.reason_code, error.status, error.request_id),
                                 (code, status, request_id))
                self.assertIn(code, str(error))

    def test_the_deadline_denying_is_both_expired_and_denied_to_python(self):
        request = self.settled(self.create("strict", "strict_check")["id"])
        self.assertEqual((request["status"], request["reason_code"]), ("denied", "expired"))
        error = countersign.approval_error(request)
        self.assertIs(type(error), ApprovalDeniedAtDeadline)
        self.assertIsInstance(error, ApprovalExpired)
        self.assertIsInstance(error, ApprovalDenied)
        self.assertEqual(error.reason_code, "expired")

    def test_the_decorator_raises_one_class_per_family_with_the_code(self):
        client = Client(self.server.url, token=self.agent)

        @requires_approval(action="drop_table", client=client)
        def drop_table(name):
            return "dropped " + name

        @requires_approval(action="quick_restart", client=client)
        def restart():
            return "restarted"

        @requires_approval(action="ladder_page", client=client)
        def page():
            return "paged"

        @requires_approval(action="read_metrics", client=client)
        def read_metrics():
            return countersign.current_approval().request["reason_code"]

        with self.assertRaises(ApprovalDenied) as denied:
            drop_table("users")
        self.assertEqual(denied.exception.reason_code, "denied_by_policy")
        with self.assertRaises(ApprovalExpired) as expired:
            restart()
        self.assertEqual(expired.exception.reason_code, "expired")
        # Still an ApprovalTimedOut, as an expiry always was.
        self.assertIsInstance(expired.exception, ApprovalTimedOut)
        with self.assertRaises(ApprovalExpired) as exhausted:
            page()
        self.assertEqual(exhausted.exception.reason_code, "escalation_exhausted")
        self.assertEqual(read_metrics(), "approved_by_policy")

    def test_an_sse_client_sees_the_code_in_the_resolution_event(self):
        request = self.create("sse", "deploy_staging")
        stream = SseClient(self.server, f"/v1/events?request={request['id']}", self.agent)
        self.addCleanup(stream.close)
        self.decide(request["id"], "deny")
        events = stream.events_until(lambda e: e.get("event") == "request.resolved")
        self.assertEqual(events[-1]["data"]["data"]["reason_code"], "denied_by_person")

    def test_the_cli_json_and_text_carry_the_code(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("COUNTERSIGN_")}
        env.update(COUNTERSIGN_URL=self.server.url, COUNTERSIGN_TOKEN=self.agent)
        run = [harness.BIN, "request", "--action", "drop_database", "--title", "Drop it",
               "--wait"]
        r = subprocess.run(run + ["--json"], env=env, capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(r.returncode, 1, r.stderr)
        request = json.loads(r.stdout)
        self.assertEqual(request["reason_code"], "denied_by_policy")

        # In words, for a person.
        r = subprocess.run(run, env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("denied by policy:never (denied by policy)", r.stdout)
        shown = subprocess.run([harness.BIN, "get", request["id"]], env=env,
                               capture_output=True, text=True, timeout=120)
        self.assertEqual(shown.returncode, 0, shown.stderr)
        self.assertIn("reason:      denied_by_policy (denied by policy)", shown.stdout)

        expired = self.settled(self.create("cli-expired", "quick_cli")["id"])
        shown = subprocess.run([harness.BIN, "get", expired["id"], "--json"], env=env,
                               capture_output=True, text=True, timeout=120)
        self.assertEqual(json.loads(shown.stdout)["reason_code"], "expired")


if __name__ == "__main__":
    unittest.main()
