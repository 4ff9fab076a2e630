"""Slack over Socket Mode: the server connects to a fake Socket Mode server (a real WebSocket on
loopback, tests/testing/fake_slack_socket.py) with the URL the fake Web API's
apps.connections.open hands out, acknowledges every envelope before doing its work, and feeds
events and button presses to the same handlers as the HTTP hooks.
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
from fake_chat import (FakeChat, block_actions_payload, event_callback,  # noqa: E402
                       message_im_event)
from fake_openai import FakeOpenAI, system_contains  # noqa: E402

BOT_TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"
APP_TOKEN = "xapp-1-A0001-1-test-app-token"
FEED = "C0FEED0001"
SUBJECT = "USUBJECT1"
ANALYST = "UANALYST1"
POST = "/api/chat.postMessage"
UPDATE = "/api/chat.update"

CONFIG = """
[outbound]
allow = ["127.0.0.1/32"]

[[channel]]
name = "slack-ops"
type = "slack"
mode = "socket"
bot_token = "env:SLACK_BOT_TOKEN"
app_token = "env:SLACK_APP_TOKEN"
channel = "{feed}"
api_base = "{api_base}"
socket_idle_seconds = 2

[identities]
"slack:{analyst}" = "alice"

[llm]
base_url = "{base_url}"
model = "gpt-fake"
api_key = "env:OPENAI_API_KEY"
retries = 0
"""

JUDGE = "decide whether the employee has answered"
ALERT = {"subject": "slack:" + SUBJECT,
         "alert": {"name": "Impossible travel", "properties": {"country": "NZ"}},
         "approvers": ["alice"]}


def value(request_id, choice):
    return json.dumps({"channel": "slack-ops", "request": request_id, "choice": choice},
                      separators=(",", ":"))


class SocketModeTest(unittest.TestCase):
    def setUp(self):
        self.slack = FakeChat(bot_token=BOT_TOKEN, app_token=APP_TOKEN).start()
        self.addCleanup(self.slack.stop)
        self.socket = self.slack.socket_mode
        self.model = FakeOpenAI(api_key="sk-test-key").start()
        self.addCleanup(self.model.stop)
        self.dir = tempfile.mkdtemp(prefix="countersign-socket-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        config = os.path.join(self.dir, "countersign.toml")
        with open(config, "w") as f:
            f.write(CONFIG.format(feed=FEED, api_base=self.slack.api_base, analyst=ANALYST,
                                  base_url=self.model.base_url))
        self.server = Server(data_dir=self.dir, extra_args=["--config", config],
                             env={"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN,
                                  "OPENAI_API_KEY": "sk-test-key"})
        self.server.start()
        self.addCleanup(self._stop_server)
        self.agent = self.server.create_token("siem", "agent")
        self.server.create_token("alice", "approver")
        self.socket.wait_for_connections(1)

    def _stop_server(self):
        result = getattr(self._outcome, "result", None)
        if result is not None and any(t is self for t, _ in result.errors + result.failures):
            print(self.server.read_log()[-8000:])
        self.server.stop()

    def alert(self):
        r = self.server.call("POST", "/v1/alerts", ALERT, token=self.agent)
        self.assertEqual(r.status, 201, r)
        self.slack.wait_for(2, path=POST)
        return r.json["id"]

    def press(self, request_id, choice, user=ANALYST, envelope_id=None):
        payload = block_actions_payload(value(request_id, choice), user_id=user,
                                        response_url=self.slack.url + "/response/x",
                                        channel_id=FEED, action_id=choice)
        sent = self.socket.send_envelope("interactive", payload, envelope_id=envelope_id)
        self.socket.wait_for_ack(sent)
        return sent

    def dm(self, text, envelope_id=None, event_id=None):
        wrapper = event_callback(message_im_event(SUBJECT, text), event_id=event_id)
        sent = self.socket.send_envelope("events_api", wrapper, envelope_id=envelope_id)
        self.socket.wait_for_ack(sent)
        return sent

    def messages(self, request_id):
        r = self.server.call("GET", f"/v1/requests/{request_id}/messages", token=self.agent)
        self.assertEqual(r.status, 200, r)
        return r.json["messages"]

    def test_alert_to_answered_over_the_socket(self):
        self.model.reply("we saw a login from New Zealand. Was that you?")
        rid = self.alert()
        waited = {}
        waiter = threading.Thread(target=lambda: waited.update(self.server.call(
            "GET", f"/v1/requests/{rid}/wait?timeout=60", token=self.agent).json))
        waiter.start()
        self.press(rid, "conv_start")
        greeting = self.slack.wait_for(3, path=POST)[2]
        self.assertTrue(greeting.json["text"].startswith("Hi <@%s>, we saw a login" % SUBJECT))

        self.model.reply_json({"has_answered": False, "is_aware": None, "confidence": 0.8,
                               "reason": "off topic"}, when=system_contains(JUDGE))
        self.model.reply("Just to check: was that login from New Zealand yours?")
        self.dm("hi, who is this?")
        nudge = self.slack.wait_for(7, path=POST)
        self.assertTrue(any("New Zealand yours" in p.json.get("text", "") for p in nudge))

        self.model.reply_json({"has_answered": True, "is_aware": False, "confidence": 0.92,
                               "reason": "says it was not them"}, when=system_contains(JUDGE))
        self.model.reply("The user says the login was not theirs: treat it as suspicious.")
        self.dm("no, I'm in Berlin")
        waiter.join(timeout=60)
        self.assertEqual(waited.get("status"), "answered", waited)
        result = self.server.get_request(rid)["conversation"]["result"]
        self.assertFalse(result["is_aware"])
        self.assertIn("suspicious", result["summary"])
        roles = [m["role"] for m in self.messages(rid)]
        self.assertEqual(roles, ["note", "bot", "subject", "bot", "subject", "bot", "note"])

        # Every envelope was acknowledged on the socket, with exactly its id.
        self.assertEqual(len(self.socket.acks()), 3)
        self.assertTrue(all(set(a.json) == {"envelope_id"} for a in self.socket.acks()))

    def test_an_envelope_is_acknowledged_before_its_work_is_done(self):
        self.model.reply("hello there, was that you?")
        rid = self.alert()
        self.press(rid, "conv_start")
        self.slack.wait_for(3, path=POST)
        self.model.hang(when=system_contains(JUDGE))
        self.dm("yes it was me")
        # Acknowledged while the judge has not answered (it never will, in this test).
        hung = self.model.wait_until(lambda r: JUDGE in r.system)
        self.assertIsNone(hung.answer_status)
        self.assertEqual(self.server.get_request(rid)["status"], "pending")

    def test_the_same_envelope_twice_acts_once(self):
        self.model.reply("hello there, was that you?")
        rid = self.alert()
        self.press(rid, "conv_start", envelope_id="env-start-1")
        self.slack.wait_for(3, path=POST)
        self.model.reply_json({"has_answered": False, "is_aware": None, "confidence": 0.5,
                               "reason": "no"}, when=system_contains(JUDGE))
        self.dm("what?", envelope_id="env-dm-1")
        self.dm("what?", envelope_id="env-dm-1")
        # A second Start chat with the same envelope is dropped too, not refused.
        self.press(rid, "conv_start", envelope_id="env-start-1")
        self.model.wait_until(lambda r: JUDGE in r.system)
        subject_lines = [m for m in self.messages(rid) if m["role"] == "subject"]
        self.assertEqual(len(subject_lines), 1)
        types = [e["type"] for e in self.server.audit(rid)]
        self.assertEqual(types.count("conversation.started"), 1)
        self.assertNotIn("decision.rejected", types)
        self.assertEqual(len(self.socket.acks()), 4)

    def test_disconnect_opens_the_new_socket_before_closing_the_old(self):
        rid = self.alert()
        first = self.socket.connections()[0]
        self.socket.send_disconnect("refresh_requested", connection=first)
        self.socket.wait_for_connections(2)
        self.socket.wait_for_close(first)
        second = self.socket.connections()[1]
        self.assertLess(second.connected_at, first.closed_at)
        self.assertEqual(first.closed_by, "client")
        self.assertNotEqual(first.ticket, second.ticket)
        self.assertEqual(len(self.slack.requests(path="/api/apps.connections.open")), 2)
        # A click right after the switch is not lost.
        self.model.reply("hello there, was that you?")
        self.press(rid, "conv_start")
        self.slack.wait_for(3, path=POST)
        self.assertEqual(self.server.get_request(rid)["conversation"]["phase"], "chatting")

    def test_a_silent_socket_is_replaced(self):
        first = self.socket.connections()[0]
        self.socket.go_silent(connection=first)
        # socket_idle_seconds = 2: the server's pings go unanswered, and it connects anew.
        self.socket.wait_for_connections(2)
        rid = self.alert()
        self.model.reply("hello there, was that you?")
        self.press(rid, "conv_start")
        self.slack.wait_for(3, path=POST)
        ready = self.server.call("GET", "/readyz", token=None)
        self.assertEqual(ready.json["slack_socket_mode"]["slack-ops"], "connected")
        metrics = self.server.call("GET", "/metrics").body
        self.assertIn('countersign_slack_socket_connected{channel="slack-ops"} 1', metrics)
        self.assertIn('countersign_slack_socket_failures_total{channel="slack-ops"} 1', metrics)

    def test_approval_buttons_work_over_the_socket_too(self):
        r = self.server.create_request(token=self.agent, action="deploy", notify=["slack-ops"])
        self.slack.wait_for(1, path=POST)
        payload = block_actions_payload(value(r["id"], "approve"), user_id=ANALYST,
                                        response_url=self.slack.url + "/response/y",
                                        channel_id=FEED, action_id="approve")
        self.socket.wait_for_ack(self.socket.send_envelope("interactive", payload))
        done = self.server.call("GET", f"/v1/requests/{r['id']}/wait?timeout=30",
                                token=self.agent)
        self.assertEqual(done.json["status"], "approved")
        self.assertEqual(done.json["resolved_by"], ["alice"])


if __name__ == "__main__":
    unittest.main()
