"""The Telegram channel end to end: the real server posts to a fake Bot API on loopback,
Telegram-style callback_query updates come back to POST /hooks/telegram with the webhook's
secret token, every press is answered (answerCallbackQuery), and the message is edited.

The fake (tests/testing/fake_telegram.py) records every call and checks it against the Bot
API's rules (HTML entities, text and callback_data limits), so these tests assert the exact
JSON the server sends.
"""

import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

from chat_grants import (assert_granted, assert_next_request_approved_by_grant,
                         assert_next_request_asks, grants_of)
from harness import BIN, Server

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testing"))
from fake_telegram import (FakeTelegram, callback_query_update, telegram_error,  # noqa: E402
                           telegram_headers)

BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET = "s3cr3t_T0ken-for-the-webhook"
CHAT_ID = -1001234567890
PUBLIC_URL = "https://approvals.example.com"

CONFIG = """
# The fake servers of this test listen on loopback over http, which the outbound policy
# refuses unless the config names it.
[outbound]
allow = ["127.0.0.1/32"]

[server]
public_url = "{public_url}"

[outbox]
max_attempts = 8
retry_base = "50ms"
retry_max = "1s"

[[channel]]
name = "tg-ops"
type = "telegram"
bot_token = "env:TELEGRAM_BOT_TOKEN"
chat_id = "{chat_id}"
secret_token = "env:TELEGRAM_SECRET"
api_base = "{api_base}"

[identities]
"telegram:123456789" = "alice"
"telegram:222" = "bob"
"""


def button(request_id, position):
    return f"cs:{request_id}:{position}"


def inbox_link(r):
    """The link to the request's page in the web inbox that ends every message: in the text,
    since Telegram refuses url buttons to hosts such as localhost."""
    return f'<a href="{PUBLIC_URL}/ui/requests/{r["id"]}">Open in the inbox</a>'


def pending_text(r):
    deadline = r["deadline_at"][:16].replace("T", " ") + " UTC"
    return ("<b>Approval needed</b>\n<b>Deploy v2.0</b>\n\n"
            "Action: <code>deploy_staging</code>\n"
            "Requested by: ci-bot\n"
            f"Deadline: {deadline}\n"
            "Risk: normal\n\n"
            "<b>Arguments</b>\n<pre>{\n  \"ref\": \"v2.0\"\n}</pre>\n\n"
            f"<i>Request {r['id']} \u00b7 policy {r['policy']}</i>\n" + inbox_link(r))


