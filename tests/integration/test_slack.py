"""The Slack channel end to end: the real server posts to a fake Slack Web API on loopback,
Slack-signed button presses come back to POST /hooks/slack, and the message is updated.

The fake (tests/testing/fake_chat.py) records every call, so these tests assert the exact
Block Kit JSON and button values the server sends.
"""

import datetime
import json
import os
import re
import shutil
import sys
import tempfile
import time
import unittest
import urllib.parse

from chat_grants import (assert_granted, assert_next_request_approved_by_grant,
                         assert_next_request_asks, grants_of)
from harness import Server
from stream_clients import SseClient, WsClient

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testing"))
from fake_chat import Answer, FakeChat, block_actions_body, slack_error, slack_headers  # noqa: E402
from link_tokens import one_click_url, unix_seconds  # noqa: E402

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"
CHANNEL_ID = "C0123456789"
POST = "/api/chat.postMessage"
UPDATE = "/api/chat.update"
HOOK_PATH = "/services/T0001/B0001/XXXXXXXXXXXXXXXXXXXXXXXX"

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
name = "slack-ops"
type = "slack"
bot_token = "env:SLACK_BOT_TOKEN"
signing_secret = "env:SLACK_SIGNING_SECRET"
channel = "{channel}"
api_base = "{api_base}"

[[channel]]
name = "slack-hook"
type = "slack"
webhook_url = "{hook_url}"

[identities]
"slack:U024BE7LH" = "alice"
"slack:U0BOB" = "bob"
"""


def button_value(request_id, choice, channel="slack-ops"):
    return json.dumps({"channel": channel, "request": request_id, "choice": choice},
                      separators=(",", ":"))


def grant_value(request_id, scope, choice="approve", channel="slack-ops"):
    """The value of a grant button: the approve choice plus the scope of a grant option."""
    return json.dumps({"channel": channel, "request": request_id, "choice": choice,
                       "grant": scope}, separators=(",", ":"))


def grant_button(r, scope, label):
    return {"type": "button", "text": {"type": "plain_text", "text": label, "emoji": True},
            "action_id": "approve:" + scope, "value": grant_value(r["id"], scope),
            "style": "primary"}


def inbox_link(public_url, r):
    """The mrkdwn link to the request's page in the web inbox that ends the context line."""
    return "<%s/ui/requests/%s|Open in the inbox>" % (public_url, r["id"])


def expected_post(r, public_url):
    """The exact chat.postMessage body for a pending request made by SlackTest.create(), on a
    server whose public URL is `public_url`."""
    deadline = r["deadline_at"]
    return {
        "channel": CHANNEL_ID,
        "text": "Approval needed: Deploy v2.0 (deploy_staging, requested by ci-bot)",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Deploy v2.0",
                                        "emoji": True}},
            {"type": "section", "fields": [
                {"type": "mrkdwn", "text": "*Action*\n`deploy_staging`"},
                {"type": "mrkdwn", "text": "*Requested by*\nci-bot"},
                {"type": "mrkdwn", "text": "*Deadline*\n<!date^%d^{date_short_pretty} {time}|%s>"
                                           % (unix_seconds(deadline), deadline)},
                {"type": "mrkdwn", "text": "*Risk*\nnormal"}]},
            {"type": "section", "text": {"type": "mrkdwn",
                                         "text": "*Arguments*\n```{\n  \"ref\": \"v2.0\"\n}```"}},
            {"type": "context", "elements": [
                {"type": "mrkdwn",
                 "text": "Request `%s` \u00b7 policy `%s` \u00b7 %s"
                         % (r["id"], r["policy"], inbox_link(public_url, r))}]},
            {"type": "actions", "block_id": "countersign", "elements": [
                {"type": "button",
                 "text": {"type": "plain_text", "text": "Approve", "emoji": True},
                 "action_id": "approve", "value": button_value(r["id"], "approve"),
                 "style": "primary"},
                {"type": "button",
                 "text": {"type": "plain_text", "text": "Deny", "emoji": True},
                 "action_id": "deny", "value": button_value(r["id"], "deny"),
                 "style": "danger"},
                # The default policy offers "always approve" (30 days); "for this session"
                # needs a request made in a session.
                grant_button(r, "requester",
                             "Always approve deploy_staging for ci-bot (30 days)")]}],
        "unfurl_links": False,
        "unfurl_media": False,
    }


