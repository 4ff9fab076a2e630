"""A choice's meaning is its outcome (issue 14, item 1), against the real server.

The ids approve and deny always lead to approved and denied; a label naming the opposite
outcome is refused; the colour of a button comes from its outcome, and a custom label is shown
with the outcome in words ("Ship it — approves") on the link page and in the CLI.
"""

import html
import os
import re
import subprocess
import unittest
import urllib.parse

import harness

CLI_TIMEOUT = 60  # seconds; a safety net so a hung CLI fails the test instead of the run
BUTTON = re.compile(r'<button type="submit" class="([^"]*)"><bdi>([^<]*)</bdi></button>')


def run_cli(*args, env=None):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("COUNTERSIGN_")}
    clean.update(env or {})
    return subprocess.run([harness.BIN] + list(args), env=clean, capture_output=True, text=True,
                          timeout=CLI_TIMEOUT)


def choice(id_, label, outcome, style="default"):
    return {"id": id_, "label": label, "style": style, "outcome": outcome}


class ChoiceMeaningTest(harness.ServerTestCase):
    def setUp(self):
        super().setUp()
        self.agent = self.server.create_token("ci-bot", "agent")

    def create(self, choices):
        return self.server.call("POST", "/v1/requests",
                                {"action": "deploy_production", "title": "Deploy v2.0",
                                 "risk": "high", "choices": choices}, token=self.agent)

    def assert_refused(self, choices, *words):
        r = self.create(choices)
        self.assertEqual(r.status, 422, r)
        self.assertEqual(r.json["error"]["code"], "invalid", r)
        for word in words:
            self.assertIn(word, r.json["error"]["message"], r)

    def test_a_deny_choice_that_approves_is_refused(self):
        self.assert_refused([choice("approve", "Approve", "approved", "primary"),
                             choice("deny", "Deny", "approved", "danger")], "'deny'", "denied")

    def test_an_approve_choice_that_denies_is_refused(self):
        self.assert_refused([choice("approve", "Approve", "denied", "primary")], "'approve'",
                            "approved")

    def test_a_label_naming_the_opposite_outcome_is_refused(self):
        cases = [("stop", "Deny", "approved"), ("go", "DENY it", "approved"),
                 ("halt", "Reject", "approved"), ("nope", "No", "approved"),
                 ("ok", "Yes", "denied"), ("fine", "approve now", "denied"),
                 ("let", "Allow", "denied"), ("up", "Approve", "escalate")]
        for id_, label, outcome in cases:
            with self.subTest(label=label, outcome=outcome):
                self.assert_refused([choice(id_, label, outcome)], f"'{id_}'", f"'{label}'")

    def test_words_inside_other_words_do_not_count(self):
        r = self.create([choice("ship", "Knowledge nothing", "approved"),
                         choice("stop", "Yesterday's build", "denied")])
        self.assertEqual(r.status, 201, r)

    def test_colour_comes_from_the_outcome_and_custom_labels_say_what_they_do(self):
        r = self.create([choice("ship", "Ship it", "approved", "danger"),
                         choice("hold", "Hold", "denied", "primary"),
                         choice("deny", "Deny", "denied", "primary")])
        self.assertEqual(r.status, 201, r)
        created = r.json
        self.assertEqual([(c["id"], c["style"]) for c in created["choices"]],
                         [("ship", "primary"), ("hold", "danger"), ("deny", "danger")])

        expected = {"ship": ("primary", "Ship it \u2014 approves"),
                    "hold": ("danger", "Hold \u2014 denies"),
                    "deny": ("danger", "Deny")}
        for choice_id, (style, label) in expected.items():
            with self.subTest(choice=choice_id):
                link = run_cli("link", "--data-dir", self.server.data_dir, "--request",
                               created["id"], "--choice", choice_id, "--as", "alice",
                               "--public-url", self.server.url)
                self.assertEqual(link.returncode, 0, link.stderr)
                path = urllib.parse.urlsplit(link.stdout.strip()).path
                page = self.server.call("GET", path, token=None)
                self.assertEqual(page.status, 200, page)
                buttons = BUTTON.findall(page.body)
                self.assertEqual([(c, html.unescape(t)) for c, t in buttons], [(style, label)])

        shown = run_cli("get", created["id"],
                        env={"COUNTERSIGN_URL": self.server.url,
                             "COUNTERSIGN_TOKEN": self.server.admin_token})
        self.assertEqual(shown.returncode, 0, shown.stderr)
        self.assertIn("Ship it \u2014 approves", shown.stdout)
        self.assertIn("Hold \u2014 denies", shown.stdout)

    def test_countersign_deny_denies(self):
        r = self.create([choice("approve", "Ship it", "approved"),
                         choice("deny", "Hold", "denied")])
        self.assertEqual(r.status, 201, r)
        alice = self.server.create_token("alice", "approver")
        out = run_cli("deny", r.json["id"], env={"COUNTERSIGN_URL": self.server.url,
                                                "COUNTERSIGN_TOKEN": alice})
        self.assertEqual(self.server.get_request(r.json["id"])["status"], "denied",
                         out.stdout + out.stderr)


if __name__ == "__main__":
    unittest.main()
