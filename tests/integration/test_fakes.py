"""The fakes themselves: FakeChat's Slack routes for Socket Mode and DMs, the Socket Mode
WebSocket fake (fake_slack_socket.py) and the OpenAI-compatible fake (fake_openai.py).

No countersign binary: the clients here are stdlib ones (stream_clients.WsClient for the
WebSocket, urllib and http.client for HTTP), so a broken fake shows up here rather than as a
puzzling failure in a test of the server.
"""

import http.client
import json
import os
import socket
import sys
import time
import types
import unittest
import urllib.error
import urllib.parse
import urllib.request

from stream_clients import StreamRefused, WsClient, WsClosed

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testing"))
from fake_chat import (FakeChat, dm_channel_id, event_callback, event_callback_body,  # noqa: E402
                       event_headers, message_im_event, slack_error, slack_signature)
from fake_openai import FakeOpenAI, messages_contain, system_contains  # noqa: E402
from fake_slack_socket import (OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT,  # noqa: E402
                               encode_frame)


def slack_call(chat, method, args=None, token=None, form=False):
    """POSTs a Web API method; returns (status, parsed JSON)."""
    if form:
        data = urllib.parse.urlencode(args or {}).encode()
        content_type = "application/x-www-form-urlencoded"
    else:
        data = json.dumps(args or {}).encode()
        content_type = "application/json; charset=utf-8"
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = "Bearer " + token
    request = urllib.request.Request(f"{chat.api_base}/{method}", data, headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


def ws_connect(url):
    """A WsClient on a ws://127.0.0.1:PORT/... URL."""
    split = urllib.parse.urlsplit(url)
    server = types.SimpleNamespace(port=split.port, ca_file=None, admin_token=None)
    return WsClient(server, split.path + "?" + split.query, token=None)


def send_json(ws, message):
    ws.send_frame(OP_TEXT, json.dumps(message).encode())


class SlackWebApiTest(unittest.TestCase):
    def setUp(self):
        self.chat = FakeChat(bot_user_id="UBOT0042").start()
        self.addCleanup(self.chat.stop)
        self.bot = self.chat.bot_token

    def test_conversations_open_json_and_form(self):
        status, answer = slack_call(self.chat, "conversations.open", {"users": "U024BE7LH"},
                                    self.bot)
        self.assertEqual((status, answer), (200, {"ok": True, "channel": {"id": "D024BE7LH"}}))
        _, again = slack_call(self.chat, "conversations.open", {"users": "U024BE7LH"},
                              self.bot, form=True)
        self.assertEqual(again["channel"]["id"], "D024BE7LH")
        self.assertTrue(again["already_open"])
        _, missing = slack_call(self.chat, "conversations.open", {}, self.bot)
        self.assertEqual(missing, {"ok": False, "error": "invalid_arguments"})
        recorded = self.chat.wait_for(3, path="/api/conversations.open")
        self.assertEqual(recorded[1].body, b"users=U024BE7LH")

    def test_auth_test_and_ephemeral(self):
        _, answer = slack_call(self.chat, "auth.test", None, self.bot)
        self.assertEqual(answer["user_id"], "UBOT0042")
        self.assertEqual(answer["bot_id"], "B0001")
        _, answer = slack_call(self.chat, "chat.postEphemeral",
                               {"channel": "C1", "user": "U1", "text": "only you"}, self.bot)
        self.assertTrue(answer["ok"])
        self.assertRegex(answer["message_ts"], r"^\d+\.\d{6}$")
        _, answer = slack_call(self.chat, "chat.postMessage",
                               {"channel": "D024BE7LH", "text": "hi"}, self.bot, form=True)
        self.assertTrue(answer["ok"])
        self.assertEqual(self.chat.message("D024BE7LH", answer["ts"])["text"], "hi")

    def test_tokens(self):
        _, answer = slack_call(self.chat, "apps.connections.open", None, self.bot)
        self.assertEqual(answer, {"ok": False, "error": "invalid_auth"})
        _, answer = slack_call(self.chat, "chat.postMessage", {"channel": "C1", "text": "x"},
                               self.chat.app_token)
        self.assertEqual(answer, {"ok": False, "error": "invalid_auth"})
        _, answer = slack_call(self.chat, "auth.test")
        self.assertEqual(answer, {"ok": False, "error": "not_authed"})

    def test_scripted_connections_open(self):
        self.chat.script("/api/apps.connections.open", slack_error("ratelimited", 429, 1))
        with self.assertRaises(urllib.error.HTTPError) as failure:
            slack_call(self.chat, "apps.connections.open", None, self.chat.app_token)
        self.assertEqual(failure.exception.code, 429)
        self.assertEqual(failure.exception.headers["Retry-After"], "1")
        _, answer = slack_call(self.chat, "apps.connections.open", None, self.chat.app_token)
        self.assertRegex(answer["url"], r"^ws://127\.0\.0\.1:\d+/link/\?ticket=[0-9a-f-]{36}$")

    def test_event_helpers(self):
        event = message_im_event("U024BE7LH", "approve")
        self.assertEqual(event["channel"], dm_channel_id("U024BE7LH"))
        self.assertEqual((event["type"], event["channel_type"]), ("message", "im"))
        self.assertEqual(event["ts"], event["event_ts"])
        self.assertNotEqual(message_im_event("U1", "x")["ts"], message_im_event("U1", "x")["ts"])
        body = event_callback_body(event, event_id="Ev0001")
        wrapper = json.loads(body)
        self.assertEqual((wrapper["type"], wrapper["event_id"], wrapper["team_id"],
                          wrapper["api_app_id"]), ("event_callback", "Ev0001", "T0001", "A0001"))
        self.assertEqual(wrapper["event"], event)
        headers = event_headers("secret", body, timestamp=1700000000, retry_num=1)
        self.assertEqual(headers["Content-Type"], "application/json")
        self.assertEqual(headers["X-Slack-Signature"],
                         slack_signature("secret", 1700000000, body))
        self.assertEqual((headers["X-Slack-Retry-Num"], headers["X-Slack-Retry-Reason"]),
                         ("1", "http_timeout"))


class SocketModeTest(unittest.TestCase):
    def setUp(self):
        self.chat = FakeChat().start()
        self.addCleanup(self.chat.stop)
        self.socket = self.chat.socket_mode

    def new_url(self):
        _, answer = slack_call(self.chat, "apps.connections.open", None, self.chat.app_token)
        return answer["url"]

    def connect(self):
        ws = ws_connect(self.new_url())
        self.addCleanup(ws.close)
        hello = ws.next_message()
        self.assertEqual(hello["type"], "hello")
        return ws, hello

    def test_hello_envelope_ack(self):
        ws, hello = self.connect()
        self.assertEqual(hello["num_connections"], 1)
        self.assertEqual(hello["connection_info"], {"app_id": "A0001"})
        self.assertEqual(hello["debug_info"]["approximate_connection_time"], 3600)
        self.assertEqual(len(self.socket.wait_for_connections(1)), 1)

        payload = event_callback(message_im_event("U024BE7LH", "approve"))
        envelope_id = self.socket.send_envelope("events_api", payload, retry_attempt=1,
                                                retry_reason="timeout")
        envelope = ws.next_message()
        self.assertEqual(envelope, {"envelope_id": envelope_id, "payload": payload,
                                    "type": "events_api", "accepts_response_payload": False,
                                    "retry_attempt": 1, "retry_reason": "timeout"})
        send_json(ws, {"envelope_id": envelope_id})
        ack = self.socket.wait_for_ack(envelope_id)
        self.assertIsNone(ack.payload)
        self.assertEqual(ack.connection.index, 0)

        command = {"command": "/countersign", "text": "list", "user_id": "U1"}
        slash_id = self.socket.send_envelope("slash_commands", command, envelope_id="env-2",
                                             accepts_response_payload=True)
        self.assertEqual(slash_id, "env-2")
        envelope = ws.next_message()
        self.assertNotIn("retry_attempt", envelope)
        self.assertTrue(envelope["accepts_response_payload"])
        send_json(ws, {"envelope_id": "env-2", "payload": {"text": "nothing pending"}})
        self.assertEqual(self.socket.wait_for_ack("env-2").payload, {"text": "nothing pending"})
        acks = self.socket.acks()
        self.assertEqual([a.envelope_id for a in acks], [envelope_id, "env-2"])
        self.assertLessEqual(acks[0].received_at, acks[1].received_at)

        self.assertEqual(ws.close_handshake(), (1000, ""))
        connection = self.socket.wait_for_close(self.socket.connections()[0])
        self.assertEqual((connection.closed_by, connection.close_code), ("client", 1000))
        self.assertEqual(self.socket.open_connections(), 0)

    def test_ticket_is_good_once(self):
        url = self.new_url()
        ws = ws_connect(url)
        self.addCleanup(ws.close)
        ws.next_message()
        with self.assertRaises(StreamRefused) as refused:
            ws_connect(url)
        self.assertEqual(refused.exception.status, 403)
        unknown = url.split("?ticket=")[0] + "?ticket=not-a-ticket"
        with self.assertRaises(StreamRefused) as refused:
            ws_connect(unknown)
        self.assertEqual(refused.exception.status, 403)
        self.assertEqual([r.reason for r in self.socket.refusals()],
                         ["ticket_already_used", "invalid_ticket"])
        self.assertEqual(len(self.socket.connections()), 1)

    def test_disconnect_then_reconnect(self):
        old, _ = self.connect()
        self.socket.send_disconnect("refresh_requested")
        message = old.next_message()
        self.assertEqual((message["type"], message["reason"]), ("disconnect", "refresh_requested"))
        new, hello = self.connect()  # the old connection is still open
        self.assertEqual(hello["num_connections"], 2)
        self.assertEqual(self.socket.open_connections(), 2)
        old.close_handshake()
        first, second = self.socket.connections()
        self.socket.wait_for_close(first)
        self.assertIsNotNone(first.disconnect_sent_at)
        self.assertLess(second.connected_at, first.closed_at)
        # Envelopes now go to the new connection.
        envelope_id = self.socket.send_envelope("interactive", {"type": "block_actions"})
        self.assertEqual(new.next_message()["envelope_id"], envelope_id)

    def test_ping_pong_and_payload_lengths(self):
        ws, _ = self.connect()
        ws.send_frame(OP_PING, b"are you there")
        self.assertEqual(ws._frame(), (True, OP_PONG, b"are you there"))
        for size in (100, 300, 70000):  # 7-bit, 16-bit and 64-bit lengths, both ways
            send_json(ws, {"envelope_id": f"e{size}", "payload": {"text": "x" * size}})
            self.assertEqual(len(self.socket.wait_for_ack(f"e{size}").payload["text"]), size)
            self.socket.send_json({"type": "big", "text": "y" * size})
            self.assertEqual(len(ws.next_message()["text"]), size)
        self.socket.send_frame(OP_PING, b"server ping")
        self.assertEqual(ws._frame(), (True, OP_PING, b"server ping"))
        ws.send_frame(OP_PONG, b"server ping")
        self.socket.wait_for_frame(lambda f: f.opcode == OP_PONG)

    def test_fragmented_message(self):
        ws, _ = self.connect()
        text = json.dumps({"envelope_id": "frag", "payload": {"n": 1}}).encode()
        ws.sock.sendall(encode_frame(OP_TEXT, text[:10], fin=False, mask=os.urandom(4))
                        + encode_frame(OP_PING, b"between", mask=os.urandom(4))
                        + encode_frame(OP_CONTINUATION, text[10:], mask=os.urandom(4)))
        self.assertEqual(self.socket.wait_for_ack("frag").payload, {"n": 1})
        self.assertEqual(ws._frame(), (True, OP_PONG, b"between"))

    def test_unmasked_client_frame_is_a_protocol_error(self):
        ws, _ = self.connect()
        ws.sock.sendall(encode_frame(OP_TEXT, b'{"envelope_id":"x"}'))
        with self.assertRaises(WsClosed) as closed:
            ws.next_message()
        self.assertEqual(closed.exception.code, 1002)
        connection = self.socket.wait_for_close(self.socket.connections()[0])
        self.assertEqual(connection.closed_by, "error")
        self.assertEqual(self.socket.acks(), [])

    def test_silent_connection(self):
        ws, _ = self.connect()
        connection = self.socket.go_silent()
        ws.send_frame(OP_PING, b"hello?")
        self.socket.wait_for_frame(lambda f: f.opcode == OP_PING, connection)
        self.socket.send_envelope("events_api", {"dropped": True})  # not sent: silent
        ws.sock.settimeout(0.3)  # bounds a wait for something that must not come
        with self.assertRaises(TimeoutError):
            ws._frame()
        self.assertTrue(connection.open)
        ws.close()  # gives up on it, without a close frame
        self.assertEqual(self.socket.wait_for_close(connection).closed_by, "eof")

    def test_close_all_and_stop(self):
        ws, _ = self.connect()
        other, _ = self.connect()
        connections = self.socket.close_all()
        self.assertEqual(len(connections), 2)
        for client in (ws, other):
            with self.assertRaises(WsClosed) as closed:
                client.next_message()  # answers the close frame
            self.assertEqual(closed.exception.code, 1001)
        for connection in connections:
            self.assertEqual(self.socket.wait_for_close(connection).closed_by, "server")
        self.connect()  # left open: stop() must not wait for it
        started = time.monotonic()
        self.chat.stop()
        self.assertLess(time.monotonic() - started, 5)


class FakeOpenAITest(unittest.TestCase):
    def setUp(self):
        self.fake = FakeOpenAI(api_key="sk-right").start()
        self.addCleanup(self.fake.stop)

    def post(self, body, key="sk-right", path="/v1/chat/completions"):
        """POSTs; returns (status, headers, parsed JSON or raw text)."""
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = "Bearer " + key
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        request = urllib.request.Request(self.fake.url + path, data, headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, answer_headers, raw = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, answer_headers, raw = error.code, error.headers, error.read()
        try:
            return status, answer_headers, json.loads(raw)
        except ValueError:
            return status, answer_headers, raw.decode()

    @staticmethod
    def chat(system="You are helpful.", user="hi", **extra):
        return {"model": "gpt-test", "messages": [{"role": "system", "content": system},
                                                  {"role": "user", "content": user}], **extra}

    def test_rate_limit_then_reply(self):
        self.fake.fail(429)
        self.fake.reply("hello")
        status, headers, answer = self.post(self.chat())
        self.assertEqual((status, headers["Retry-After"]), (429, "1"))
        self.assertEqual(answer["error"]["code"], "rate_limit_exceeded")
        status, _, answer = self.post(self.chat())
        self.assertEqual(status, 200)
        self.assertEqual(answer["object"], "chat.completion")
        self.assertEqual(answer["model"], "gpt-test")
        choice = answer["choices"][0]
        self.assertEqual(choice["message"], {"role": "assistant", "content": "hello",
                                             "refusal": None})
        self.assertEqual(choice["finish_reason"], "stop")
        usage = answer["usage"]
        self.assertEqual(usage["total_tokens"],
                         usage["prompt_tokens"] + usage["completion_tokens"])
        recorded = self.fake.wait_for(2)
        self.assertEqual([r.answer_kind for r in recorded], ["fail", "reply"])
        self.assertEqual(recorded[1].user, "hi")
        self.assertEqual(recorded[1].header("authorization"), "Bearer sk-right")

    def test_server_error_and_custom_failure(self):
        self.fake.fail(500)
        self.fake.fail(429, {"error": {"message": "quota", "type": "insufficient_quota",
                                       "param": None, "code": "insufficient_quota"}}, {})
        status, _, answer = self.post(self.chat())
        self.assertEqual((status, answer["error"]["type"]), (500, "server_error"))
        status, headers, answer = self.post(self.chat())
        self.assertEqual((status, answer["error"]["code"]), (429, "insufficient_quota"))
        self.assertIsNone(headers["Retry-After"])

    def test_auth(self):
        self.fake.reply("kept for later")
        for key in ("sk-wrong", None):
            status, _, answer = self.post(self.chat(), key=key)
            self.assertEqual(status, 401)
            self.assertEqual(answer["error"]["code"], "invalid_api_key")
            self.assertEqual(answer["error"]["type"], "invalid_request_error")
            self.assertIsNone(answer["error"]["param"])
        self.assertEqual(self.fake.pending(), 1)
        self.assertEqual([r.answer_kind for r in self.fake.wait_for(2)], ["auth", "auth"])

    def test_predicate_routing(self):
        self.fake.reply("plain")
        self.fake.reply_json({"verdict": "allow"}, when=system_contains("judge"))
        self.fake.reply("second plain")
        self.fake.reply("about the deploy", when=messages_contain("deploy"))
        # An ordinary request does not take the judge's answer, even though it comes first.
        self.assertEqual(self.post(self.chat())[2]["choices"][0]["message"]["content"], "plain")
        answer = self.post(self.chat(system="You are a judge."))[2]
        self.assertEqual(json.loads(answer["choices"][0]["message"]["content"]),
                         {"verdict": "allow"})
        answer = self.post(self.chat(user="may I deploy?"))[2]
        self.assertEqual(answer["choices"][0]["message"]["content"], "about the deploy")
        answer = self.post(self.chat(system="judge again"))[2]  # no judge answer left
        self.assertEqual(answer["choices"][0]["message"]["content"], "second plain")
        self.assertEqual(self.fake.pending(), 0)

    def test_default_strict_paths_and_validation(self):
        self.assertEqual(self.post(self.chat())[2]["choices"][0]["message"]["content"], "ok")
        status, _, _ = self.post(self.chat(), path="/openai/v1/chat/completions")
        self.assertEqual(status, 200)
        status, _, answer = self.post(self.chat(), path="/v1/completions")
        self.assertEqual((status, answer["error"]["type"]), (404, "invalid_request_error"))
        status, _, answer = self.post({"model": "m", "messages": []})
        self.assertEqual((status, answer["error"]["param"]), (400, "messages"))
        status, _, _ = self.post(b"{not json")
        self.assertEqual(status, 400)
        self.fake.strict = True
        self.assertEqual(self.post(self.chat())[0], 500)

    def test_stream(self):
        self.fake.reply("streamed")
        status, headers, text = self.post(self.chat(stream=True))
        self.assertEqual((status, headers["Content-Type"]), (200, "text/event-stream"))
        events = [line[len("data: "):] for line in text.split("\n") if line.startswith("data: ")]
        self.assertEqual(events[-1], "[DONE]")
        chunks = [json.loads(e) for e in events[:-1]]
        self.assertEqual("".join(c["choices"][0]["delta"].get("content", "") for c in chunks),
                         "streamed")
        self.assertEqual(chunks[-1]["choices"][0]["finish_reason"], "stop")

    def test_hang(self):
        self.fake.hang()
        self.fake.hang()
        connection = http.client.HTTPConnection("127.0.0.1", int(self.fake.url.rsplit(":", 1)[1]),
                                                timeout=0.3)
        connection.request("POST", "/v1/chat/completions", json.dumps(self.chat()),
                           {"Authorization": "Bearer sk-right"})
        with self.assertRaises(socket.timeout):  # bounds a wait for an answer that never comes
            connection.getresponse()
        connection.close()
        recorded = self.fake.wait_abandoned(self.fake.wait_for(1)[0])
        self.assertIsNone(recorded.answer_status)
        self.assertEqual(recorded.answer_kind, "hang")
        # A client still waiting does not hold up stop().
        waiting = socket.create_connection(("127.0.0.1", int(self.fake.url.rsplit(":", 1)[1])))
        self.addCleanup(waiting.close)
        body = json.dumps(self.chat()).encode()
        waiting.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                        b"Authorization: Bearer sk-right\r\nContent-Type: application/json\r\n"
                        + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        self.fake.wait_for(2)
        started = time.monotonic()
        self.fake.stop()
        self.assertLess(time.monotonic() - started, 5)


if __name__ == "__main__":
    unittest.main()
