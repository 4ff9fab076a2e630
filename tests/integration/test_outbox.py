"""Signed webhooks and the durable outbox, against the real binary and a loopback receiver.

The receiver is tests/testing/fake_chat.py's generic webhook route; it records every POST.
Retry delays are configured small ([outbox] retry_base) so a retry happens promptly; tests
wait for the receiver to see requests, never for a fixed time.
"""

import hashlib
import hmac
import json
import os
import sys
import tempfile
import time
import unittest

from harness import Server

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testing"))
from fake_chat import Answer, FakeChat  # noqa: E402
import webhook_signature  # noqa: E402

WEBHOOK_SECRET = "whsec-0123456789abcdef"
CALLBACK_SECRET = "cbsec-0123456789abcdef"


def signature(secret, got):
    """The signature `got` (a recorded POST) should carry: over its timestamp and body."""
    return webhook_signature.signature(secret, got.header("X-Countersign-Timestamp"), got.body)


class OutboxTest(unittest.TestCase):
    def setUp(self):
        self.fake = FakeChat().start()
        self.addCleanup(self.fake.stop)
        self.receiver_url = self.fake.url
        self.data_dir = tempfile.mkdtemp(prefix="countersign-outbox-")
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.cleanup()

    def start(self, max_attempts=5, events=None, restart_of=None, public_url=None, links=False,
              groups=""):
        events_line = ""
        if events is not None:
            events_line = "events = [" + ", ".join(json.dumps(e) for e in events) + "]"
        server_section = ""
        if public_url is not None:
            server_section = f'[server]\npublic_url = "{public_url}"\n'
        config = os.path.join(self.data_dir, "countersign.toml")
        with open(config, "w") as f:
            f.write(f"""
{server_section}
# The fake servers of this test listen on loopback over http, which the outbound policy
# refuses unless the config names it.
[outbound]
allow = ["127.0.0.1/32"]

[outbox]
max_attempts = {max_attempts}
retry_base = "50ms"
retry_max = "200ms"
callback_secret = "{CALLBACK_SECRET}"

[[webhook]]
name = "audit-sink"
url = "{self.receiver_url}/hooks/audit"
secret = "env:TEST_WEBHOOK_SECRET"
{events_line}
links = {"true" if links else "false"}

{groups}
""")
        server = Server(data_dir=self.data_dir, extra_args=["--config", config],
                        env={"TEST_WEBHOOK_SECRET": WEBHOOK_SECRET})
        server.start()
        if restart_of is not None:
            server.admin_token = restart_of.admin_token
        self.servers.append(server)
        return server

    def outbox(self, server, **params):
        query = "&".join(f"{k}={v}" for k, v in params.items())
        r = server.call("GET", "/v1/outbox?" + query)
        self.assertEqual(r.status, 200, r)
        return r.json["outbox"]

    def test_subscription_gets_each_event_signed_with_its_own_delivery_id(self):
        server = self.start(events=["request.created", "request.resolved"])
        approver = server.create_token("alice", "approver")
        req = server.create_request()
        r = server.call("POST", f"/v1/requests/{req['id']}/decisions", {"choice": "approve"},
                        token=approver)
        self.assertEqual(r.status, 200, r)

        got = self.fake.wait_for(2, path="/hooks/audit")
        self.assertEqual([g.header("X-Countersign-Event") for g in got],
                         ["request.created", "request.resolved"])
        ids = [g.header("X-Countersign-Delivery") for g in got]
        self.assertEqual(len(set(ids)), 2)
        for g in got:
            self.assertEqual(g.header("Content-Type"), "application/json")
            self.assertEqual(g.header("X-Countersign-Signature"),
                             signature(WEBHOOK_SECRET, g))
            self.assertEqual(g.json["delivery"], g.header("X-Countersign-Delivery"))
            self.assertEqual(g.json["request"]["id"], req["id"])
            # The request's page in the web inbox; with no public_url, at the listener.
            self.assertEqual(g.json["inbox_url"], server.url + "/ui/requests/" + req["id"])
        self.assertEqual(got[1].json["request"]["status"], "approved")
        self.assertEqual(got[1].json["data"]["status"], "approved")
        # decision.recorded was not subscribed to.
        self.assertEqual(len(self.fake.requests(path="/hooks/audit")), 2)

    def test_callback_url_hears_the_outcome_signed_with_the_callback_secret(self):
        server = self.start(events=["request.resolved"])
        approver = server.create_token("alice", "approver")
        req = server.create_request(callback_url=f"{self.fake.url}/agent/callback")
        server.call("POST", f"/v1/requests/{req['id']}/decisions", {"choice": "deny"},
                    token=approver)
        [got] = self.fake.wait_for(1, path="/agent/callback")
        self.assertEqual(got.header("X-Countersign-Event"), "request.resolved")
        self.assertEqual(got.header("X-Countersign-Signature"),
                         signature(CALLBACK_SECRET, got))
        self.assertEqual(got.json["request"]["status"], "denied")
        self.assertEqual(got.json["inbox_url"], server.url + "/ui/requests/" + req["id"])

    def test_the_inbox_url_of_webhooks_and_callbacks_keeps_the_public_url_s_path(self):
        server = self.start(events=["request.created", "request.resolved"],
                            public_url="https://example.com/approvals")
        approver = server.create_token("alice", "approver")
        req = server.create_request(callback_url=f"{self.fake.url}/agent/callback")
        server.call("POST", f"/v1/requests/{req['id']}/decisions", {"choice": "approve"},
                    token=approver)
        expected = "https://example.com/approvals/ui/requests/" + req["id"]
        hooks = self.fake.wait_for(2, path="/hooks/audit")
        [callback] = self.fake.wait_for(1, path="/agent/callback")
        for got in hooks + [callback]:
            self.assertEqual(got.json["inbox_url"], expected, got.json["event"])
            # It is part of the signed bytes.
            secret = CALLBACK_SECRET if got is callback else WEBHOOK_SECRET
            self.assertEqual(got.header("X-Countersign-Signature"), signature(secret, got))

    def test_a_receiver_checking_the_timestamp_refuses_the_body_under_another_one(self):
        server = self.start(events=["request.created"])
        server.create_request()
        [got] = self.fake.wait_for(1, path="/hooks/audit")
        timestamp = got.header("X-Countersign-Timestamp")
        sent = got.header("X-Countersign-Signature")
        self.assertTrue(webhook_signature.verify_request(WEBHOOK_SECRET, got))
        self.assertLess(abs(int(timestamp) - time.time()), 120)  # stamped when it was sent
        # A captured POST replayed later: its body under a fresh timestamp does not match the
        # signature, and under its own timestamp it is too old.
        later = str(int(timestamp) + 600)
        self.assertFalse(webhook_signature.verify(WEBHOOK_SECRET, later, sent, got.body,
                                                  now=int(later)))
        self.assertFalse(webhook_signature.verify(WEBHOOK_SECRET, timestamp, sent, got.body,
                                                  now=int(later)))
        # The body alone is no longer what is signed.
        self.assertNotEqual(
            sent, "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), got.body, hashlib.sha256).hexdigest())
        self.assertNotIn(b'"links"', got.body)  # this subscription did not ask for links

    def test_a_subscription_with_links_gets_working_one_click_links_while_pending(self):
        server = self.start(events=["request.created", "request.resolved"], links=True,
                            groups='[groups]\nsre = ["alice", "bob"]')
        approver = server.create_token("alice", "approver")
        req = server.create_request(approvers=["group:sre"])
        [created] = self.fake.wait_for(1, path="/hooks/audit")
        self.assertTrue(webhook_signature.verify_request(WEBHOOK_SECRET, created))
        links = created.json["links"]
        self.assertEqual([(l["recipient"], l["choice"]) for l in links],
                         [("alice", "approve"), ("alice", "deny"), ("bob", "approve"),
                          ("bob", "deny")])
        # The same links the API hands out.
        api = server.call("POST", f"/v1/requests/{req['id']}/links", {}, token=approver)
        self.assertEqual(api.status, 200, api)
        self.assertEqual(api.json["links"], links)
        bob_approves = next(l["url"] for l in links
                            if l["recipient"] == "bob" and l["choice"] == "approve")
        self.assertTrue(bob_approves.startswith(server.url + "/l/"))
        r = server.post_link_form(bob_approves[len(server.url):], {"comment": "from a webhook"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(server.get_request(req["id"])["status"], "approved")
        resolved = self.fake.wait_for(2, path="/hooks/audit")[1]
        self.assertEqual(resolved.json["event"], "request.resolved")
        self.assertNotIn("links", resolved.json)  # nothing left to decide

    def test_two_server_errors_then_success_delivers_on_the_third_attempt(self):
        self.fake.script("/hooks/audit", Answer(500, b"boom"), Answer(502, b"bad gateway"))
        server = self.start(events=["request.created"])
        req = server.create_request()
        got = self.fake.wait_for(3, path="/hooks/audit")
        self.assertEqual([g.answer_status for g in got], [500, 502, 200])
        self.assertEqual(len({g.header("X-Countersign-Delivery") for g in got}), 1)
        self.assertEqual(len({g.body for g in got}), 1)  # the same bytes every time
        for g in got:  # each attempt stamped and signed when it is sent
            self.assertTrue(webhook_signature.verify_request(WEBHOOK_SECRET, g))
        [row] = self.wait_rows(server, lambda rows: rows and rows[0]["state"] == "delivered",
                               request=req["id"])
        self.assertEqual(row["attempts"], 3)

    def test_a_permanently_failing_receiver_ends_failed_with_an_audit_event(self):
        self.fake.script("/hooks/audit", *[Answer(503, b"down")] * 3)
        server = self.start(max_attempts=3, events=["request.created"])
        req = server.create_request()
        self.fake.wait_for(3, path="/hooks/audit")
        [row] = self.wait_rows(server, lambda rows: rows and rows[0]["state"] == "failed",
                               request=req["id"])
        self.assertEqual(row["attempts"], 3)
        self.assertIn("gave up after 3 attempts", row["last_error"])
        audit = server.call("GET", f"/v1/audit?request={req['id']}").json["events"]
        failed = [e for e in audit if e["type"] == "notification.failed"]
        self.assertEqual(len(failed), 1)
        self.assertEqual(failed[0]["data"]["delivery_id"], row["delivery_id"])
        self.assertEqual(failed[0]["data"]["destination"], "webhook:audit-sink")

    def test_rows_left_by_a_killed_gateway_are_delivered_after_restart_exactly_once(self):
        # The receiver is down while the first gateway runs: every attempt fails to connect.
        self.fake.stop()
        first = self.start(max_attempts=100, events=["request.created"])
        ids = [first.create_request(title=f"Deploy {i}")["id"] for i in range(5)]
        self.wait_rows(first, lambda rows: len(rows) == 5 and
                       all(r["attempts"] >= 1 and r["state"] == "pending" for r in rows))
        first.kill()

        self.fake = FakeChat().start()
        self.addCleanup(self.fake.stop)
        self.receiver_url = self.fake.url
        second = self.start(max_attempts=100, events=["request.created"], restart_of=first)
        self.wait_rows(second, lambda rows: len(rows) == 5 and
                       all(r["state"] == "delivered" for r in rows))
        delivered = self.fake.requests(path="/hooks/audit")
        self.assertEqual(sorted(g.json["request"]["id"] for g in delivered), sorted(ids))
        delivery_ids = [g.header("X-Countersign-Delivery") for g in delivered]
        self.assertEqual(len(delivery_ids), len(set(delivery_ids)))
        for g in delivered:
            self.assertEqual(g.header("X-Countersign-Signature"),
                             signature(WEBHOOK_SECRET, g))

    def test_outbox_listing_needs_an_admin(self):
        server = self.start()
        approver = server.create_token("alice", "approver")
        r = server.call("GET", "/v1/outbox", token=approver)
        self.assertEqual(r.status, 403, r)
        r = server.call("GET", "/v1/outbox?state=sideways")
        self.assertEqual(r.status, 422, r)

    def test_a_config_naming_an_unset_secret_variable_refuses_to_start(self):
        config = os.path.join(self.data_dir, "bad.toml")
        with open(config, "w") as f:
            f.write('[[webhook]]\nname = "x"\nurl = "http://127.0.0.1:1/"\n'
                    'secret = "env:COUNTERSIGN_TEST_UNSET_SECRET"\n')
        server = Server(data_dir=self.data_dir, extra_args=["--config", config])
        with self.assertRaises(RuntimeError) as raised:
            server.start()
        self.assertIn("COUNTERSIGN_TEST_UNSET_SECRET is not set", str(raised.exception))
        self.assertIn("bad.toml:4", str(raised.exception))

    # -- helpers -------------------------------------------------------------------------------
    def wait_rows(self, server, predicate, timeout=30.0, **params):
        deadline = time.monotonic() + timeout
        while True:
            rows = self.outbox(server, **params)
            if predicate(rows):
                return rows
            if time.monotonic() > deadline:
                self.fail(f"outbox never reached the expected state: {rows}")
            time.sleep(0.02)  # polling the server's state, not waiting for time to pass


if __name__ == "__main__":
    unittest.main()
