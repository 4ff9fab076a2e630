"""Links through the API: POST /v1/requests/{id}/links, and `countersign link --url`.

The server hands out the one-click links of a request's approvers (one per person and choice)
to an admin, an approver the request names, or the agent that asked it, so a notifier of its
own can offer one-click approval. A link from the API works like any other: GET renders the
confirm page, the form's POST decides as the link's recipient.
"""

import json
import os
import subprocess
import tempfile
import unittest
import urllib.parse

import harness

CLI_TIMEOUT = 60  # seconds; a safety net so a hung CLI fails the test instead of the run


def clean_env():
    """The caller's environment without any COUNTERSIGN_* variable."""
    return {k: v for k, v in os.environ.items() if not k.startswith("COUNTERSIGN_")}


class LinksApiTest(harness.ServerTestCase):
    def setUp(self):
        super().setUp()
        s = self.server
        self.agent = s.create_token("ci-bot", "agent")
        self.other_agent = s.create_token("other-bot", "agent")
        self.alice = s.create_token("alice", "approver")
        self.bob = s.create_token("bob", "approver")
        self.request = s.create_request(token=self.agent, approvers=["alice", "carol"])

    def links(self, token, request_id=None):
        return self.server.call("POST", f"/v1/requests/{request_id or self.request['id']}/links",
                                {}, token=token)

    def run_cli(self, *args):
        # From an empty directory with no COUNTERSIGN_* variable: nothing local to sign with.
        with tempfile.TemporaryDirectory(prefix="countersign-link-") as cwd:
            return subprocess.run([harness.BIN, "link"] + list(args), env=clean_env(), cwd=cwd,
                                  capture_output=True, text=True, timeout=CLI_TIMEOUT)

    def test_admins_named_approvers_and_the_requesting_agent_get_every_link(self):
        expected = [("alice", "approve"), ("alice", "deny"), ("carol", "approve"),
                    ("carol", "deny")]
        answers = {}
        for name, token in [("admin", "admin"), ("alice", self.alice), ("ci-bot", self.agent)]:
            r = self.links(token)
            self.assertEqual(r.status, 200, f"{name}: {r}")
            self.assertEqual(r.json["request_id"], self.request["id"])
            self.assertEqual([(l["recipient"], l["choice"]) for l in r.json["links"]], expected)
            for link in r.json["links"]:
                self.assertTrue(link["url"].startswith(self.server.url + "/l/"), link)
            answers[name] = r.json
        # The same links whoever asks: a link names who decides, not who handed it out.
        self.assertEqual(answers["admin"], answers["alice"])
        self.assertEqual(answers["admin"], answers["ci-bot"])
        # They last as long as the request can be decided (in whole seconds).
        self.assertEqual(answers["admin"]["expires_at"][:19], self.request["deadline_at"][:19])
        # Each hand-out is on the record: who asked, and whose links they got.
        issued = [e for e in self.server.audit(self.request["id"]) if e["type"] == "links.issued"]
        self.assertEqual(len(issued), 3)
        self.assertEqual([e["actor"] for e in issued][1:], ["alice", "ci-bot"])
        for e in issued:
            self.assertEqual(e["data"], {"recipients": ["alice", "carol"], "links": 4})

    def test_everyone_else_is_refused(self):
        # An approver the request does not name would be handing out another person's vote.
        r = self.links(self.bob)
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json["error"]["code"], "forbidden")
        # Another agent does not see the request at all, as for GET /v1/requests/{id}.
        r = self.links(self.other_agent)
        self.assertEqual(r.status, 404, r)
        self.assertEqual(self.server.call("GET", f"/v1/requests/{self.request['id']}",
                                          token=self.other_agent).status, 404)
        r = self.links(None)
        self.assertEqual(r.status, 401, r)
        # A refusal hands nothing out and records nothing.
        self.assertNotIn("links.issued",
                         [e["type"] for e in self.server.audit(self.request["id"])])

    def test_an_unknown_request_is_404_and_a_decided_one_409(self):
        r = self.links("admin", "req_01JD3Z6Q8W9K4M2N7P5R0S1T2V")
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.json["error"]["code"], "not_found")
        decided = self.server.call("POST", f"/v1/requests/{self.request['id']}/decisions",
                                   {"choice": "deny"}, token=self.alice)
        self.assertEqual(decided.status, 200, decided)
        r = self.links("admin")
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.json["error"]["code"], "conflict")
        self.assertEqual(r.json["request"]["status"], "denied")

    def test_a_link_from_the_api_shows_the_confirm_page_and_its_post_decides(self):
        r = self.links(self.agent)
        url = next(l["url"] for l in r.json["links"]
                   if l["recipient"] == "alice" and l["choice"] == "approve")
        path = urllib.parse.urlsplit(url).path
        page = self.server.call("GET", path, token=None)
        self.assertEqual(page.status, 200, page)
        self.assertIn("Confirm your choice: Approve", page.body)
        self.assertIn("or <bdi>Deny</bdi> instead</a>", page.body)  # the other choice
        self.assertEqual(self.server.get_request(self.request["id"])["status"], "pending")
        posted = self.server.post_link_form(path, {"comment": "via the API's link"})
        self.assertEqual(posted.status, 200, posted)
        after = self.server.get_request(self.request["id"])
        self.assertEqual(after["status"], "approved")
        self.assertEqual(after["resolved_by"], ["alice"])
        self.assertEqual(after["decisions"][0]["comment"], "via the API's link")

    def test_countersign_link_asks_a_remote_server_with_no_data_directory(self):
        api = self.links(self.agent).json
        r = self.run_cli("--url", self.server.url, "--token", self.agent,
                         "--request", self.request["id"], "--choice", "deny", "--as", "carol")
        self.assertEqual(r.returncode, 0, r.stderr)
        expected = next(l["url"] for l in api["links"]
                        if l["recipient"] == "carol" and l["choice"] == "deny")
        self.assertEqual(r.stdout, expected + "\n")
        self.assertIn("valid until", r.stderr)

        r = self.run_cli("--url", self.server.url, "--token", self.agent, "--json",
                         "--request", self.request["id"], "--choice", "deny", "--as", "carol")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout), api)

    def test_countersign_link_with_url_says_why_it_printed_nothing(self):
        base = ["--url", self.server.url, "--request", self.request["id"], "--choice", "approve"]
        # Not an approver of the request: the server made no link for bob.
        r = self.run_cli(*base, "--token", self.agent, "--as", "bob")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("no link for bob", r.stderr)
        self.assertIn("alice, carol", r.stderr)
        self.assertEqual(r.stdout, "")
        # The server refuses the caller (another agent: it cannot see the request).
        r = self.run_cli(*base, "--token", self.other_agent, "--as", "alice")
        self.assertEqual(r.returncode, 1, r.stderr)
        # An expiry of one's own cannot be honoured: the server's links last until the deadline.
        r = self.run_cli(*base, "--token", self.agent, "--as", "alice", "--ttl", "1h")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("--ttl", r.stderr)


if __name__ == "__main__":
    unittest.main()
