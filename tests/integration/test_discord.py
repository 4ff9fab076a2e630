"""The Discord channel end to end, in both modes: an application posts with a bot token to a
fake Discord API and its button clicks come back to POST /hooks/discord signed with an Ed25519
key generated here; a plain webhook posts link buttons to one-click links. Either way the
message is edited as the request resolves.

The fake (tests/testing/fake_discord.py) records every call and checks it against Discord's
limits, so these tests assert the exact JSON the server sends.
"""

import datetime
import os
import shutil
import sys
import tempfile
import time
import unittest
import urllib.parse

from chat_grants import (assert_granted, assert_next_request_approved_by_grant,
                         assert_next_request_asks, grants_of)
from harness import Server

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testing"))
from fake_discord import (DiscordApp, FakeDiscord, component_interaction,  # noqa: E402
                          discord_error, ping_interaction, rate_limited)
from link_tokens import one_click_url, unix_seconds  # noqa: E402

CHANNEL_ID = "1100000000000000001"

CONFIG = """
# The fake servers of this test listen on loopback over http, which the outbound policy
# refuses unless the config names it.
[outbound]
allow = ["127.0.0.1/32"]

[outbox]
max_attempts = 8
retry_base = "50ms"
retry_max = "1s"

[[channel]]
name = "dc-ops"
type = "discord"
bot_token = "env:DISCORD_BOT_TOKEN"
channel_id = "{channel_id}"
public_key = "{public_key}"
api_base = "{api_base}"

[[channel]]
name = "dc-hook"
type = "discord"
webhook_url = "env:DISCORD_WEBHOOK_URL"

[identities]
"discord:80351110224678912" = "alice"
"discord:80351110224678913" = "bob"
"""


def custom_id(request_id, position):
    return f"cs:{request_id}:{position}"


def inbox_button(server, r):
    """The link button to the request's page in the web inbox that ends every message."""
    return {"type": 2, "style": 5, "label": "Open in the inbox",
            "url": server.url + "/ui/requests/" + r["id"]}


def inbox_row(server, r):
    """The components once the choices have gone: the inbox link alone."""
    return [{"type": 1, "components": [inbox_button(server, r)]}]


def pending_embed(r):
    return {
        "title": "Deploy v2.0",
        "description": "**Approval needed**",
        "color": 0x5865F2,
        "fields": [
            {"name": "Action", "value": "`deploy_staging`", "inline": True},
            {"name": "Requested by", "value": "ci-bot", "inline": True},
            {"name": "Deadline", "value": "<t:%d:f>" % unix_seconds(r["deadline_at"]),
             "inline": True},
            {"name": "Risk", "value": "normal", "inline": True},
            {"name": "Arguments", "value": "```json\n{\n  \"ref\": \"v2.0\"\n}\n```",
             "inline": False}],
        "footer": {"text": f"Request {r['id']} \u00b7 policy {r['policy']}"},
    }


