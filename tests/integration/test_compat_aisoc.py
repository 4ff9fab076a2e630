"""The AiSOC ChatOps verification adapter (seeds/000_...) against the real binary.

POST /v1/verifications posts a "was this you?" prompt to a fake Slack incoming webhook, a fake
Slack Web API or a fake Teams webhook (tests/testing/fake_chat.py, which records the JSON it
gets); each of its three buttons opens /api/v1/chatops/callback?token=..., whose GET only
renders and whose form POST decides as the verification's user. The case timeline comes from
the audit log. Tokens are recomputed independently (link_tokens.py) to check the URLs.
"""

import html
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import unittest
import urllib.parse

from harness import Server

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testing"))
from fake_chat import Answer, FakeChat  # noqa: E402
from link_tokens import link_token, unix_seconds  # noqa: E402
import webhook_signature  # noqa: E402

SLACK_HOOK = "/services/T000/B000/aisoc"
TEAMS_HOOK = "/teams/workflows/aisoc"
CONNECTOR = "/connector/webhookb2/aisoc"
CASE_SERVICE = "/cases/timeline"
USER = "alice@example.com"
FORM = "application/x-www-form-urlencoded"
CSRF_FIELD = re.compile(r'name="csrf" value="([A-Za-z0-9_-]+)"')
CALLBACK = "/api/v1/chatops/callback"
LABELS = ["Yes, that was me", "No, that wasn't me", "I'm not sure \u2014 escalate"]
CHOICES = ["acknowledge", "deny", "escalate"]

# No policy: verifications run for [compat.aisoc] timeout_seconds (900 s by default), though
# the built-in policy's default timeout is 300 s, since a policy's timeout is not a ceiling.
CONFIG = """
# The fake servers of this test listen on loopback over http, which the outbound policy
# refuses unless the config names it.
[outbound]
allow = ["127.0.0.1/32"]

[compat.aisoc]
enabled = true
allow_hosts = ["127.0.0.1", "*.webhook.office.com"]
slack_api_base = "{api_base}"
"""


