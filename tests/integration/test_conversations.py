"""Conversations end to end over Slack's HTTP Events API: an alert, the analysts' buttons, a
direct-message chat with the user, a model that judges and summarises (or the analysts'
buttons without one), and the request that waits for all of it.

The server talks to a fake Slack Web API (tests/testing/fake_chat.py) and a fake
OpenAI-compatible server (tests/testing/fake_openai.py) on loopback; Slack's events and button
presses are POSTed to the server signed, as Slack sends them.
"""

import json
import os
import shutil
import sys
import tempfile
import threading
import unittest

from harness import Server

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testing"))
from fake_chat import (FakeChat, block_actions_body, event_callback_body,  # noqa: E402
                       event_headers, message_im_event, slack_headers, url_verification_body)
from fake_openai import FakeOpenAI, system_contains  # noqa: E402

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"
FEED = "C0FEED0001"
SUBJECT = "USUBJECT1"
ANALYST = "UANALYST1"
OUTSIDER = "UOUTSIDE1"
POST = "/api/chat.postMessage"
UPDATE = "/api/chat.update"

CONFIG = """
[outbound]
allow = ["127.0.0.1/32"]

[[channel]]
name = "slack-ops"
type = "slack"
bot_token = "env:SLACK_BOT_TOKEN"
signing_secret = "env:SLACK_SIGNING_SECRET"
channel = "{feed}"
api_base = "{api_base}"

[identities]
"slack:{analyst}" = "alice"
"slack:{outsider}" = "mallory"
{llm}
"""

LLM = """
[llm]
base_url = "{base_url}"
model = "gpt-fake"
api_key = "env:OPENAI_API_KEY"
retries = 1
"""

GREETING = "first direct message"
JUDGE = "decide whether the employee has answered"
NUDGE = "short, friendly follow-up"
SUMMARY = "You summarise"

ALERT = {
    "subject": "slack:" + SUBJECT,
    "alert": {"id": "pivot", "name": "Lateral movement", "description": "SSH from a laptop",
              "properties": {"source_host": "laptop-7", "destination_host": "db-1"}},
    "approvers": ["alice"],
}


def button(request_id, choice):
    return json.dumps({"channel": "slack-ops", "request": request_id, "choice": choice},
                      separators=(",", ":"))