class DiscordTest(unittest.TestCase):
    def setUp(self):
        self.fake = FakeDiscord().start()
        self.addCleanup(self.fake.stop)
        self.app = DiscordApp()
        self.dir = tempfile.mkdtemp(prefix="countersign-discord-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        config = os.path.join(self.dir, "countersign.toml")
        with open(config, "w") as f:
            f.write(CONFIG.format(channel_id=CHANNEL_ID, public_key=self.app.public_key_hex,
                                  api_base=self.fake.api_base))
        self.webhook = self.fake.webhook_url()
        self.server = Server(data_dir=self.dir, extra_args=["--config", config],
                             env={"DISCORD_BOT_TOKEN": self.fake.bot_token,
                                  "DISCORD_WEBHOOK_URL": self.webhook})
        self.server.start()
        self.addCleanup(self._stop_server)
        self.agent = self.server.create_token("ci-bot", "agent")
        self.carol = self.server.create_token("carol", "approver")
        self.messages = f"/api/v10/channels/{CHANNEL_ID}/messages"
        self.hook_path = self.webhook[len(self.fake.url):]

    def _stop_server(self):
        result = getattr(self._outcome, "result", None)
        if result is not None and any(t is self for t, _ in result.errors + result.failures):
            print(self.server.read_log()[-6000:])
        self.server.stop()

    # -- helpers -----------------------------------------------------------------------------
    def create(self, notify=("dc-ops",), **fields):
        body = {"action": "deploy_staging", "arguments": {"ref": "v2.0"}, "notify": list(notify)}
        body.update(fields)
        return self.server.create_request(token=self.agent, **body)

    def interact(self, body, headers=None, timestamp=None):
        """POSTs an interaction the way Discord does; it must answer within 3 s."""
        headers = headers if headers is not None else self.app.headers(body, timestamp)
        started = time.monotonic()
        r = self.server.call("POST", "/hooks/discord", raw=body.encode(), token=None,
                             headers=headers, content_type=None)
        self.assertLess(time.monotonic() - started, 3.0, "Discord needs an answer within 3 s")
        return r

    def click(self, request_id, position=0, user_id="80351110224678912", message_id=None):
        return self.interact(component_interaction(
            custom_id(request_id, position), user_id=user_id,
            message_id=message_id or "1150000000000000000"))

    def get(self, request_id):
        r = self.server.call("GET", "/v1/requests/" + request_id)
        self.assertEqual(r.status, 200, r)
        return r.json

    def audit_types(self, request_id):
        return [e["type"] for e in self.server.audit(request_id)]

    def outbox(self, request_id):
        r = self.server.call("GET", "/v1/outbox?request=" + request_id)
        self.assertEqual(r.status, 200, r)
        return r.json["outbox"]

    def patch_showing(self, path_prefix, content):
        return self.fake.wait_until(
            lambda c: c.method == "PATCH" and c.json and c.json.get("content") == content,
            prefix=path_prefix)

    # -- application mode: posting -----------------------------------------------------------
    def test_a_request_is_posted_with_an_embed_and_buttons_carrying_short_custom_ids(self):
        r = self.create()
        call = self.fake.wait_for(1, path=self.messages)[0]
        self.assertEqual(call.answer_status, 200, call.answer_json)
        self.assertEqual(call.header("Authorization"), "Bot " + self.fake.bot_token)
        self.assertEqual(call.json, {
            "content": "Approval needed: Deploy v2.0",
            "embeds": [pending_embed(r)],
            "components": [
                {"type": 1, "components": [
                    {"type": 2, "label": "Approve", "style": 1,
                     "custom_id": custom_id(r["id"], 0)},
                    {"type": 2, "label": "Deny", "style": 4,
                     "custom_id": custom_id(r["id"], 1)}]},
                # The default policy offers "always approve" (30 days), on a row of its own.
                {"type": 1, "components": [
                    {"type": 2, "label": "Always approve deploy_staging for ci-bot (30 days)",
                     "style": 1, "custom_id": custom_id(r["id"], 0) + ":r"},
                    inbox_button(self.server, r)]}],
            "allowed_mentions": {"parse": []}})
        # The inbox link is the request's page: a signed-out browser is sent to sign in.
        page = self.server.call("GET", "/ui/requests/" + r["id"], token=None)
        self.assertEqual(page.status, 303, page)
        self.assertTrue(page.headers["Location"].startswith("/ui/login"), page.headers)

    def test_a_500_then_success_delivers_once(self):
        self.fake.script(self.messages, discord_error(500, 0, "500: Internal Server Error"))
        r = self.create()
        calls = self.fake.wait_for(2, path=self.messages)
        self.assertEqual([c.answer_status for c in calls], [500, 200])
        self.assertEqual(calls[0].json, calls[1].json)
        message_id = calls[1].answer_json["id"]
        self.server.call("POST", f"/v1/requests/{r['id']}/cancel", {"reason": "not today"},
                         token=self.agent)
        edit = self.patch_showing(self.messages, "Cancelled: Deploy v2.0")
        self.assertEqual(edit.path, f"{self.messages}/{message_id}")
        self.assertEqual(edit.json["components"], inbox_row(self.server, r))
        self.assertEqual(len(self.fake.requests(path=self.messages)), 2)
        post = [row for row in self.outbox(r["id"]) if row["kind"] == "post"]
        self.assertEqual([(row["state"], row["attempts"]) for row in post], [("delivered", 2)])

    def test_a_429_is_retried_after_the_retry_after_discord_gives(self):
        self.fake.script(self.messages, rate_limited(0.2))
        self.create()
        calls = self.fake.wait_for(2, path=self.messages)
        self.assertEqual([c.answer_status for c in calls], [429, 200])

    # -- application mode: interactions ------------------------------------------------------
    def test_a_ping_answers_pong(self):
        r = self.interact(ping_interaction())
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"type": 1})

    def test_a_valid_click_decides_and_the_answer_updates_the_message(self):
        r = self.create()
        posted = self.fake.wait_for(1, path=self.messages)[0]
        resp = self.click(r["id"], 0, message_id=posted.answer_json["id"])
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json["type"], 7)
        data = resp.json["data"]
        self.assertEqual(data["content"], "Approved by alice: Deploy v2.0")
        self.assertEqual(data["components"], inbox_row(self.server, r))
        self.assertEqual(data["embeds"][0]["description"], "\u2705 **Approved by alice**")
        self.assertEqual(data["embeds"][0]["fields"][-1],
                         {"name": "Decisions", "value": "\u2022 alice: Approve",
                          "inline": False})
        self.assertEqual(data["allowed_mentions"], {"parse": []})
        now = self.get(r["id"])
        self.assertEqual((now["status"], now["resolved_by"]), ("approved", ["alice"]))
        recorded = [e for e in self.server.audit(r["id"]) if e["type"] == "decision.recorded"]
        self.assertEqual(recorded[0]["data"]["via"],
                         {"channel": "dc-ops", "identity": "discord:80351110224678912"})
        # The outbox edits the message too, to the same state.
        edit = self.patch_showing(self.messages, "Approved by alice: Deploy v2.0")
        self.assertEqual(edit.path, f"{self.messages}/{posted.answer_json['id']}")
        self.assertEqual(edit.json["components"], inbox_row(self.server, r))

    # -- application mode: grant buttons -----------------------------------------------------
    def click_key(self, key, message_id="1150000000000000000"):
        return self.interact(component_interaction(key, user_id="80351110224678912",
                                                   message_id=message_id))

    def test_approve_for_this_session_grants_it_and_the_next_request_there_is_approved(self):
        r = self.create(session="sess-1")
        posted = self.fake.wait_for(1, path=self.messages)[0]
        self.assertEqual(posted.json["components"][1], {"type": 1, "components": [
            {"type": 2, "label": "Approve for this session (1 h)", "style": 1,
             "custom_id": custom_id(r["id"], 0) + ":s"},
            {"type": 2, "label": "Always approve deploy_staging for ci-bot (30 days)",
             "style": 1, "custom_id": custom_id(r["id"], 0) + ":r"},
            inbox_button(self.server, r)]})

        resp = self.click_key(custom_id(r["id"], 0) + ":s", message_id=posted.answer_json["id"])
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json["type"], 7)
        headline = "Approved by alice \u2014 and approved for this session for 1 h"
        self.assertEqual(resp.json["data"]["content"], headline + ": Deploy v2.0")
        self.assertEqual(resp.json["data"]["embeds"][0]["description"],
                         "\u2705 **" + headline + "**")
        self.assertEqual(resp.json["data"]["components"], inbox_row(self.server, r))
        self.assertEqual(self.get(r["id"])["status"], "approved")
        assert_granted(self, self.server, r, "session", datetime.timedelta(hours=1))
        # The outbox's edit says the same.
        self.patch_showing(self.messages, headline + ": Deploy v2.0")

        assert_next_request_approved_by_grant(self, self.server, self.agent, "deploy_staging",
                                              "sess-1")
        assert_next_request_asks(self, self.server, self.agent, "deploy_staging", "sess-2")

    def test_a_high_risk_request_has_no_grant_buttons(self):
        r = self.create(session="sess-1", risk="high")
        posted = self.fake.wait_for(1, path=self.messages)[0]
        self.assertEqual(r["grant_options"], [])
        self.assertEqual(posted.json["components"], [{"type": 1, "components": [
            {"type": 2, "label": "Approve", "style": 1, "custom_id": custom_id(r["id"], 0)},
            {"type": 2, "label": "Deny", "style": 4, "custom_id": custom_id(r["id"], 1)},
            inbox_button(self.server, r)]}])

    def test_a_forged_grant_key_the_request_does_not_offer_is_refused_and_grants_nothing(self):
        r = self.create()  # no session: no "for this session" option
        self.fake.wait_for(1, path=self.messages)
        resp = self.click_key(custom_id(r["id"], 0) + ":s")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json["type"], 4)
        self.assertEqual(resp.json["data"]["flags"], 64)
        self.assertEqual(resp.json["data"]["content"], "this request does not offer approving "
                                                       "for this session; nothing was decided")
        self.assertEqual(self.get(r["id"])["status"], "pending")
        self.assertIn("decision.rejected", self.audit_types(r["id"]))
        self.assertEqual(grants_of(self.server, r["id"]), [])

    def test_a_bad_signature_is_401_and_changes_nothing(self):
        r = self.create()
        self.fake.wait_for(1, path=self.messages)
        before = self.audit_types(r["id"])
        body = component_interaction(custom_id(r["id"], 0))
        forged = self.app.headers(body)
        forged["X-Signature-Ed25519"] = DiscordApp().headers(body)["X-Signature-Ed25519"]
        stale = self.app.headers(body, timestamp=int(time.time()) - 301)
        tampered = self.app.headers(component_interaction(custom_id(r["id"], 1)))
        unsigned = {"Content-Type": "application/json"}
        for headers in (forged, stale, tampered, unsigned):
            resp = self.interact(body, headers=headers)
            self.assertEqual(resp.status, 401, resp)
            self.assertEqual(resp.json["error"]["code"], "unauthorized")
        # Discord checks endpoints with badly signed PINGs: they must fail too.
        ping = ping_interaction()
        bad_ping = self.app.headers(ping)
        bad_ping["X-Signature-Ed25519"] = "00" * 64
        self.assertEqual(self.interact(ping, headers=bad_ping).status, 401)
        self.assertEqual(self.get(r["id"])["status"], "pending")
        self.assertEqual(self.audit_types(r["id"]), before)

    def test_an_unmapped_user_is_told_privately_and_the_refusal_is_audited(self):
        r = self.create()
        self.fake.wait_for(1, path=self.messages)
        resp = self.click(r["id"], 0, user_id="999999999999999999")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json, {"type": 4, "data": {
            "content": "not authorised: Discord user 999999999999999999 is not mapped to a "
                       "principal",
            "flags": 64, "allowed_mentions": {"parse": []}}})
        self.assertEqual(self.get(r["id"])["status"], "pending")
        rejected = [e for e in self.server.audit(r["id"]) if e["type"] == "decision.rejected"]
        self.assertEqual(len(rejected), 1)
        self.assertEqual(rejected[0]["data"]["via"]["identity"], "discord:999999999999999999")
        self.assertNotIn("response_url", rejected[0]["data"]["via"])

    def test_a_click_on_a_request_resolved_elsewhere_is_told_why_privately(self):
        r = self.create(quorum=2)
        self.fake.wait_for(1, path=self.messages)
        first = self.click(r["id"], 0)
        self.assertEqual(first.json["type"], 7)
        # The buttons stay; the last approval needed may also grant a standing permission.
        self.assertEqual([b["label"] for row in first.json["data"]["components"]
                          for b in row["components"]],
                         ["Approve", "Deny", "Always approve deploy_staging for ci-bot (30 days)",
                          "Open in the inbox"])
        again = self.click(r["id"], 0)
        self.assertEqual(again.json["type"], 4)
        self.assertEqual(again.json["data"]["flags"], 64)
        self.assertIn("already decided", again.json["data"]["content"])
        second = self.click(r["id"], 0, user_id="80351110224678913")
        self.assertEqual(second.json["data"]["content"], "Approved by alice, bob: Deploy v2.0")

    def test_a_click_on_a_request_with_a_form_offers_the_clicker_their_own_form_link(self):
        schema = {"type": "object", "required": ["ticket"],
                  "properties": {"ticket": {"type": "string", "title": "Change ticket"}}}
        r = self.create(response_schema=schema)
        self.fake.wait_for(1, path=self.messages)
        resp = self.click(r["id"], 0)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json["type"], 4)
        data = resp.json["data"]
        self.assertEqual(data["flags"], 64, "only the clicker sees it")
        self.assertIn("asks for a form", data["content"])
        [button] = data["components"][0]["components"]
        self.assertEqual((button["type"], button["style"], button["label"]),
                         (2, 5, "Open the form"))
        self.assertEqual(button["url"], one_click_url(self.dir, self.server.url, r, "approve",
                                                      "alice"))
        self.assertEqual(self.get(r["id"])["status"], "pending")
        done = self.server.post_link_form(urllib.parse.urlsplit(button["url"]).path,
                                          [("r.0", "CHG-9")])
        self.assertEqual(done.status, 200, done)
        got = self.get(r["id"])
        self.assertEqual((got["status"], got["response"]), ("approved", {"ticket": "CHG-9"}))
        self.assertEqual([d["by"] for d in got["decisions"]], ["alice"])

    def test_a_click_of_an_unknown_request_is_answered_privately(self):
        resp = self.click("req_01JD3Z6Q8W9K4M2N7P5R0S1T2V", 0)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json["type"], 4)
        self.assertEqual(resp.json["data"]["content"], "this request no longer exists")

    # -- resolution follow-ups and webhook mode ----------------------------------------------
    def test_a_request_resolved_through_the_api_edits_the_application_message(self):
        r = self.create()
        posted = self.fake.wait_for(1, path=self.messages)[0]
        self.server.call("POST", f"/v1/requests/{r['id']}/decisions",
                         {"choice": "deny", "comment": "not *now*"}, token=self.carol)
        edit = self.patch_showing(self.messages, "Denied by carol: Deploy v2.0")
        self.assertEqual(edit.path, f"{self.messages}/{posted.answer_json['id']}")
        self.assertEqual(edit.json["embeds"][0]["fields"][-1]["value"],
                         "\u2022 carol: Deny \u2014 \u201cnot \\*now\\*\u201d")
        self.assertEqual(edit.answer_status, 200, edit.answer_json)

    def test_a_webhook_posts_link_buttons_and_edits_its_message_when_resolved(self):
        r = self.create(notify=["dc-hook"])
        call = self.fake.wait_for(1, path=self.hook_path)[0]
        self.assertEqual(call.query, "wait=true&with_components=true")
        self.assertIsNone(call.header("Authorization"))
        self.assertEqual(call.answer_status, 200, call.answer_json)
        self.assertEqual(call.json["embeds"], [pending_embed(r)])
        self.assertEqual(call.json["components"], [{"type": 1, "components": [
            {"type": 2, "label": label, "style": 5,
             "url": one_click_url(self.dir, self.server.url, r, choice, "channel:dc-hook")}
            for choice, label in (("approve", "Approve"), ("deny", "Deny"))]
            + [inbox_button(self.server, r)]}])
        self.assertEqual(self.fake.message(call.answer_json["id"])["components"],
                         call.json["components"])
        # The link opens the confirm page; a GET changes nothing.
        url = call.json["components"][0]["components"][0]["url"]
        page = self.server.call("GET", url[len(self.server.url):], token=None)
        self.assertEqual(page.status, 200, page)
        self.assertEqual(self.get(r["id"])["status"], "pending")

        self.server.call("POST", f"/v1/requests/{r['id']}/decisions", {"choice": "approve"},
                         token=self.carol)
        edit = self.patch_showing(self.hook_path, "Approved by carol: Deploy v2.0")
        self.assertEqual(edit.path, f"{self.hook_path}/messages/{call.answer_json['id']}")
        self.assertEqual(edit.query, "with_components=true")
        self.assertEqual(edit.json["components"], inbox_row(self.server, r))

    def test_a_webhook_500_then_success_delivers_once(self):
        self.fake.script(self.hook_path, discord_error(502, 0, "502: Bad Gateway"))
        r = self.create(notify=["dc-hook"])
        calls = self.fake.wait_for(2, path=self.hook_path)
        self.assertEqual([c.answer_status for c in calls], [502, 200])
        self.server.call("POST", f"/v1/requests/{r['id']}/cancel", {"reason": "x"},
                         token=self.agent)
        self.patch_showing(self.hook_path, "Cancelled: Deploy v2.0")
        posts = [c for c in self.fake.requests(prefix=self.hook_path) if c.method == "POST"]
        self.assertEqual(len(posts), 2)


if __name__ == "__main__":
    unittest.main()
