"""Anonymous AiSOC verifications cannot leak a person's vote links (issue 14, item 3).

Against the real binary with a loopback fake chat server: anonymous calls are off unless the
config turns them on; when on, the prompt may only go to a destination the operator listed,
exactly; the case timeline needs a token of the tenant.
"""

import os
import shutil
import sys
import tempfile
import unittest

from harness import Server

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testing"))
from fake_chat import FakeChat  # noqa: E402

HOOK = "/services/T000/B000/operator"
ATTACKER_HOOK = "/services/T666/B666/attacker"

BASE = """
[outbound]
allow = ["127.0.0.1/32"]

[[policy]]
name = "chatops"
match = {{ action = "chatops.verify" }}
timeout = "15m"

[compat.aisoc]
enabled = true
allow_hosts = ["127.0.0.1"]
{extra}
"""


class AisocAnonymousTest(unittest.TestCase):
    def setUp(self):
        self.fake = FakeChat().start()
        self.addCleanup(self.fake.stop)
        self.dir = tempfile.mkdtemp(prefix="countersign-aisoc-anon-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def start(self, extra):
        config = os.path.join(self.dir, "countersign.toml")
        with open(config, "w") as f:
            f.write(BASE.format(extra=extra))
        server = Server(data_dir=self.dir, extra_args=["--config", config])
        server.start()
        self.addCleanup(server.stop)
        return server

    def verify(self, server, token=None, **fields):
        body = {"case_id": "CASE-1", "user_ref": "alice", "transport": "slack",
                "webhook_url": self.fake.url + ATTACKER_HOOK}
        body.update(fields)
        return server.call("POST", "/v1/verifications", body, token=token)

    def requests(self, server):
        return server.call("GET", "/v1/requests?action=chatops.verify").json["requests"]

    def test_anonymous_calls_are_refused_by_default(self):
        server = self.start("")
        r = self.verify(server)
        self.assertEqual(r.status, 401, r)
        self.assertEqual(self.requests(server), [])
        self.assertEqual(self.fake.requests(), [])

    def test_an_anonymous_prompt_goes_only_to_a_listed_destination(self):
        server = self.start(f'anonymous = true\ndestinations = ["{self.fake.url}{HOOK}"]')
        # Another URL on the same allowed host is not a destination.
        for fields in ({}, {"webhook_url": self.fake.url + HOOK + "/x"},
                       {"webhook_url": self.fake.url + HOOK,
                        "timeline_url": self.fake.url + "/cases/attacker"},
                       {"webhook_url": self.fake.url + HOOK, "bot_token": "xoxb-attacker",
                        "channel": "C1"}):
            with self.subTest(fields=fields):
                r = self.verify(server, **fields)
                self.assertEqual(r.status, 403, r)
                self.assertEqual(r.json["status"], "failed", r)
        self.assertEqual(self.requests(server), [])
        self.assertEqual(self.fake.requests(), [])

        r = self.verify(server, webhook_url=self.fake.url + HOOK)
        self.assertEqual(r.status, 202, r)
        self.fake.wait_for(1, path=HOOK)

        # An authenticated agent is not bound to the destinations.
        agent = server.create_token("soc-bot", "agent")
        r = self.verify(server, token=agent, case_id="CASE-2")
        self.assertEqual(r.status, 202, r)

    def test_the_case_timeline_needs_a_token_of_the_tenant(self):
        server = self.start(f'anonymous = true\ndestinations = ["{self.fake.url}{HOOK}"]')
        self.assertEqual(self.verify(server, webhook_url=self.fake.url + HOOK).status, 202)
        anonymous = server.call("GET", "/v1/cases/CASE-1/timeline", token=None)
        self.assertEqual(anonymous.status, 401, anonymous)
        other = server.create_token("intruder", "admin", tenant="globex")
        self.assertEqual(server.call("GET", "/v1/cases/CASE-1/timeline", token=other).status, 404)
        approver = server.create_token("analyst", "approver")
        r = server.call("GET", "/v1/cases/CASE-1/timeline", token=approver)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([e["type"] for e in r.json["events"]], ["chatops.verify.prompted"])

    def test_anonymous_without_destinations_refuses_to_start(self):
        with self.assertRaises(RuntimeError) as raised:
            self.start("anonymous = true")
        self.assertIn("compat.aisoc.anonymous", str(raised.exception))
        self.assertIn("destinations", str(raised.exception))


if __name__ == "__main__":
    unittest.main()
