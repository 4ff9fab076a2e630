"""The Teams channel end to end (a fake Workflows webhook and a fake legacy connector on
loopback), and the signed POSTs a generic [[webhook]] receiver gets from the same outbox."""

import json
import os
import shutil
import sys
import tempfile
import unittest

from harness import Server

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testing"))
from fake_chat import Answer, FakeChat  # noqa: E402
from link_tokens import one_click_url  # noqa: E402
import webhook_signature  # noqa: E402

WORKFLOW = "/teams/workflows/ops"
CONNECTOR = "/connector/webhookb2/legacy"
RECEIVER = "/hook/audit"
WEBHOOK_SECRET = "whsec-0123456789abcdef"

CONFIG = """
# The fake servers of this test listen on loopback over http, which the outbound policy
# refuses unless the config names it.
[outbound]
allow = ["127.0.0.1/32"]

[outbox]
max_attempts = 8
retry_base = "100ms"
retry_max = "2s"

[[channel]]
name = "teams-ops"
type = "teams"
webhook_url = "{base}{workflow}"
format = "adaptive"

[[channel]]
name = "teams-legacy"
type = "teams"
webhook_url = "{base}{connector}"
format = "messagecard"
principal = "ops-room"

[[webhook]]
name = "audit"
url = "{base}{receiver}"
secret = "env:AUDIT_WEBHOOK_SECRET"
"""