def closed_port():
    """A loopback port nothing listens on (bound, then released)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def path_of(url):
    """The path and query of `url`, as an HTTP request names them."""
    return urllib.parse.urlsplit(url)._replace(scheme="", netloc="").geturl()


def slack_buttons(body):
    """(text, url, style) of each button of the Block Kit message, in order."""
    actions = [b for b in body["blocks"] if b["type"] == "actions"]
    assert len(actions) == 1, body
    return [(e["text"]["text"], e["url"], e.get("style")) for e in actions[0]["elements"]]


def adaptive_buttons(body):
    attachment = body["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive", body
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard", card
    return [(a["title"], a["url"], a.get("style")) for a in card["actions"]
            if a["type"] == "Action.OpenUrl"]


class AisocTestCase(unittest.TestCase):
    config = CONFIG

    def setUp(self):
        self.fake = FakeChat().start()
        self.addCleanup(self.fake.stop)
        self.dir = tempfile.mkdtemp(prefix="countersign-aisoc-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        config = os.path.join(self.dir, "countersign.toml")
        with open(config, "w") as f:
            f.write(self.config.format(api_base=self.fake.api_base))
        self.server = Server(data_dir=self.dir, extra_args=["--config", config])
        self.server.start()
        self.addCleanup(self._stop_server)
        # Anonymous verifications are off by default (issue 14): the client calls as the
        # adapter's agent, with a token.
        self.agent = self.server.create_token("aisoc", "agent")

    def _stop_server(self):
        result = getattr(self._outcome, "result", None)
        if result is not None and any(t is self for t, _ in result.errors + result.failures):
            print(self.server.read_log()[-6000:])
        self.server.stop()

    # -- helpers -----------------------------------------------------------------------------
    def verify(self, token="agent", **fields):
        """POST /v1/verifications as the seed's client does, with the adapter agent's token."""
        if token == "agent":
            token = self.agent
        body = {"case_id": "CASE-1", "tenant_id": "acme", "user_ref": USER, "transport": "slack",
                "webhook_url": self.fake.url + SLACK_HOOK, "rationale": "login from a new country"}
        body.update(fields)
        body = {k: v for k, v in body.items() if v is not None}
        return self.server.call("POST", "/v1/verifications", body, token=token)

    def started(self, **fields):
        r = self.verify(**fields)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.json["status"], "running", r)
        return r.json

    def verifications(self):
        r = self.server.call("GET", "/v1/requests?action=chatops.verify")
        self.assertEqual(r.status, 200, r)
        return r.json["requests"]

    def timeline(self, case_id="CASE-1", token="agent"):
        if token == "agent":
            token = self.agent
        return self.server.call("GET", f"/v1/cases/{urllib.parse.quote(case_id)}/timeline",
                                token=token)

    def callback_url(self, request, choice):
        """The URL the prompt must carry for `choice`, computed independently."""
        with open(os.path.join(self.dir, "link_key"), "rb") as f:
            key = f.read()
        token = link_token(key, request["tenant"], request["id"], choice, USER,
                           unix_seconds(request["deadline_at"]))
        return self.server.url + CALLBACK + "?token=" + token

    def open_form(self, url):
        """GETs the confirm page at `url`; returns (the page, cookie to send back, csrf)."""
        page = self.server.call("GET", path_of(url), token=None)
        self.assertEqual(page.status, 200, page)
        set_cookie = page.headers["Set-Cookie"]
        match = CSRF_FIELD.search(page.body)
        self.assertIsNotNone(match, page.body)
        return page, set_cookie, match.group(1)

    def press(self, url, comment=""):
        """Opens the callback link and presses its button, as a browser would."""
        _, set_cookie, csrf = self.open_form(url)
        return self.server.call(
            "POST", path_of(url), token=None, content_type=FORM,
            raw=urllib.parse.urlencode({"csrf": csrf, "comment": comment}).encode(),
            headers={"Cookie": set_cookie.split(";", 1)[0], "Origin": "null"})


class VerificationFlowTest(AisocTestCase):
    def test_slack_prompt_is_block_kit_with_three_url_buttons_to_the_callback(self):
        out = self.started()
        req = self.server.get_request(out["verification_id"])
        self.assertEqual(out["case_id"], "CASE-1")
        self.assertEqual(out["tenant_id"], "acme")
        self.assertEqual(out["user_ref"], USER)
        self.assertEqual(out["transport"], "slack")
        self.assertIsNone(out["channel"])
        self.assertEqual(out["delivery"], {"mode": "incoming_webhook", "status_code": 200})
        self.assertEqual(out["expires_in_seconds"], 900)
        self.assertNotIn("timeline_warning", out)

        self.assertEqual(req["kind"], "verification")
        self.assertEqual(req["action"], "chatops.verify")
        self.assertEqual(req["status"], "pending")
        self.assertEqual(req["requester"], "aisoc")
        self.assertEqual(req["approvers"], [USER])
        self.assertEqual(req["session"], "case:CASE-1")
        self.assertEqual(req["title"], f"AiSOC needs to confirm activity on your account ({USER}).")
        self.assertEqual(req["details"]["case_id"], "CASE-1")
        self.assertEqual(req["details"]["tenant_id"], "acme")
        self.assertEqual(req["details"]["context"],
                         "Incident `CASE-1` \u2014 rationale: login from a new country")

        [post] = self.fake.wait_for(1, path=SLACK_HOOK)
        self.assertEqual(slack_buttons(post.json), [
            (LABELS[0], self.callback_url(req, "acknowledge"), "primary"),
            (LABELS[1], self.callback_url(req, "deny"), "danger"),
            (LABELS[2], self.callback_url(req, "escalate"), None)])
        text = json.dumps(post.json)
        self.assertIn("AiSOC needs to confirm activity on your account", text)
        self.assertIn("login from a new country", text)
        self.assertNotIn("/l/", text)
        self.assertIs(post.json["unfurl_links"], False)

        events = [e["type"] for e in self.server.audit(req["id"])]
        self.assertEqual(events, ["request.created", "chatops.verify.prompted"])
        tl = self.timeline()
        self.assertEqual(tl.status, 200, tl)
        self.assertEqual(tl.json["case_id"], "CASE-1")
        [prompted] = tl.json["events"]
        self.assertEqual(prompted["type"], "chatops.verify.prompted")
        self.assertEqual(prompted["content"], f"ChatOps verification sent to {USER} via slack. "
                                              "Awaiting response (TTL 900s).")
        self.assertEqual(prompted["metadata"], {
            "action_id": req["id"], "verification_id": req["id"], "tenant_id": "acme",
            "transport": "slack", "channel": None, "user_ref": USER,
            "question": req["title"], "expires_in_seconds": 900})

    def test_teams_prompt_is_an_adaptive_card_in_the_workflows_envelope(self):
        out = self.started(transport="teams", webhook_url=self.fake.url + TEAMS_HOOK,
                           question="Did you sign in from Lisbon?", context="Case 7, VPN off")
        req = self.server.get_request(out["verification_id"])
        self.assertEqual(out["delivery"], {"mode": "workflows", "status_code": 202})
        [post] = self.fake.wait_for(1, path=TEAMS_HOOK)
        self.assertEqual(post.json["type"], "message")
        self.assertEqual(adaptive_buttons(post.json), [
            (LABELS[0], self.callback_url(req, "acknowledge"), "positive"),
            (LABELS[1], self.callback_url(req, "deny"), "destructive"),
            (LABELS[2], self.callback_url(req, "escalate"), None),
            # The Teams card of every request ends with its page in the web inbox.
            ("Open in the inbox", self.server.url + "/ui/requests/" + req["id"], None)])
        text = json.dumps(post.json)
        self.assertIn("Did you sign in from Lisbon?", text)
        self.assertIn("Case 7, VPN off", text)

    def test_teams_can_take_a_legacy_messagecard(self):
        out = self.started(transport="teams", webhook_url=self.fake.url + CONNECTOR,
                           teams_format="messagecard")
        req = self.server.get_request(out["verification_id"])
        self.assertEqual(out["delivery"], {"mode": "connector", "status_code": 200})
        [post] = self.fake.wait_for(1, path=CONNECTOR)
        self.assertEqual(post.json["@type"], "MessageCard")
        actions = post.json["potentialAction"]
        self.assertEqual([(a["name"], a["targets"][0]["uri"]) for a in actions],
                         [(LABELS[i], self.callback_url(req, c)) for i, c in enumerate(CHOICES)]
                         + [("Open in the inbox", self.server.url + "/ui/requests/" + req["id"])])

    def test_a_bot_token_and_channel_post_the_same_buttons_with_chat_post_message(self):
        out = self.started(bot_token=self.fake.bot_token, channel="C0123456789")
        req = self.server.get_request(out["verification_id"])
        self.assertEqual(out["channel"], "C0123456789")
        self.assertEqual(out["delivery"]["mode"], "chat.postMessage")
        self.assertEqual(out["delivery"]["channel"], "C0123456789")
        [post] = self.fake.wait_for(1, path="/api/chat.postMessage")
        self.assertEqual(post.header("Authorization"), "Bearer " + self.fake.bot_token)
        self.assertEqual(out["delivery"]["ts"], post.answer_json["ts"])
        self.assertEqual(post.json["channel"], "C0123456789")
        self.assertEqual([b[1] for b in slack_buttons(post.json)],
                         [self.callback_url(req, c) for c in CHOICES])

    def check_choice(self, transport, hook, choice, expected_status):
        case = f"CASE-{transport}-{choice}"
        out = self.started(case_id=case, transport=transport, webhook_url=self.fake.url + hook)
        rid = out["verification_id"]
        post = self.fake.requests(path=hook)[-1]  # delivered before the 202
        buttons = slack_buttons(post.json) if transport == "slack" else adaptive_buttons(post.json)
        url = buttons[CHOICES.index(choice)][1]

        # A GET (a person, an unfurler or a mail scanner) only renders the confirm page.
        page, set_cookie, _ = self.open_form(url)
        self.assertIn(LABELS[CHOICES.index(choice)], html.unescape(page.body))
        self.assertIn('<form method="post">', page.body)
        self.assertRegex(set_cookie, r"^cs_link_csrf=[A-Za-z0-9_-]{43}; "
                                     r"Path=/api/v1/chatops/callback; HttpOnly; SameSite=Strict$")
        self.assertEqual(self.server.get_request(rid)["status"], "pending")
        self.assertNotIn("decision.recorded", [e["type"] for e in self.server.audit(rid)])

        recorded = self.press(url, comment="from my phone")
        self.assertEqual(recorded.status, 200, recorded)
        req = self.server.get_request(rid)
        self.assertEqual(req["status"], expected_status)
        [decision] = req["decisions"]
        self.assertEqual((decision["choice"], decision["by"]), (choice, USER))
        if choice == "escalate":
            # No escalation tier is configured: the engine raises the level and the request
            # waits (for an analyst through the API, or the deadline).
            self.assertEqual(req["escalation_level"], 1)
            self.assertIn("request.escalated", [e["type"] for e in self.server.audit(rid)])

        tl = self.timeline(case)
        self.assertEqual(tl.status, 200, tl)
        self.assertEqual([e["type"] for e in tl.json["events"]],
                         ["chatops.verify.prompted", "chatops.verify.responded"])
        responded = tl.json["events"][1]
        self.assertEqual(responded["metadata"]["choice"], choice)
        self.assertEqual(responded["metadata"]["who"], USER)
        self.assertEqual(responded["metadata"]["via"], "chatops_callback")
        self.assertEqual(responded["metadata"]["comment"], "from my phone")
        self.assertEqual(responded["content"], f"{USER} answered the ChatOps verification: "
                                               f"{LABELS[CHOICES.index(choice)]}.")
        self.assertLessEqual(tl.json["events"][0]["at"], responded["at"])

    def test_each_choice_through_slack_and_teams_is_recorded_and_on_the_timeline(self):
        expected = {"acknowledge": "approved", "deny": "denied", "escalate": "pending"}
        for transport, hook in (("slack", SLACK_HOOK), ("teams", TEAMS_HOOK)):
            for choice in CHOICES:
                with self.subTest(transport=transport, choice=choice):
                    self.check_choice(transport, hook, choice, expected[choice])

    def test_a_used_link_cannot_decide_again_and_a_forged_one_is_refused(self):
        out = self.started()
        req = self.server.get_request(out["verification_id"])
        self.assertEqual(self.press(self.callback_url(req, "deny")).status, 200)
        again = self.server.call("GET", path_of(self.callback_url(req, "acknowledge")),
                                 token=None)
        self.assertEqual(again.status, 409, again)
        forged = self.server.call("GET", CALLBACK + "?token=bm90LWEtdG9rZW4.AAAA", token=None)
        self.assertEqual(forged.status, 400, forged)
        missing = self.server.call("GET", CALLBACK, token=None)
        self.assertEqual(missing.status, 400, missing)
        self.assertEqual(self.server.get_request(req["id"])["status"], "denied")

    def test_a_post_without_the_page_cookie_records_nothing(self):
        out = self.started()
        req = self.server.get_request(out["verification_id"])
        r = self.server.call("POST", path_of(self.callback_url(req, "acknowledge")), token=None,
                             content_type=FORM,
                             raw=b"csrf=" + b"A" * 43 + b"&comment=")
        self.assertEqual(r.status, 403, r)
        self.assertEqual(self.server.get_request(req["id"])["status"], "pending")

    def test_the_timeline_belongs_to_the_callers_tenant(self):
        self.started(case_id="CASE-9")
        other = self.server.create_token("intruder", "admin", tenant="globex")
        self.assertEqual(self.timeline("CASE-9", token=other).status, 404)
        self.assertEqual(self.timeline("CASE-404").status, 404)
        admin = self.timeline("CASE-9", token="admin")
        self.assertEqual(admin.status, 200, admin)
        self.assertEqual(len(admin.json["events"]), 1)

    def test_a_bad_token_is_401_even_though_anonymous_calls_are_allowed(self):
        r = self.verify(token="cs_not_a_real_token")
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json["status"], "failed")
        self.assertEqual(self.verifications(), [])


class FailureModeTest(AisocTestCase):
    def assert_failed(self, r, status, error=None):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.json["status"], "failed", r)
        if error is not None:
            self.assertEqual(r.json["error"], error)
        return r.json

    def test_an_unsupported_transport_is_400_and_creates_nothing(self):
        self.assert_failed(self.verify(transport="Email"), 400,
                           "unsupported ChatOps transport: 'Email'")
        self.assertEqual(self.verifications(), [])

    def test_a_missing_webhook_url_is_400_and_creates_nothing(self):
        self.assert_failed(self.verify(webhook_url=None), 400,
                           "parameters.webhook_url is required for ChatOps verification")
        self.assert_failed(self.verify(webhook_url=""), 400,
                           "parameters.webhook_url is required for ChatOps verification")
        self.assertEqual(self.verifications(), [])

    def test_bad_input_is_400_with_a_clear_error(self):
        r = self.server.call("POST", "/v1/verifications", raw=b"{not json", token=self.agent)
        self.assert_failed(r, 400)
        self.assert_failed(self.verify(case_id=None), 400, "case_id is required")
        self.assert_failed(self.verify(user_ref=None), 400, "user_ref is required")
        self.assert_failed(self.verify(case_id=["x"]), 400, "case_id must be a string")
        self.assert_failed(self.verify(question="x" * 513), 400,
                           "question is longer than 512 bytes")
        self.assert_failed(self.verify(bot_token="xoxb-1"), 400,
                           "channel is required with bot_token (Slack chat.postMessage)")
        self.assertEqual(self.verifications(), [])

    def test_hosts_outside_the_allow_list_are_400_and_nothing_is_sent(self):
        out = self.assert_failed(self.verify(webhook_url="https://hooks.evil.example/x"), 400)
        self.assertIn("allow_hosts", out["error"])
        out = self.assert_failed(self.verify(webhook_url="http://hooks.webhook.office.com/x"), 400)
        self.assertIn("https", out["error"])
        out = self.assert_failed(self.verify(webhook_url="https://user@127.0.0.1/x"), 400)
        self.assertIn("user info", out["error"])
        out = self.assert_failed(self.verify(timeline_url="https://cases.evil.example/t"), 400)
        self.assertIn("timeline_url", out["error"])
        self.assertEqual(self.verifications(), [])
        self.assertEqual(self.fake.requests(), [])

    def assert_cancelled_with_502(self, r, why):
        out = self.assert_failed(r, 502)
        self.assertIn(why, out["error"])
        self.assertEqual(out["request_status"], "cancelled")
        req = self.server.get_request(out["verification_id"])
        self.assertEqual(req["status"], "cancelled")
        [cancelled] = [e for e in self.server.audit(req["id"]) if e["type"] == "request.cancelled"]
        self.assertIn("ChatOps prompt not delivered", cancelled["data"]["reason"])
        self.assertNotIn("chatops.verify.prompted", [e["type"] for e in self.server.audit(req["id"])])

    def test_an_unreachable_transport_is_502_and_the_request_is_cancelled_not_pending(self):
        self.assert_cancelled_with_502(
            self.verify(webhook_url=f"http://127.0.0.1:{closed_port()}/services/x"), "slack")

    def test_a_non_2xx_answer_is_502_and_the_request_is_cancelled(self):
        self.fake.script(TEAMS_HOOK, Answer(404, "workflow not found"))
        self.assert_cancelled_with_502(
            self.verify(transport="teams", webhook_url=self.fake.url + TEAMS_HOOK), "HTTP 404")

    def test_a_slack_web_api_refusal_is_502(self):
        self.assert_cancelled_with_502(self.verify(bot_token="xoxb-wrong", channel="C1"),
                                       "invalid_auth")


class TimelineUrlTest(AisocTestCase):
    def test_the_case_service_gets_signed_prompted_and_responded_events(self):
        out = self.started(timeline_url=self.fake.url + CASE_SERVICE)
        self.assertNotIn("timeline_warning", out)
        [prompted] = self.fake.wait_for(1, path=CASE_SERVICE)
        with open(os.path.join(self.dir, "callback.key")) as f:
            secret = f.read().strip()
        self.assertTrue(webhook_signature.verify_request(secret, prompted))
        self.assertEqual(prompted.header("X-Countersign-Event"), "chatops.verify.prompted")
        self.assertEqual(prompted.json["case_id"], "CASE-1")
        self.assertEqual(prompted.json["type"], "chatops.verify.prompted")
        self.assertEqual(prompted.json["metadata"]["verification_id"], out["verification_id"])
        # What the case service got is what the timeline shows.
        tl = self.timeline().json["events"]
        self.assertEqual({k: v for k, v in prompted.json.items() if k != "case_id"}, tl[0])

        req = self.server.get_request(out["verification_id"])
        self.assertEqual(self.press(self.callback_url(req, "acknowledge")).status, 200)
        responded = self.fake.wait_for(2, path=CASE_SERVICE)[1]
        self.assertEqual(responded.json["type"], "chatops.verify.responded")
        self.assertEqual(responded.json["metadata"]["choice"], "acknowledge")
        self.assertEqual(responded.json["metadata"]["who"], USER)
        self.assertEqual({k: v for k, v in responded.json.items() if k != "case_id"},
                         self.timeline().json["events"][1])

    def test_a_dead_case_service_is_a_warning_and_the_verification_still_runs(self):
        out = self.started(timeline_url=f"http://127.0.0.1:{closed_port()}/timeline")
        self.assertIn("timeline chatops.verify.prompted write failed", out["timeline_warning"])
        self.assertEqual(self.server.get_request(out["verification_id"])["status"], "pending")
        self.fake.wait_for(1, path=SLACK_HOOK)
        # The failure is on the record before the answer.
        failures = [e for e in self.server.audit(out["verification_id"])
                    if e["type"] == "chatops.verify.timeline_failed"]
        self.assertEqual(len(failures), 1)
        self.assertEqual(failures[0]["data"]["event"], "chatops.verify.prompted")


class DisabledTest(unittest.TestCase):
    def test_every_route_is_404_naming_the_setting_while_the_adapter_is_off(self):
        with Server() as server:
            r = server.call("POST", "/v1/verifications",
                            {"case_id": "C", "user_ref": USER, "webhook_url": "https://x"},
                            token=None)
            self.assertEqual(r.status, 404, r)
            self.assertEqual(r.json["status"], "failed")
            self.assertIn("[compat.aisoc] enabled = true", r.json["error"])
            for path in ("/v1/cases/C/timeline", CALLBACK + "?token=x"):
                r = server.call("GET", path, token=None)
                self.assertEqual(r.status, 404, r)
                self.assertIn("[compat.aisoc] enabled = true", r.json["error"])
            self.assertEqual(server.call("GET", "/v1/requests").json["requests"], [])


if __name__ == "__main__":
    unittest.main()