class ConversationTest(unittest.TestCase):
    with_model = True

    def setUp(self):
        self.slack = FakeChat(bot_token=BOT_TOKEN).start()
        self.addCleanup(self.slack.stop)
        self.model = FakeOpenAI(api_key="sk-test-key").start()
        self.addCleanup(self.model.stop)
        self.dir = tempfile.mkdtemp(prefix="countersign-conv-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.config = os.path.join(self.dir, "countersign.toml")
        llm = LLM.format(base_url=self.model.base_url) if self.with_model else ""
        with open(self.config, "w") as f:
            f.write(CONFIG.format(feed=FEED, api_base=self.slack.api_base, analyst=ANALYST,
                                  outsider=OUTSIDER, llm=llm))
        self.server = self.new_server()
        self.server.start()
        self.addCleanup(self._stop_server)
        self.agent = self.server.create_token("siem", "agent")
        self.server.create_token("alice", "approver")
        self.server.create_token("mallory", "approver")

    def new_server(self):
        return Server(data_dir=self.dir, extra_args=["--config", self.config],
                      env={"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SECRET,
                           "OPENAI_API_KEY": "sk-test-key"})

    def _stop_server(self):
        result = getattr(self._outcome, "result", None)
        if result is not None and any(t is self for t, _ in result.errors + result.failures):
            print(self.server.read_log()[-8000:])
        self.server.stop()

    # -- Slack's side --------------------------------------------------------------------------
    def alert(self, body=None, expect=201):
        r = self.server.call("POST", "/v1/alerts", body or ALERT, token=self.agent)
        self.assertEqual(r.status, expect, r)
        return r.json

    def press(self, request_id, choice, user=ANALYST):
        body = block_actions_body(button(request_id, choice), user_id=user,
                                  response_url=self.slack.url + "/response/" + request_id,
                                  channel_id=FEED, action_id=choice)
        r = self.server.call("POST", "/hooks/slack", raw=body.encode(), token=None,
                             headers=slack_headers(SECRET, body), content_type=None)
        self.assertEqual(r.status, 200, r)

    def event(self, event, event_id=None, retry_num=None):
        body = event_callback_body(event, event_id=event_id)
        r = self.server.call("POST", "/hooks/slack/events", raw=body, token=None,
                             headers=event_headers(SECRET, body, retry_num=retry_num),
                             content_type=None)
        self.assertEqual(r.status, 200, r)
        return r

    def dm(self, text, user=SUBJECT, **kwargs):
        return self.event(message_im_event(user, text), **kwargs)

    def posts(self, count):
        return self.slack.wait_for(count, path=POST)

    def wait_status(self, request_id, timeout=60):
        r = self.server.call("GET", f"/v1/requests/{request_id}/wait?timeout={timeout}",
                             token=self.agent)
        self.assertEqual(r.status, 200, r)
        return r.json

    def messages(self, request_id):
        r = self.server.call("GET", f"/v1/requests/{request_id}/messages", token=self.agent)
        self.assertEqual(r.status, 200, r)
        return r.json

    def event_types(self, request_id):
        return [e["type"] for e in self.server.audit(request_id)]

    def buttons(self, recorded):
        """The action ids of the buttons of a recorded chat.postMessage/chat.update."""
        for block in recorded.json.get("blocks", []):
            if block["type"] == "actions":
                return [e["action_id"] for e in block["elements"]]
        return []


class ModelConversationTest(ConversationTest):
    def script_chat(self):
        self.model.reply("we noticed an SSH login from laptop-7 to db-1. Was that you?",
                         when=system_contains(GREETING))
        self.model.reply_json({"has_answered": False, "is_aware": None, "confidence": 0.9,
                               "reason": "asks a question back"}, when=system_contains(JUDGE))
        self.model.reply("No worries - did you log in to db-1 from laptop-7 this morning?",
                         when=system_contains(NUDGE))
        self.model.reply_json({"has_answered": True, "is_aware": True, "confidence": 0.95,
                               "reason": "confirms it was them"}, when=system_contains(JUDGE))
        self.model.reply("The user confirmed the login was theirs; nothing suspicious.",
                         when=system_contains(SUMMARY))

    def test_alert_to_answered_with_a_nudge(self):
        self.script_chat()
        created = self.alert()
        rid = created["id"]
        self.assertEqual(created["kind"], "conversation")
        self.assertEqual(created["status"], "pending")
        self.assertEqual(created["conversation"]["phase"], "posted")
        self.assertEqual(created["conversation"]["subject"], "slack:" + SUBJECT)

        # The alert in the feed with Start chat / Do nothing, the properties in its thread.
        alert_post, properties = self.posts(2)[:2]
        self.assertEqual(alert_post.json["channel"], FEED)
        self.assertEqual(self.buttons(alert_post), ["conv_start", "conv_dismiss"])
        self.assertIn("<@%s>" % SUBJECT, json.dumps(alert_post.json["blocks"]))
        feed_ts = alert_post.answer_json["ts"]
        self.assertEqual(properties.json["thread_ts"], feed_ts)
        self.assertIn("source_host", properties.json["text"])
        self.assertIn("laptop-7", properties.json["text"])

        waited = {}
        waiter = threading.Thread(target=lambda: waited.update(self.wait_status(rid)))
        waiter.start()

        self.press(rid, "conv_start")
        # The greeting: a DM opened, the greeting sent by name, mirrored into the thread, and
        # the buttons replaced by End chat.
        self.slack.wait_for(1, path="/api/conversations.open")
        posts = self.posts(4)
        greeting = posts[2]
        self.assertTrue(greeting.json["channel"].startswith("D"), greeting)
        self.assertTrue(greeting.json["text"].startswith("Hi <@%s>, " % SUBJECT), greeting)
        self.assertIn("laptop-7 to db-1", greeting.json["text"])
        self.assertEqual(posts[3].json["thread_ts"], feed_ts)
        self.assertTrue(posts[3].json["text"].startswith("Sent to <@%s>:" % SUBJECT))
        updates = self.slack.wait_for(1, path=UPDATE)
        self.assertEqual(self.buttons(updates[-1]), ["conv_end"])

        # The first reply is not an answer: mirrored, judged, and a nudge goes out.
        self.dm("what alert? <b>")
        posts = self.posts(7)
        self.assertTrue(posts[4].json["text"].startswith("Received from <@%s>:" % SUBJECT))
        self.assertIn("what alert? &lt;b&gt;", posts[4].json["text"])
        self.assertIn("did you log in", posts[5].json["text"])

        # The second is: thanks, the summary in the thread, the parent updated, resolved.
        self.dm("yes, that was me fixing the backup")
        waiter.join(timeout=60)
        self.assertEqual(waited.get("status"), "answered", waited)
        request = self.server.get_request(rid)
        self.assertEqual(request["status"], "answered")
        self.assertEqual(request["resolved_by"], ["judge"])
        result = request["conversation"]["result"]
        self.assertTrue(result["has_answered"])
        self.assertTrue(result["is_aware"])
        self.assertIn("nothing suspicious", result["summary"])
        self.assertEqual(request["conversation"]["phase"], "closed")

        transcript = self.messages(rid)["messages"]
        self.assertEqual([m["role"] for m in transcript],
                         ["bot", "subject", "bot", "subject", "bot", "note"])
        self.assertEqual(transcript[1]["text"], "what alert? <b>")
        self.assertTrue(transcript[4]["text"].startswith("Thank you"))
        # Everything shown in Slack: the thanks to the user, the summary in the thread, and
        # the alert message without buttons.
        posts = self.posts(11)
        texts = [p.json["text"] for p in posts]
        self.assertTrue(any(t.startswith("Thank you") for t in texts), texts)
        self.assertTrue(any("Summary: The user confirmed" in t for t in texts), texts)
        final = self.slack.wait_for(3, path=UPDATE)[-1]
        self.assertEqual(self.buttons(final), [])
        self.assertIn("was aware of it", json.dumps(final.json["blocks"]))

        # The judge read the whole transcript, with speakers, as user-role content.
        judge_calls = [r for r in self.model.requests() if JUDGE in r.system]
        self.assertEqual(len(judge_calls), 2)
        second = judge_calls[1].json
        self.assertEqual([m["role"] for m in second["messages"]], ["system", "user"])
        self.assertIn("[employee] what alert? <b>", second["messages"][1]["content"])
        self.assertIn("[assistant] we noticed an SSH login", second["messages"][1]["content"])
        self.assertEqual(second["response_format"]["type"], "json_schema")
        self.assertEqual(judge_calls[0].headers.get("authorization"), "Bearer sk-test-key")

        types = self.event_types(rid)
        for expected in ["request.created", "conversation.posted", "conversation.started",
                         "conversation.judged", "conversation.closed", "request.resolved"]:
            self.assertIn(expected, types)
        self.assertEqual(types.count("conversation.judged"), 2)
        self.assertEqual(types.count("conversation.message"), 6)
        models = [e for e in self.server.audit(rid) if e["type"] == "conversation.model"]
        self.assertEqual(sorted(e["data"]["use"] for e in models), ["greeting", "summary"])
        self.assertEqual(models[0]["data"]["model"], "gpt-fake")


class TemplateConversationTest(ConversationTest):
    with_model = False

    def test_the_analysts_settle_it_with_buttons(self):
        rid = self.alert()["id"]
        self.posts(2)
        self.press(rid, "conv_start")
        posts = self.posts(4)
        greeting = posts[2].json["text"]
        self.assertTrue(greeting.startswith("Hi <@%s>, this is the security team" % SUBJECT))
        self.assertIn("Lateral movement", greeting)
        self.assertIn("Was the user aware of this activity?", greeting)
        update = self.slack.wait_for(1, path=UPDATE)[-1]
        self.assertEqual(self.buttons(update), ["conv_confirmed", "conv_denied", "conv_end"])

        self.dm("no, I was asleep")
        self.posts(5)
        self.press(rid, "conv_denied")
        request = self.wait_status(rid)
        self.assertEqual(request["status"], "answered")
        request = self.server.get_request(rid)
        result = request["conversation"]["result"]
        self.assertFalse(result["is_aware"])
        self.assertIn("no, I was asleep", result["summary"])
        self.assertEqual(request["resolved_by"], ["alice"])
        self.assertEqual(self.model.requests(), [])


if __name__ == "__main__":
    unittest.main()