class SlackTest(unittest.TestCase):
    def setUp(self):
        self.fake = FakeChat(bot_token=BOT_TOKEN).start()
        self.addCleanup(self.fake.stop)
        self.dir = tempfile.mkdtemp(prefix="countersign-slack-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        config = os.path.join(self.dir, "countersign.toml")
        with open(config, "w") as f:
            f.write(CONFIG.format(channel=CHANNEL_ID, api_base=self.fake.api_base,
                                  hook_url=self.fake.url + HOOK_PATH))
        self.server = Server(data_dir=self.dir, extra_args=["--config", config],
                             env={"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SECRET})
        self.server.start()
        self.addCleanup(self._stop_server)
        self.agent = self.server.create_token("ci-bot", "agent")
        self.carol = self.server.create_token("carol", "approver")

    def _stop_server(self):
        result = getattr(self._outcome, "result", None)
        if result is not None and any(t is self for t, _ in result.errors + result.failures):
            print(self.server.read_log()[-6000:])
        self.server.stop()

    # -- helpers -----------------------------------------------------------------------------
    def create(self, notify=("slack-ops",), **fields):
        body = {"action": "deploy_staging", "arguments": {"ref": "v2.0"},
                "notify": list(notify)}
        body.update(fields)
        return self.server.create_request(token=self.agent, **body)

    def press(self, request_id, choice="approve", user="U024BE7LH", timestamp=None,
              secret=SECRET, response_url=None, body=None, headers=None):
        """POSTs a block_actions press the way Slack does; returns (response, body, headers)."""
        if body is None:
            body = block_actions_body(
                button_value(request_id, choice), user_id=user,
                response_url=response_url or self.fake.url + "/response/" + request_id,
                action_id=choice)
        if headers is None:
            headers = slack_headers(secret, body, timestamp)
        started = time.monotonic()
        r = self.server.call("POST", "/hooks/slack", raw=body.encode(), token=None,
                             headers=headers, content_type=None)
        self.assertLess(time.monotonic() - started, 3.0, "Slack needs an answer within 3 s")
        return r, body, headers

    def get(self, request_id):
        r = self.server.call("GET", "/v1/requests/" + request_id)
        self.assertEqual(r.status, 200, r)
        return r.json

    def audit_types(self, request_id):
        r = self.server.call("GET", "/v1/audit?request=" + request_id)
        self.assertEqual(r.status, 200, r)
        return [e["type"] for e in r.json["events"]]

    def update_showing(self, text):
        return self.fake.wait_until(lambda c: c.json and c.json.get("text") == text, path=UPDATE)

    # -- posting -----------------------------------------------------------------------------
    def test_a_request_naming_the_channel_is_posted_as_exact_block_kit_with_button_values(self):
        r = self.create()
        call = self.fake.wait_for(1, path=POST)[0]
        self.assertEqual(call.header("Authorization"), "Bearer " + BOT_TOKEN)
        self.assertTrue(call.header("Content-Type").startswith("application/json"))
        self.assertEqual(call.json, expected_post(r, self.server.url))
        buttons = call.json["blocks"][-1]["elements"]
        self.assertEqual([json.loads(b["value"]) for b in buttons],
                         [{"channel": "slack-ops", "request": r["id"], "choice": "approve"},
                          {"channel": "slack-ops", "request": r["id"], "choice": "deny"},
                          {"channel": "slack-ops", "request": r["id"], "choice": "approve",
                           "grant": "requester"}])
        self.assertEqual(call.answer_status, 200)

    def test_a_request_not_naming_the_channel_is_not_posted(self):
        r = self.create(notify=[])
        other = self.create()
        self.fake.wait_for(1, path=POST)
        self.assertEqual(len(self.fake.requests(path=POST)), 1)
        self.assertNotIn(r["id"], json.dumps(self.fake.requests(path=POST)[0].json))
        self.assertIn(other["id"], json.dumps(self.fake.requests(path=POST)[0].json))

    def test_high_risk_approve_buttons_ask_for_confirmation(self):
        r = self.create(risk="high", session="sess-1")
        call = self.fake.wait_for(1, path=POST)[0]
        # Two buttons: a high-risk request offers no standing permission.
        approve, deny = call.json["blocks"][-1]["elements"]
        self.assertEqual(r["grant_options"], [])
        self.assertNotIn('"grant"', json.dumps(call.json))
        self.assertEqual(approve["confirm"], {
            "title": {"type": "plain_text", "text": "Approve a high-risk action?", "emoji": True},
            "text": {"type": "mrkdwn", "text": "This approves `deploy_staging`: Deploy v2.0"},
            "confirm": {"type": "plain_text", "text": "Approve", "emoji": True},
            "deny": {"type": "plain_text", "text": "Cancel", "emoji": True},
            "style": "danger"})
        self.assertNotIn("confirm", deny)
        self.assertEqual(call.json["blocks"][1]["fields"][3]["text"], "*Risk*\n:warning: high")
        self.assertEqual(r["risk"], "high")

    def test_slack_failures_are_retried_until_delivered(self):
        self.fake.script(POST, Answer(500, "upstream"),
                         slack_error("ratelimited", status=429, retry_after=1),
                         slack_error("internal_error"))
        r = self.create()
        calls = self.fake.wait_for(4, path=POST)
        self.assertEqual([c.answer_status for c in calls], [500, 429, 200, 200])
        self.assertEqual(calls[3].answer_json["ok"], True)
        self.assertEqual(calls[3].json, expected_post(r, self.server.url))
        # The delivered post's ts is what a later update edits.
        self.server.call("POST", f"/v1/requests/{r['id']}/cancel", {"reason": "not today"},
                         token=self.agent)
        update = self.update_showing("Cancelled: Deploy v2.0")
        self.assertEqual(update.json["ts"], calls[3].answer_json["ts"])

    def test_an_error_slack_will_not_take_back_fails_without_retrying(self):
        self.fake.script(POST, slack_error("channel_not_found"))
        r = self.create()
        self.fake.wait_for(1, path=POST)
        deadline = time.monotonic() + 30
        while "notification.failed" not in self.audit_types(r["id"]):
            self.assertLess(time.monotonic(), deadline, self.audit_types(r["id"]))
            time.sleep(0.05)  # polling the server's audit log, not waiting for time to pass
        self.assertEqual(len(self.fake.requests(path=POST)), 1)

    # -- button presses ----------------------------------------------------------------------
    def test_a_signed_press_by_a_mapped_user_approves_and_the_message_shows_who(self):
        r = self.create()
        post = self.fake.wait_for(1, path=POST)[0]
        # since=0 replays the request's events from the start: nothing can be missed.
        sse = SseClient(self.server, f"/v1/events?request={r['id']}&since=0", token=self.carol)
        ws = WsClient(self.server, f"/v1/ws?request={r['id']}&since=0", token=self.carol)
        self.addCleanup(sse.close)
        self.addCleanup(ws.close)

        resp, _, _ = self.press(r["id"], "approve")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.body, "")
        now = self.get(r["id"])
        self.assertEqual(now["status"], "approved")
        self.assertEqual(now["resolved_by"], ["alice"])
        self.assertEqual(now["decisions"][0]["by"], "alice")

        update = self.update_showing("Approved by alice: Deploy v2.0")
        self.assertEqual(update.header("Authorization"), "Bearer " + BOT_TOKEN)
        self.assertEqual(update.json["channel"], CHANNEL_ID)
        self.assertEqual(update.json["ts"], post.answer_json["ts"])
        blocks = update.json["blocks"]
        self.assertNotIn("actions", [b["type"] for b in blocks], "the buttons must go")
        self.assertIn({"type": "section", "text": {
            "type": "mrkdwn",
            "text": ":white_check_mark: *Approved* by alice\n\u2022 *alice*: Approve"}}, blocks)
        # The request's page stays linked when the buttons go.
        self.assertEqual(blocks[-1]["type"], "context")
        self.assertTrue(blocks[-1]["elements"][0]["text"].endswith(
            " \u00b7 " + inbox_link(self.server.url, r)), blocks[-1])
        self.assertEqual(self.fake.message(CHANNEL_ID, post.answer_json["ts"])["text"],
                         "Approved by alice: Deploy v2.0")

        recorded = [e for e in self.server.audit(r["id"]) if e["type"] == "decision.recorded"]
        self.assertEqual(len(recorded), 1)
        self.assertEqual(recorded[0]["actor"], "alice")
        # Clients waiting on the live streams hear the resolution.
        heard = sse.events_until(lambda e: e.get("event") == "request.resolved")[-1]
        self.assertEqual(heard["data"]["data"]["status"], "approved")
        heard = ws.messages_until(lambda m: m.get("type") == "request.resolved")[-1]
        self.assertEqual(heard["data"]["status"], "approved")

    def test_a_wrong_signature_is_401_and_changes_nothing(self):
        r = self.create()
        self.fake.wait_for(1, path=POST)
        before = self.audit_types(r["id"])
        resp, _, _ = self.press(r["id"], secret="not-the-signing-secret")
        self.assertEqual(resp.status, 401, resp)
        self.assertEqual(resp.json["error"]["code"], "unauthorized")
        body = block_actions_body(button_value(r["id"], "approve"))
        headers = slack_headers(SECRET, body)
        del headers["X-Slack-Signature"]
        self.assertEqual(self.press(r["id"], body=body, headers=headers)[0].status, 401)
        self.assertEqual(self.get(r["id"])["status"], "pending")
        self.assertEqual(self.audit_types(r["id"]), before)

    def test_a_timestamp_301_seconds_old_is_401_and_changes_nothing(self):
        r = self.create()
        self.fake.wait_for(1, path=POST)
        before = self.audit_types(r["id"])
        resp, _, _ = self.press(r["id"], timestamp=int(time.time()) - 301)
        self.assertEqual(resp.status, 401, resp)
        self.assertEqual(self.get(r["id"])["status"], "pending")
        self.assertEqual(self.audit_types(r["id"]), before)

    def test_a_replayed_press_is_401_and_changes_nothing(self):
        r = self.create(quorum=2)
        self.fake.wait_for(1, path=POST)
        first, body, headers = self.press(r["id"], "approve")
        self.assertEqual(first.status, 200, first)
        after_first = self.audit_types(r["id"])
        self.assertEqual(after_first.count("decision.recorded"), 1)
        replay, _, _ = self.press(r["id"], body=body, headers=headers)
        self.assertEqual(replay.status, 401, replay)
        now = self.get(r["id"])
        self.assertEqual(now["status"], "pending")
        self.assertEqual(len(now["decisions"]), 1)
        self.assertEqual(self.audit_types(r["id"]), after_first)
        # A second approver's own press still completes the quorum.
        second, _, _ = self.press(r["id"], "approve", user="U0BOB")
        self.assertEqual(second.status, 200)
        self.assertEqual(self.get(r["id"])["resolved_by"], ["alice", "bob"])
        self.update_showing("Approved by alice, bob: Deploy v2.0")

    def test_an_unmapped_user_is_told_ephemerally_and_the_refusal_is_audited(self):
        r = self.create()
        self.fake.wait_for(1, path=POST)
        resp, _, _ = self.press(r["id"], user="U0UNMAPPED",
                                response_url=self.fake.url + "/response/T0001/1/unmapped")
        self.assertEqual(resp.status, 200, resp)
        answer = self.fake.wait_for(1, path="/response/T0001/1/unmapped")[0]
        self.assertEqual(answer.json, {
            "response_type": "ephemeral", "replace_original": False,
            "text": "not authorised: Slack user U0UNMAPPED is not mapped to a principal"})
        self.assertEqual(self.get(r["id"])["status"], "pending")
        rejected = [e for e in self.server.audit(r["id"]) if e["type"] == "decision.rejected"]
        self.assertEqual(len(rejected), 1)
        self.assertIn("U0UNMAPPED", json.dumps(rejected[0]["data"]))
        self.assertNotIn("decision.recorded", self.audit_types(r["id"]))

    def test_a_press_on_a_request_resolved_elsewhere_is_answered_ephemerally(self):
        r = self.create()
        self.fake.wait_for(1, path=POST)
        decided = self.server.call("POST", f"/v1/requests/{r['id']}/decisions",
                                   {"choice": "deny"}, token=self.carol)
        self.assertEqual(decided.status, 200, decided)
        resp, _, _ = self.press(r["id"], "approve",
                                response_url=self.fake.url + "/response/T0001/2/late")
        self.assertEqual(resp.status, 200, resp)
        # The refusal is recorded once, with where it came from.
        rejected = [e for e in self.server.audit(r["id"]) if e["type"] == "decision.rejected"]
        self.assertEqual(len(rejected), 1, rejected)
        self.assertEqual(rejected[0]["actor"], "alice")
        self.assertEqual(rejected[0]["data"]["via"]["identity"], "slack:U024BE7LH")
        answer = self.fake.wait_for(1, path="/response/T0001/2/late")[0]
        self.assertEqual(answer.json["response_type"], "ephemeral")
        self.assertEqual(answer.json["replace_original"], False)
        self.assertIn("denied", answer.json["text"])
        self.assertEqual(self.get(r["id"])["status"], "denied")

    def test_a_mapped_user_who_is_not_an_approver_is_told_why(self):
        r = self.create(approvers=["carol"])
        self.fake.wait_for(1, path=POST)
        resp, _, _ = self.press(r["id"], "approve",
                                response_url=self.fake.url + "/response/T0001/3/outsider")
        self.assertEqual(resp.status, 200, resp)
        rejected = [e for e in self.server.audit(r["id"]) if e["type"] == "decision.rejected"]
        self.assertEqual(len(rejected), 1, rejected)
        answer = self.fake.wait_for(1, path="/response/T0001/3/outsider")[0]
        self.assertEqual(answer.json["response_type"], "ephemeral")
        self.assertIn("not an approver", answer.json["text"])
        self.assertEqual(self.get(r["id"])["status"], "pending")
        self.assertEqual(self.get(r["id"])["decisions"], [])

    def test_a_press_on_a_request_with_a_form_is_answered_with_the_presser_s_own_form_link(self):
        schema = {"type": "object", "required": ["ticket"],
                  "properties": {"ticket": {"type": "string", "title": "Change ticket"}}}
        r = self.create(response_schema=schema)
        self.fake.wait_for(1, path=POST)
        resp, _, _ = self.press(r["id"], "approve",
                                response_url=self.fake.url + "/response/T0001/4/form")
        self.assertEqual(resp.status, 200, resp)
        answer = self.fake.wait_for(1, path="/response/T0001/4/form")[0]
        self.assertEqual(answer.json["response_type"], "ephemeral")
        text = answer.json["text"]
        self.assertIn("asks for a form", text)
        link = re.search(r"<(http://[^|>]+/l/[^|>]+)\|Open the form>", text)
        self.assertIsNotNone(link, text)
        self.assertEqual(self.get(r["id"])["status"], "pending")
        # The link is alice's own (the user who pressed) and its form decides as her.
        path = urllib.parse.urlsplit(link.group(1)).path
        done = self.server.post_link_form(path, [("r.0", "CHG-42")])
        self.assertEqual(done.status, 200, done)
        got = self.get(r["id"])
        self.assertEqual(got["status"], "approved")
        self.assertEqual(got["response"], {"ticket": "CHG-42"})
        self.assertEqual([d["by"] for d in got["decisions"]], ["alice"])
        # The link is made when the answer is sent, never kept: the audit trail has none.
        rejected = [e for e in self.server.audit(r["id"]) if e["type"] == "decision.rejected"]
        self.assertEqual(rejected[0]["data"]["form_required"], True)
        self.assertNotIn("/l/", json.dumps(self.server.audit(r["id"])))

    def test_a_request_resolved_through_the_api_updates_the_slack_message(self):
        r = self.create()
        post = self.fake.wait_for(1, path=POST)[0]
        decided = self.server.call("POST", f"/v1/requests/{r['id']}/decisions",
                                   {"choice": "deny", "comment": "not <now> & not here"},
                                   token=self.carol)
        self.assertEqual(decided.status, 200, decided)
        update = self.update_showing("Denied by carol: Deploy v2.0")
        self.assertEqual((update.json["channel"], update.json["ts"]),
                         (CHANNEL_ID, post.answer_json["ts"]))
        self.assertIn({"type": "section", "text": {
            "type": "mrkdwn",
            "text": ":x: *Denied* by carol\n\u2022 *carol*: Deny \u2014 "
                    "\u201cnot &lt;now&gt; &amp; not here\u201d"}}, update.json["blocks"])
        self.assertNotIn("actions", [b["type"] for b in update.json["blocks"]])

    def test_slack_probes_get_200_and_record_nothing(self):
        body = "ssl_check=1&token=deprecated"
        r = self.server.call("POST", "/hooks/slack", raw=body.encode(), token=None,
                             headers={"Content-Type": "application/x-www-form-urlencoded"},
                             content_type=None)
        self.assertEqual(r.status, 200, r)
        token = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
        challenge = json.dumps({"token": "t", "challenge": token, "type": "url_verification"})
        r = self.server.call("POST", "/hooks/slack", raw=challenge.encode(), token=None,
                             headers=dict(slack_headers(SECRET, challenge),
                                          **{"Content-Type": "application/json"}),
                             content_type=None)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"challenge": token})
        unsigned = self.server.call("POST", "/hooks/slack", raw=challenge.encode(), token=None,
                                    headers={"Content-Type": "application/json"},
                                    content_type=None)
        self.assertEqual(unsigned.status, 401, unsigned)

    # -- grant buttons -------------------------------------------------------------------------
    def press_grant(self, request_id, scope, response_url=None):
        body = block_actions_body(
            grant_value(request_id, scope), user_id="U024BE7LH",
            response_url=response_url or self.fake.url + "/response/" + request_id,
            action_id="approve:" + scope)
        return self.press(request_id, body=body)

    def test_approve_for_this_session_grants_it_and_the_next_request_there_is_approved(self):
        r = self.create(session="sess-1")
        post = self.fake.wait_for(1, path=POST)[0]
        self.assertEqual(r["grant_options"], [{"scope": "session", "ttl_seconds": 3600},
                                              {"scope": "requester", "ttl_seconds": 2592000}])
        self.assertEqual(post.json["blocks"][-1]["elements"][2:], [
            grant_button(r, "session", "Approve for this session (1 h)"),
            grant_button(r, "requester", "Always approve deploy_staging for ci-bot (30 days)")])

        resp, _, _ = self.press_grant(r["id"], "session")
        self.assertEqual(resp.status, 200, resp)
        now = self.get(r["id"])
        self.assertEqual((now["status"], now["reason_code"], now["resolved_by"]),
                         ("approved", "approved", ["alice"]))
        assert_granted(self, self.server, r, "session", datetime.timedelta(hours=1))
        self.assertIn("grant.created", self.audit_types(r["id"]))
        # The message says what was granted, and the buttons are gone.
        update = self.update_showing("Approved by alice: Deploy v2.0")
        self.assertIn({"type": "section", "text": {
            "type": "mrkdwn",
            "text": ":white_check_mark: *Approved* by alice \u2014 and approved for this session "
                    "for 1 h\n\u2022 *alice*: Approve"}}, update.json["blocks"])
        self.assertNotIn("actions", [b["type"] for b in update.json["blocks"]])

        assert_next_request_approved_by_grant(self, self.server, self.agent, "deploy_staging",
                                              "sess-1")
        # Only that session: another one still asks.
        assert_next_request_asks(self, self.server, self.agent, "deploy_staging", "sess-2")

    def test_always_approve_covers_the_requester_in_another_session(self):
        r = self.create(session="sess-1")
        self.fake.wait_for(1, path=POST)
        resp, _, _ = self.press_grant(r["id"], "requester")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(self.get(r["id"])["status"], "approved")
        assert_granted(self, self.server, r, "requester", datetime.timedelta(days=30))
        update = self.update_showing("Approved by alice: Deploy v2.0")
        self.assertIn(":white_check_mark: *Approved* by alice \u2014 and always approved for "
                      "ci-bot for 30 days", json.dumps(update.json["blocks"], ensure_ascii=False))
        assert_next_request_approved_by_grant(self, self.server, self.agent, "deploy_staging",
                                              "another-session")
        # Another requester is not covered.
        other = self.server.create_token("other-bot", "agent")
        assert_next_request_asks(self, self.server, other, "deploy_staging", "another-session")

    def test_a_forged_grant_the_request_does_not_offer_is_refused_and_grants_nothing(self):
        # No session, so the request offers "always approve" only.
        r = self.create()
        self.fake.wait_for(1, path=POST)
        self.assertEqual([o["scope"] for o in r["grant_options"]], ["requester"])
        resp, _, _ = self.press_grant(r["id"], "session",
                                      response_url=self.fake.url + "/response/T0001/3/forged")
        self.assertEqual(resp.status, 200, resp)
        answer = self.fake.wait_for(1, path="/response/T0001/3/forged")[0]
        self.assertEqual(answer.json["text"], "this request does not offer approving for this "
                                              "session; nothing was decided")
        self.assertEqual(self.get(r["id"])["status"], "pending")
        rejected = [e for e in self.server.audit(r["id"]) if e["type"] == "decision.rejected"]
        self.assertEqual(len(rejected), 1, rejected)
        self.assertEqual(rejected[0]["data"]["via"]["identity"], "slack:U024BE7LH")
        self.assertNotIn("decision.recorded", self.audit_types(r["id"]))
        self.assertEqual(grants_of(self.server, r["id"]), [])

    def test_a_forged_grant_button_on_a_high_risk_request_is_refused(self):
        # A forged value on a high-risk request: refused, and nothing is decided.
        r = self.create(risk="high", session="sess-1")
        self.fake.wait_for(1, path=POST)
        resp, _, _ = self.press_grant(r["id"], "session")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(self.get(r["id"])["status"], "pending")
        self.assertIn("decision.rejected", self.audit_types(r["id"]))
        self.assertEqual(grants_of(self.server, r["id"]), [])

    # -- incoming webhook mode ---------------------------------------------------------------
    def test_an_incoming_webhook_gets_the_same_blocks_with_url_buttons_to_one_click_links(self):
        r = self.create(notify=["slack-hook"])
        call = self.fake.wait_for(1, path=HOOK_PATH)[0]
        self.assertIsNone(call.header("Authorization"))
        expected = expected_post(r, self.server.url)
        del expected["channel"]
        expected["blocks"][-1]["elements"] = [
            {"type": "button", "text": {"type": "plain_text", "text": label, "emoji": True},
             "action_id": choice,
             "url": one_click_url(self.dir, self.server.url, r, choice, "channel:slack-hook"),
             "style": style}
            for choice, label, style in [("approve", "Approve", "primary"),
                                         ("deny", "Deny", "danger")]]
        self.assertEqual(call.json, expected)
        # The link opens the confirm page, and a GET changes nothing.
        url = call.json["blocks"][-1]["elements"][0]["url"]
        page = self.server.call("GET", url[len(self.server.url):], token=None)
        self.assertEqual(page.status, 200, page)
        self.assertEqual(self.get(r["id"])["status"], "pending")

        # A webhook cannot edit: the outcome is a message of its own.
        self.server.call("POST", f"/v1/requests/{r['id']}/decisions", {"choice": "approve"},
                         token=self.carol)
        outcome = self.fake.wait_until(
            lambda c: c.json.get("text") == "Approved by carol: Deploy v2.0", path=HOOK_PATH)
        self.assertNotIn("actions", [b["type"] for b in outcome.json["blocks"]])
        self.assertTrue(outcome.json["blocks"][-1]["elements"][0]["text"].endswith(
            inbox_link(self.server.url, r)), outcome.json["blocks"][-1])

    # -- the inbox link ------------------------------------------------------------------------
    def test_the_posted_message_links_to_the_request_s_page_in_the_inbox(self):
        r = self.create()
        call = self.fake.wait_for(1, path=POST)[0]
        context = call.json["blocks"][-2]
        self.assertEqual(context["type"], "context")
        url = self.server.url + "/ui/requests/" + r["id"]
        self.assertIn("<" + url + "|Open in the inbox>", context["elements"][0]["text"])
        # The link is the inbox's page for the request (not a 404): signed out, it sends the
        # browser to sign in, and it decides nothing.
        page = self.server.call("GET", url[len(self.server.url):], token=None)
        self.assertEqual(page.status, 303, page)
        self.assertTrue(page.headers["Location"].startswith("/ui/login"), page.headers)
        self.assertEqual(self.get(r["id"])["status"], "pending")


if __name__ == "__main__":
    unittest.main()