class TeamsTest(unittest.TestCase):
    def setUp(self):
        self.fake = FakeChat().start()
        self.addCleanup(self.fake.stop)
        self.dir = tempfile.mkdtemp(prefix="countersign-teams-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        config = os.path.join(self.dir, "countersign.toml")
        with open(config, "w") as f:
            f.write(CONFIG.format(base=self.fake.url, workflow=WORKFLOW, connector=CONNECTOR,
                                  receiver=RECEIVER))
        self.server = Server(data_dir=self.dir, extra_args=["--config", config],
                             env={"AUDIT_WEBHOOK_SECRET": WEBHOOK_SECRET})
        self.server.start()
        self.addCleanup(self._stop_server)
        self.agent = self.server.create_token("ci-bot", "agent")
        self.carol = self.server.create_token("carol", "approver")

    def _stop_server(self):
        result = getattr(self._outcome, "result", None)
        if result is not None and any(t is self for t, _ in result.errors + result.failures):
            print(self.server.read_log()[-6000:])
        self.server.stop()

    def create(self, notify, **fields):
        body = {"action": "deploy_staging", "arguments": {"ref": "v2.0"},
                "notify": list(notify)}
        body.update(fields)
        return self.server.create_request(token=self.agent, **body)

    def link(self, r, choice, recipient):
        return one_click_url(self.dir, self.server.url, r, choice, recipient)

    def inbox_url(self, r):
        return self.server.url + "/ui/requests/" + r["id"]

    def facts(self, r, markdown=True):
        """The request's facts as a card shows them: with Markdown escaped where Teams renders
        it (Adaptive Cards), as typed where it does not (MessageCard sections)."""
        action = "deploy\\_staging" if markdown else "deploy_staging"
        return [("Action", action), ("Requested by", "ci-bot"),
                ("Deadline", r["deadline_at"][:19].replace("T", " ") + " UTC"),
                ("Risk", "normal"), ("Policy", r["policy"])]

    def test_a_request_is_posted_as_this_exact_adaptive_card_with_open_url_links(self):
        r = self.create(["teams-ops"])
        call = self.fake.wait_for(1, path=WORKFLOW)[0]
        self.assertEqual(call.answer_status, 202)
        self.assertEqual(call.header("Content-Type"), "application/json")
        self.assertEqual(call.json, {
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        {"type": "TextBlock", "text": "Approval needed", "weight": "Bolder",
                         "color": "Accent", "wrap": True},
                        {"type": "TextBlock", "text": "Deploy v2.0", "size": "Large",
                         "weight": "Bolder", "wrap": True},
                        {"type": "FactSet", "facts": [{"title": t, "value": v}
                                                      for t, v in self.facts(r)]},
                        {"type": "TextBlock", "text": "{\"ref\":\"v2.0\"}",
                         "fontType": "Monospace", "wrap": True}],
                    "actions": [
                        {"type": "Action.OpenUrl", "title": "Approve",
                         "url": self.link(r, "approve", "channel:teams-ops"),
                         "style": "positive"},
                        {"type": "Action.OpenUrl", "title": "Deny",
                         "url": self.link(r, "deny", "channel:teams-ops"),
                         "style": "destructive"},
                        {"type": "Action.OpenUrl", "title": "Open in the inbox",
                         "url": self.inbox_url(r)}],
                },
            }],
        })
        # The link is a real one: its GET shows the confirm page and decides nothing.
        url = call.json["attachments"][0]["content"]["actions"][0]["url"]
        page = self.server.call("GET", url[len(self.server.url):], token=None)
        self.assertEqual(page.status, 200, page)
        self.assertEqual(self.server.call("GET", "/v1/requests/" + r["id"]).json["status"],
                         "pending")
        # So is the inbox link: the request's page, which sends a signed-out browser to sign in.
        inbox = call.json["attachments"][0]["content"]["actions"][-1]["url"]
        page = self.server.call("GET", inbox[len(self.server.url):], token=None)
        self.assertEqual(page.status, 303, page)
        self.assertTrue(page.headers["Location"].startswith("/ui/login"), page.headers)

    def open_approve_page(self, r):
        """Follows the Approve action of the card posted for `r`; returns (url, page)."""
        call = self.fake.wait_for(1, path=WORKFLOW)[0]
        [url] = [a["url"] for a in call.json["attachments"][0]["content"]["actions"]
                 if a["title"] == "Approve"]
        self.assertEqual(url, self.link(r, "approve", "channel:teams-ops"))
        page = self.server.call("GET", url[len(self.server.url):], token=None)
        self.assertEqual(page.status, 200, page)
        return url, page

    def test_the_card_s_approve_action_opens_the_page_with_the_standing_approvals(self):
        r = self.create(["teams-ops"], session="run-7")
        url, page = self.open_approve_page(r)
        for value, label in (("", "Approve once"),
                             ("session:3600", "Approve for this session (1 h)"),
                             ("requester:2592000",
                              "Always approve deploy_staging for ci-bot (30 days)")):
            self.assertIn(f'name="grant" value="{value}" class="', page.body)
            self.assertIn(f"<bdi>{label}</bdi>", page.body)
        decided = self.server.post_link_form(url[len(self.server.url):],
                                             [("grant", "session:3600")])
        self.assertEqual(decided.status, 200, decided)
        self.assertIn("Also granted", decided.body)
        [grant] = self.server.call("GET", "/v1/grants").json["grants"]
        self.assertEqual((grant["scope"], grant["session"], grant["created_by"],
                          grant["request_id"]),
                         ("session", "run-7", "channel:teams-ops", r["id"]))
        again = self.create([], session="run-7")
        self.assertEqual((again["status"], again["reason_code"]),
                         ("approved", "approved_by_grant"))

    def test_a_high_risk_card_s_approve_page_offers_no_standing_approval(self):
        r = self.create(["teams-ops"], session="run-7", risk="high")
        _, page = self.open_approve_page(r)
        self.assertIn("High risk", page.body)
        self.assertNotIn('name="grant"', page.body)

    def test_a_resolution_is_posted_as_an_outcome_card_whose_only_action_opens_the_inbox(self):
        r = self.create(["teams-ops"])
        self.fake.wait_for(1, path=WORKFLOW)
        decided = self.server.call("POST", f"/v1/requests/{r['id']}/decisions",
                                   {"choice": "approve", "comment": "ship it"}, token=self.carol)
        self.assertEqual(decided.status, 200, decided)
        calls = self.fake.wait_for(2, path=WORKFLOW)
        card = calls[1].json["attachments"][0]["content"]
        self.assertEqual(card["actions"], [{"type": "Action.OpenUrl", "title": "Open in the inbox",
                                            "url": self.inbox_url(r)}])
        self.assertEqual(card["body"][0], {"type": "TextBlock", "text": "Approved by carol",
                                           "weight": "Bolder", "color": "Good", "wrap": True})
        self.assertEqual(card["body"][-1], {"type": "FactSet", "facts": [
            {"title": "carol", "value": "Approve \u2014 \u201cship it\u201d"}]})

    def test_the_messagecard_format_posts_this_exact_legacy_card(self):
        r = self.create(["teams-legacy"])
        call = self.fake.wait_for(1, path=CONNECTOR)[0]
        self.assertEqual(call.json, {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": "Approval needed: Deploy v2.0",
            "themeColor": "0076D7",
            "title": "Deploy v2.0",
            "sections": [
                {"activityTitle": "Approval needed", "markdown": False,
                 "facts": [{"name": n, "value": v}
                           for n, v in self.facts(r, markdown=False)]},
                {"title": "Arguments", "text": "{\"ref\":\"v2.0\"}", "markdown": False}],
            "potentialAction": [
                {"@type": "OpenUri", "name": "Approve",
                 "targets": [{"os": "default", "uri": self.link(r, "approve", "ops-room")}]},
                {"@type": "OpenUri", "name": "Deny",
                 "targets": [{"os": "default", "uri": self.link(r, "deny", "ops-room")}]},
                {"@type": "OpenUri", "name": "Open in the inbox",
                 "targets": [{"os": "default", "uri": self.inbox_url(r)}]}],
        })

    def test_throttling_is_retried_until_the_card_is_delivered(self):
        self.fake.script(WORKFLOW, Answer(429, "", {"Retry-After": "1"}), Answer(503))
        self.fake.script(CONNECTOR, Answer(200, "Microsoft Teams endpoint returned HTTP error 429 "
                                                "with ContextId tcid=0,server=msgapi"))
        self.create(["teams-ops", "teams-legacy"])
        workflow = self.fake.wait_for(3, path=WORKFLOW)
        self.assertEqual([c.answer_status for c in workflow], [429, 503, 202])
        self.assertEqual(workflow[0].body, workflow[2].body)
        legacy = self.fake.wait_for(2, path=CONNECTOR)
        self.assertEqual(legacy[0].body, legacy[1].body)

    def test_a_webhook_receiver_gets_signed_posts_of_every_event(self):
        r = self.create([])
        calls = self.fake.wait_for(1, path=RECEIVER)
        call = calls[0]
        self.assertEqual(call.header("X-Countersign-Event"), "request.created")
        self.assertTrue(call.header("X-Countersign-Delivery").startswith("dlv_"))
        # Signed over its timestamp and body, as a receiver checks it (docs/api.md).
        self.assertTrue(webhook_signature.verify_request(WEBHOOK_SECRET, call))
        self.assertEqual(call.json["event"], "request.created")
        self.assertEqual(call.json["request"]["id"], r["id"])
        self.assertEqual(json.loads(call.body)["request"]["status"], "pending")
        self.assertEqual(call.json["inbox_url"], self.inbox_url(r))


if __name__ == "__main__":
    unittest.main()