class TelegramTest(unittest.TestCase):
    def setUp(self):
        self.fake = FakeTelegram(BOT_TOKEN).start()
        self.addCleanup(self.fake.stop)
        self.dir = tempfile.mkdtemp(prefix="countersign-telegram-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.config = os.path.join(self.dir, "countersign.toml")
        with open(self.config, "w") as f:
            f.write(CONFIG.format(public_url=PUBLIC_URL, chat_id=CHAT_ID,
                                  api_base=self.fake.api_base))
        self.env = {"TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_SECRET": SECRET}
        self.server = Server(data_dir=self.dir, extra_args=["--config", self.config],
                             env=self.env)
        self.server.start()
        self.addCleanup(self._stop_server)
        self.agent = self.server.create_token("ci-bot", "agent")
        self.carol = self.server.create_token("carol", "approver")
        self.send = self.fake.method_path("sendMessage")
        self.edit = self.fake.method_path("editMessageText")
        self.answer = self.fake.method_path("answerCallbackQuery")

    def _stop_server(self):
        result = getattr(self._outcome, "result", None)
        if result is not None and any(t is self for t, _ in result.errors + result.failures):
            print(self.server.read_log()[-6000:])
        self.server.stop()

    # -- helpers -----------------------------------------------------------------------------
    def create(self, **fields):
        body = {"action": "deploy_staging", "arguments": {"ref": "v2.0"}, "notify": ["tg-ops"]}
        body.update(fields)
        return self.server.create_request(token=self.agent, **body)

    def press(self, request_id, position=0, user=123456789, secret=SECRET, data=None,
              message_id=1):
        """POSTs a callback_query update the way Telegram does; returns (response, query id)."""
        body = callback_query_update(data or button(request_id, position), user_id=user,
                                     message_id=message_id)
        query_id = json.loads(body)["callback_query"]["id"]
        r = self.server.call("POST", "/hooks/telegram", raw=body.encode(), token=None,
                             headers=telegram_headers(secret), content_type=None)
        return r, query_id

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

    def answer_to(self, query_id):
        return self.fake.wait_until(lambda c: c.json.get("callback_query_id") == query_id,
                                    path=self.answer)

    def edit_showing(self, prefix):
        return self.fake.wait_until(lambda c: c.json["text"].startswith(prefix), path=self.edit)

    # -- posting -----------------------------------------------------------------------------
    def test_a_request_is_sent_with_one_button_per_choice_carrying_a_short_key(self):
        r = self.create()
        call = self.fake.wait_for(1, path=self.send)[0]
        self.assertEqual(call.answer_status, 200, call.answer_json)
        self.assertEqual(call.json, {
            "chat_id": CHAT_ID,
            "text": pending_text(r),
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True},
            "reply_markup": {"inline_keyboard": [
                [{"text": "Approve", "callback_data": button(r["id"], 0)},
                 {"text": "Deny", "callback_data": button(r["id"], 1)}],
                # The default policy offers "always approve" (30 days), on a row of its own.
                [{"text": "Always approve deploy_staging for ci-bot (30 days)",
                  "callback_data": button(r["id"], 0) + ":r"}]]}})
        for row in call.json["reply_markup"]["inline_keyboard"]:
            for b in row:
                self.assertLessEqual(len(b["callback_data"].encode()), 64)

    def test_a_500_then_success_delivers_once(self):
        self.fake.script(self.send, telegram_error(500, "Internal Server Error"))
        r = self.create()
        calls = self.fake.wait_for(2, path=self.send)
        self.assertEqual([c.answer_status for c in calls], [500, 200])
        self.assertEqual(calls[0].json, calls[1].json)
        # The delivered message is the one later edits change; nothing is sent a third time.
        self.server.call("POST", f"/v1/requests/{r['id']}/cancel", {"reason": "not today"},
                         token=self.agent)
        edit = self.edit_showing("\U0001f6ab <b>Cancelled</b>")
        self.assertEqual(edit.json["message_id"],
                         calls[1].answer_json["result"]["message_id"])
        self.assertEqual(edit.json["reply_markup"], {"inline_keyboard": []})
        self.assertEqual(len(self.fake.requests(path=self.send)), 2)
        post = [row for row in self.outbox(r["id"]) if row["kind"] == "post"]
        self.assertEqual([(row["state"], row["attempts"]) for row in post], [("delivered", 2)])

    def test_a_429_is_retried_after_the_time_telegram_asks_for(self):
        self.fake.script(self.send, telegram_error(429, "Too Many Requests: retry after 1",
                                                   retry_after=1))
        self.create()
        calls = self.fake.wait_for(2, path=self.send)
        self.assertEqual([c.answer_status for c in calls], [429, 200])

    # -- presses -----------------------------------------------------------------------------
    def test_a_press_by_a_mapped_user_decides_is_answered_and_then_the_message_is_edited(self):
        r = self.create()
        sent = self.fake.wait_for(1, path=self.send)[0]
        message_id = sent.answer_json["result"]["message_id"]
        started = time.monotonic()
        resp, query_id = self.press(r["id"], 0, message_id=message_id)
        self.assertLess(time.monotonic() - started, 3.0)
        self.assertEqual(resp.status, 200, resp)
        now = self.get(r["id"])
        self.assertEqual(now["status"], "approved")
        self.assertEqual(now["resolved_by"], ["alice"])
        recorded = [e for e in self.server.audit(r["id"]) if e["type"] == "decision.recorded"]
        self.assertEqual(recorded[0]["data"]["via"]["identity"], "telegram:123456789")

        answer = self.answer_to(query_id)
        self.assertEqual(answer.json, {"callback_query_id": query_id,
                                       "text": "Recorded: Approve. Approved by alice."})
        edit = self.edit_showing("\u2705 <b>Approved by alice</b>")
        self.assertEqual((edit.json["chat_id"], edit.json["message_id"]), (CHAT_ID, message_id))
        self.assertEqual(edit.json["reply_markup"], {"inline_keyboard": []})
        self.assertIn("<b>Decisions</b>\n\u2022 alice: Approve", edit.json["text"])
        self.assertEqual(edit.answer_status, 200, edit.answer_json)
        # Telegram stops the spinner first; then the message shows the outcome.
        order = self.fake.requests()
        self.assertLess(order.index(answer), order.index(edit))
        self.assertIsNone(self.fake.message(CHAT_ID, message_id)["reply_markup"])

    def test_a_first_of_two_approvals_keeps_the_buttons_and_says_how_many(self):
        r = self.create(quorum=2)
        self.fake.wait_for(1, path=self.send)
        resp, query_id = self.press(r["id"], 0)
        self.assertEqual(resp.status, 200)
        self.assertEqual(self.answer_to(query_id).json["text"],
                         "Recorded: Approve. 1 of 2 approvals.")
        edit = self.edit_showing("<b>Approval needed</b>")
        self.assertEqual(len(edit.json["reply_markup"]["inline_keyboard"][0]), 2)
        self.assertIn("1 of 2 approvals", edit.json["text"])
        resp, query_id = self.press(r["id"], 0, user=222)
        self.assertEqual(self.answer_to(query_id).json["text"],
                         "Recorded: Approve. Approved by alice, bob.")
        self.edit_showing("\u2705 <b>Approved by alice, bob</b>")

    def test_a_wrong_secret_token_is_401_and_changes_nothing(self):
        r = self.create()
        self.fake.wait_for(1, path=self.send)
        before = self.audit_types(r["id"])
        for secret in ("not-the-secret", None, SECRET[:-1]):
            resp, _ = self.press(r["id"], 0, secret=secret)
            self.assertEqual(resp.status, 401, resp)
            self.assertEqual(resp.json["error"]["code"], "unauthorized")
        self.assertEqual(self.get(r["id"])["status"], "pending")
        self.assertEqual(self.audit_types(r["id"]), before)
        self.assertEqual([row["kind"] for row in self.outbox(r["id"])], ["post"])
        self.assertEqual(self.fake.requests(path=self.answer), [])

    def test_an_unmapped_user_is_answered_not_authorised_and_the_refusal_is_audited(self):
        r = self.create()
        self.fake.wait_for(1, path=self.send)
        resp, query_id = self.press(r["id"], 0, user=999)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(self.answer_to(query_id).json, {
            "callback_query_id": query_id,
            "text": "not authorised: Telegram user 999 is not mapped to a principal"})
        self.assertEqual(self.get(r["id"])["status"], "pending")
        rejected = [e for e in self.server.audit(r["id"]) if e["type"] == "decision.rejected"]
        self.assertEqual(len(rejected), 1)
        self.assertEqual(rejected[0]["data"]["via"]["identity"], "telegram:999")
        self.assertNotIn("decision.recorded", self.audit_types(r["id"]))

    def test_a_press_on_a_request_resolved_elsewhere_is_answered_with_why(self):
        r = self.create()
        self.fake.wait_for(1, path=self.send)
        decided = self.server.call("POST", f"/v1/requests/{r['id']}/decisions",
                                   {"choice": "deny"}, token=self.carol)
        self.assertEqual(decided.status, 200, decided)
        resp, query_id = self.press(r["id"], 0)
        self.assertEqual(resp.status, 200, resp)
        self.assertIn("already denied", self.answer_to(query_id).json["text"])
        self.assertEqual(self.get(r["id"])["status"], "denied")

    def test_a_press_on_a_request_with_a_form_sends_the_presser_a_private_form_link(self):
        schema = {"type": "object", "required": ["ticket"],
                  "properties": {"ticket": {"type": "string", "title": "Change ticket"}}}
        r = self.create(response_schema=schema)
        self.fake.wait_for(1, path=self.send)
        resp, query_id = self.press(r["id"], 0)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json["method"], "answerCallbackQuery")
        self.assertEqual(resp.json["callback_query_id"], query_id)
        self.assertIn("private message", resp.json["text"])
        # The link goes to alice's private chat (her user id), never to the group.
        private = self.fake.wait_until(lambda c: c.json.get("chat_id") == "123456789",
                                       path=self.send)
        [[button]] = private.json["reply_markup"]["inline_keyboard"]
        self.assertEqual(button["text"], "Open the form")
        self.assertTrue(button["url"].startswith(PUBLIC_URL + "/l/"), button)
        self.assertEqual(self.get(r["id"])["status"], "pending")
        done = self.server.post_link_form(urllib.parse.urlsplit(button["url"]).path,
                                          [("r.0", "CHG-5")], origin=PUBLIC_URL)
        self.assertEqual(done.status, 200, done)
        got = self.get(r["id"])
        self.assertEqual((got["status"], got["response"]), ("approved", {"ticket": "CHG-5"}))
        self.assertEqual([d["by"] for d in got["decisions"]], ["alice"])

    def test_a_button_of_an_unknown_request_is_answered_in_the_webhook_reply(self):
        unknown = "req_01JD3Z6Q8W9K4M2N7P5R0S1T2V"
        resp, query_id = self.press(unknown, 0)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json, {"method": "answerCallbackQuery",
                                     "callback_query_id": query_id,
                                     "text": "this request no longer exists"})
        # Another feature's button of the same bot is answered too, silently.
        resp, query_id = self.press(None, data="menu:settings")
        self.assertEqual(resp.json, {"method": "answerCallbackQuery",
                                     "callback_query_id": query_id})
        # Updates that are not button presses need nothing.
        message = json.dumps({"update_id": 1, "message": {"message_id": 5, "date": 1,
                                                          "chat": {"id": CHAT_ID}, "text": "hi"}})
        resp = self.server.call("POST", "/hooks/telegram", raw=message.encode(), token=None,
                                headers=telegram_headers(SECRET), content_type=None)
        self.assertEqual((resp.status, resp.body), (200, ""))

    # -- grant buttons -------------------------------------------------------------------------
    def test_approve_for_this_session_grants_it_and_the_next_request_there_is_approved(self):
        r = self.create(session="sess-1")
        sent = self.fake.wait_for(1, path=self.send)[0]
        keyboard = sent.json["reply_markup"]["inline_keyboard"]
        self.assertEqual(keyboard[1:], [
            [{"text": "Approve for this session (1 h)",
              "callback_data": button(r["id"], 0) + ":s"}],
            [{"text": "Always approve deploy_staging for ci-bot (30 days)",
              "callback_data": button(r["id"], 0) + ":r"}]])
        for row in keyboard:
            for b in row:
                self.assertLessEqual(len(b["callback_data"].encode()), 64)

        message_id = sent.answer_json["result"]["message_id"]
        resp, query_id = self.press(None, data=button(r["id"], 0) + ":s", message_id=message_id)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(self.get(r["id"])["status"], "approved")
        assert_granted(self, self.server, r, "session", datetime.timedelta(hours=1))
        self.assertEqual(self.answer_to(query_id).json["text"],
                         "Recorded: Approve. Approved by alice \u2014 and approved for this "
                         "session for 1 h.")
        edit = self.edit_showing("\u2705 <b>Approved by alice \u2014 and approved for this "
                                 "session for 1 h</b>")
        self.assertEqual(edit.json["reply_markup"], {"inline_keyboard": []})

        assert_next_request_approved_by_grant(self, self.server, self.agent, "deploy_staging",
                                              "sess-1")
        assert_next_request_asks(self, self.server, self.agent, "deploy_staging", "sess-2")

    def test_a_high_risk_request_has_no_grant_buttons(self):
        r = self.create(session="sess-1", risk="high")
        sent = self.fake.wait_for(1, path=self.send)[0]
        self.assertEqual(r["grant_options"], [])
        self.assertEqual(sent.json["reply_markup"]["inline_keyboard"], [
            [{"text": "Approve", "callback_data": button(r["id"], 0)},
             {"text": "Deny", "callback_data": button(r["id"], 1)}]])

    def test_a_forged_grant_key_the_request_does_not_offer_is_refused_and_grants_nothing(self):
        r = self.create()  # no session: no "for this session" option
        self.fake.wait_for(1, path=self.send)
        resp, query_id = self.press(None, data=button(r["id"], 0) + ":s")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(self.answer_to(query_id).json["text"],
                         "this request does not offer approving for this session; nothing was "
                         "decided")
        self.assertEqual(self.get(r["id"])["status"], "pending")
        self.assertIn("decision.rejected", self.audit_types(r["id"]))
        self.assertNotIn("decision.recorded", self.audit_types(r["id"]))
        self.assertEqual(grants_of(self.server, r["id"]), [])

    # -- resolution follow-ups ---------------------------------------------------------------
    def test_every_way_a_request_resolves_edits_the_telegram_message(self):
        approved = self.create()
        cancelled = self.create()
        expired = self.create(timeout_seconds=1)
        self.fake.wait_for(3, path=self.send)
        self.server.call("POST", f"/v1/requests/{approved['id']}/decisions",
                         {"choice": "approve", "comment": "ship <it> & go"}, token=self.carol)
        self.server.call("POST", f"/v1/requests/{cancelled['id']}/cancel", {"reason": "no"},
                         token=self.agent)
        edits = {
            approved["id"]: self.edit_showing("\u2705 <b>Approved by carol</b>"),
            cancelled["id"]: self.edit_showing("\U0001f6ab <b>Cancelled</b>"),
            expired["id"]: self.edit_showing("\u231b <b>Expired: no decision before the "
                                             "deadline</b>"),
        }
        for request_id, edit in edits.items():
            self.assertIn(request_id, edit.json["text"])
            # The request's page stays linked once the buttons go.
            self.assertTrue(edit.json["text"].endswith(
                f'<a href="{PUBLIC_URL}/ui/requests/{request_id}">Open in the inbox</a>'),
                edit.json["text"])
            self.assertEqual(edit.json["reply_markup"], {"inline_keyboard": []})
            self.assertEqual(edit.answer_status, 200, edit.answer_json)
        self.assertIn("\u2022 carol: Approve \u2014 \u201cship &lt;it&gt; &amp; go\u201d",
                      edits[approved["id"]].json["text"])

    # -- countersign telegram set-webhook ----------------------------------------------------
    def run_cli(self, *args):
        env = dict(os.environ)
        env.update(self.env)
        return subprocess.run([BIN, "telegram", "set-webhook", "--config", self.config, *args],
                              capture_output=True, text=True, env=env, timeout=60)

    def test_set_webhook_registers_the_hook_url_and_the_secret_token(self):
        done = self.run_cli()
        self.assertEqual(done.returncode, 0, done.stderr)
        call = self.fake.wait_for(1, path=self.fake.method_path("setWebhook"))[0]
        self.assertEqual(call.json, {"url": PUBLIC_URL + "/hooks/telegram",
                                     "secret_token": SECRET,
                                     "allowed_updates": ["callback_query"]})
        self.assertIn(PUBLIC_URL + "/hooks/telegram", done.stdout)
        self.assertIn("Webhook was set", done.stdout)

    def test_set_webhook_reports_a_refusal_and_an_unknown_channel(self):
        self.fake.script(self.fake.method_path("setWebhook"),
                         telegram_error(400, "Bad Request: bad webhook: HTTPS url must be "
                                             "provided for webhook"))
        refused = self.run_cli("--public-url", "http://approvals.example.com")
        self.assertEqual(refused.returncode, 1, refused.stderr)
        self.assertIn("HTTPS url must be provided", refused.stderr)
        self.assertIn("https://", refused.stderr)  # the warning before the call
        unknown = self.run_cli("--channel", "tg-elsewhere")
        self.assertEqual(unknown.returncode, 3, unknown.stderr)
        self.assertIn("tg-elsewhere", unknown.stderr)
        self.assertEqual(len(self.fake.requests(path=self.fake.method_path("setWebhook"))), 1)

    def test_set_webhook_help_lists_its_options_and_exit_status(self):
        done = subprocess.run([BIN, "telegram", "set-webhook", "--help"], capture_output=True,
                              text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        for option in ("--config", "--channel", "--public-url", "/hooks/telegram",
                       "Exit status"):
            self.assertIn(option, done.stdout)


if __name__ == "__main__":
    unittest.main()
