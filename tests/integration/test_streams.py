"""Live streams: GET /v1/events (SSE) and GET /v1/ws (WebSocket).

What they carry (every request event of the caller's tenant, or one request), resuming with
Last-Event-ID / since= without gap or duplicate, errors before the hand-over, a consumer that
never reads being cut off, and shutdown. A stream subscribes before it answers, so once a
client has the response head (or the 101) no later event can be missed: no test sleeps.
"""

import os
import shutil
import tempfile
import threading
import unittest

from harness import Server, ServerTestCase, make_certificates
from stream_clients import SseClient, StreamRefused, WsClient, WsClosed

REQUEST_EVENT_FIELDS = {"seq", "at", "tenant", "request_id", "type", "actor", "data",
                        "prev_hash", "hash"}


def metric(server, name):
    for line in server.call("GET", "/metrics", token=None).body.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"no {name} metric")


def resolved(request_id):
    return lambda e: (e.get("event") or e.get("type")) == "request.resolved" and \
        (e["data"]["request_id"] if "event" in e else e["request_id"]) == request_id


class StreamTestCase(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.agent = self.server.create_token("ci-bot", "agent")
        self.alice = self.server.create_token("alice", "approver")
        self.streams = []

    def tearDown(self):
        for stream in self.streams:
            stream.close()

    def sse(self, path="/v1/events", token="admin", **kwargs):
        stream = SseClient(self.server, path, token, **kwargs)
        self.streams.append(stream)
        return stream

    def ws(self, path="/v1/ws", token="admin", **kwargs):
        stream = WsClient(self.server, path, token, **kwargs)
        self.streams.append(stream)
        return stream

    def approve(self, request_id):
        r = self.server.call("POST", f"/v1/requests/{request_id}/decisions",
                             {"choice": "approve", "comment": "go"}, token=self.alice)
        self.assertEqual(r.status, 200, r)

    def audit(self, since=0, request=None):
        path = f"/v1/audit?since={since}&limit=1000"
        if request:
            path += f"&request={request}"
        r = self.server.call("GET", path)
        self.assertEqual(r.status, 200, r)
        return [e for e in r.json["events"] if e["request_id"]]


class SseTest(StreamTestCase):
    def test_sse_delivers_created_decision_and_resolved_in_seq_order(self):
        stream = self.sse()
        self.assertEqual(stream.headers["content-type"], "text/event-stream; charset=utf-8")
        self.assertEqual(stream.headers["cache-control"], "no-store")
        self.assertEqual(stream.headers["x-accel-buffering"], "no")
        req = self.server.create_request(token=self.agent)
        self.approve(req["id"])
        events = stream.events_until(resolved(req["id"]))
        self.assertEqual([e["event"] for e in events],
                         ["request.created", "decision.recorded", "request.resolved"])
        ids = [int(e["id"]) for e in events]
        self.assertEqual(ids, sorted(ids))
        self.assertEqual(len(set(ids)), 3)
        for e in events:
            self.assertEqual(set(e["data"]), REQUEST_EVENT_FIELDS)
            self.assertEqual(e["data"]["seq"], int(e["id"]))
            self.assertEqual(e["data"]["type"], e["event"])
            self.assertEqual(e["data"]["request_id"], req["id"])
            self.assertEqual(e["data"]["tenant"], "default")
        self.assertEqual(events[0]["data"]["actor"], "ci-bot")
        self.assertEqual(events[1]["data"]["actor"], "alice")
        self.assertEqual(events[1]["data"]["data"]["choice"], "approve")
        self.assertEqual(events[2]["data"]["data"]["status"], "approved")
        # Exactly what the audit log holds for the request.
        self.assertEqual([e["data"] for e in events], self.audit(request=req["id"]))

    def test_cancel_and_expiry_are_streamed(self):
        stream = self.sse()
        cancelled = self.server.create_request(token=self.agent)
        self.server.call("POST", f"/v1/requests/{cancelled['id']}/cancel", {}, token=self.agent)
        expiring = self.server.create_request(token=self.agent, timeout_seconds=1)
        events = stream.events_until(lambda e: e["event"] == "request.expired")
        self.assertEqual([(e["event"], e["data"]["request_id"]) for e in events],
                         [("request.created", cancelled["id"]),
                          ("request.cancelled", cancelled["id"]),
                          ("request.created", expiring["id"]),
                          ("request.expired", expiring["id"])])

    def test_request_parameter_narrows_the_stream_to_one_request(self):
        watched = self.server.create_request(token=self.agent)
        other = self.server.create_request(token=self.agent)
        stream = self.sse(f"/v1/events?request={watched['id']}", token=self.agent)
        self.approve(other["id"])
        self.approve(watched["id"])
        events = stream.events_until(resolved(watched["id"]))
        self.assertEqual({e["data"]["request_id"] for e in events}, {watched["id"]})
        self.assertEqual([e["event"] for e in events], ["decision.recorded", "request.resolved"])

    def test_another_tenants_events_never_appear(self):
        b_approver = self.server.create_token("b-alice", "approver", tenant="tenant-b")
        b_agent = self.server.create_token("b-bot", "agent", tenant="tenant-b")
        stream = self.sse(token=b_approver)
        ours = self.server.create_request(token=self.agent)
        self.approve(ours["id"])
        theirs = self.server.create_request(token=b_agent)
        # Events come in seq order, so any event of the default tenant would come first.
        event = stream.next_event()
        self.assertEqual(event["data"]["request_id"], theirs["id"])
        self.assertEqual(event["data"]["tenant"], "tenant-b")

    def test_an_agent_sees_only_its_own_requests(self):
        other_agent = self.server.create_token("other-bot", "agent")
        stream = self.sse(token=self.agent)
        foreign = self.server.create_request(token=other_agent)
        self.approve(foreign["id"])
        mine = self.server.create_request(token=self.agent)
        self.approve(mine["id"])
        events = stream.events_until(resolved(mine["id"]))
        self.assertEqual({e["data"]["request_id"] for e in events}, {mine["id"]})

    def test_errors_before_the_stream_are_ordinary_json_responses(self):
        other_agent = self.server.create_token("other-bot", "agent")
        foreign = self.server.create_request(token=other_agent)
        b_admin = self.server.create_token("b-admin", "admin", tenant="tenant-b")
        cases = [
            ("/v1/events", None, {}, 401),
            ("/v1/events?since=soon", "admin", {}, 400),
            ("/v1/events?since=-1", "admin", {}, 400),
            ("/v1/events", "admin", {"Last-Event-ID": "x1"}, 400),
            ("/v1/events?request=req_nope", "admin", {}, 404),
            (f"/v1/events?request={foreign['id']}", self.agent, {}, 404),
            (f"/v1/events?request={foreign['id']}", b_admin, {}, 404),
            ("/v1/ws?since=x", "admin", {}, 400),
        ]
        for path, token, headers, status in cases:
            with self.subTest(path=path, headers=headers):
                with self.assertRaises(StreamRefused) as refused:
                    SseClient(self.server, path, token, headers=headers)
                self.assertEqual(refused.exception.status, status)
                self.assertIn("error", refused.exception.json)
        # /v1/ws without the upgrade handshake.
        r = self.server.call("GET", "/v1/ws")
        self.assertEqual(r.status, 400, r)
        r = self.server.call("POST", "/v1/events", {})
        self.assertEqual(r.status, 405, r)

    def test_resume_with_last_event_id_gets_exactly_the_missed_events(self):
        stream = self.sse()
        first = self.server.create_request(token=self.agent)
        seen = stream.next_event()
        self.assertEqual(seen["data"]["request_id"], first["id"])
        stream.close()

        # Missed while disconnected.
        second = self.server.create_request(token=self.agent)
        self.approve(first["id"])
        missed = self.audit(since=int(seen["id"]))
        self.assertEqual([e["type"] for e in missed],
                         ["request.created", "decision.recorded", "request.resolved"])

        # A reconnecting EventSource repeats its URL and adds Last-Event-ID, which wins.
        resumed = self.sse("/v1/events?since=0", headers={"Last-Event-ID": seen["id"]})
        replayed = [resumed.next_event() for _ in missed]
        self.assertEqual([e["data"] for e in replayed], missed)
        self.assertEqual({e["data"]["request_id"] for e in replayed}, {first["id"], second["id"]})
        # Then live, with nothing repeated.
        third = self.server.create_request(token=self.agent)
        live = resumed.next_event()
        self.assertEqual((live["event"], live["data"]["request_id"]),
                         ("request.created", third["id"]))
        self.assertGreater(int(live["id"]), int(replayed[-1]["id"]))

    def test_since_replays_from_the_store_then_continues_live(self):
        first = self.server.create_request(token=self.agent)
        self.approve(first["id"])
        history = self.audit()
        stream = self.sse("/v1/events?since=0")
        replayed = stream.events_until(resolved(first["id"]))
        self.assertEqual([e["data"] for e in replayed], history)
        second = self.server.create_request(token=self.agent)
        self.assertEqual(stream.next_event()["data"]["request_id"], second["id"])

    def test_without_since_the_stream_starts_with_the_next_event(self):
        self.server.create_request(token=self.agent)
        stream = self.sse()
        fresh = self.server.create_request(token=self.agent)
        self.assertEqual(stream.next_event()["data"]["request_id"], fresh["id"])


class WebSocketTest(StreamTestCase):
    def test_websocket_delivers_each_event_as_a_json_text_message(self):
        stream = self.ws()
        req = self.server.create_request(token=self.agent)
        self.approve(req["id"])
        messages = stream.messages_until(resolved(req["id"]))
        self.assertEqual([m["type"] for m in messages],
                         ["request.created", "decision.recorded", "request.resolved"])
        self.assertEqual(messages, self.audit(request=req["id"]))
        self.assertEqual(stream.close_handshake(), (1000, ""))

    def test_websocket_resumes_with_since(self):
        stream = self.ws()
        first = self.server.create_request(token=self.agent)
        seen = stream.next_message()
        stream.close_handshake()
        self.approve(first["id"])
        missed = self.audit(since=seen["seq"])
        resumed = self.ws(f"/v1/ws?since={seen['seq']}")
        self.assertEqual([resumed.next_message() for _ in missed], missed)
        second = self.server.create_request(token=self.agent)
        live = resumed.next_message()
        self.assertEqual((live["type"], live["request_id"]), ("request.created", second["id"]))

    def test_websocket_request_filter_and_tenant(self):
        b_admin = self.server.create_token("b-admin", "admin", tenant="tenant-b")
        watched = self.server.create_request(token=self.agent)
        other = self.server.create_request(token=self.agent)
        narrow = self.ws(f"/v1/ws?request={watched['id']}")
        foreign = self.ws(token=b_admin)
        self.approve(other["id"])
        self.approve(watched["id"])
        messages = narrow.messages_until(resolved(watched["id"]))
        self.assertEqual({m["request_id"] for m in messages}, {watched["id"]})
        b_agent = self.server.create_token("b-bot", "agent", tenant="tenant-b")
        theirs = self.server.create_request(token=b_agent)
        self.assertEqual(foreign.next_message()["request_id"], theirs["id"])

    def test_sse_and_websocket_clients_both_receive_the_resolution(self):
        req = self.server.create_request(token=self.agent)
        sse = self.sse(f"/v1/events?request={req['id']}", token=self.agent)
        ws = self.ws(f"/v1/ws?request={req['id']}", token=self.agent)
        self.approve(req["id"])
        sse_resolved = sse.events_until(resolved(req["id"]))[-1]["data"]
        ws_resolved = ws.messages_until(resolved(req["id"]))[-1]
        self.assertEqual(sse_resolved, ws_resolved)
        self.assertEqual(ws_resolved["data"]["status"], "approved")
        self.assertEqual(metric(self.server, "countersign_streams"), 2)


class SlowConsumerTest(StreamTestCase):
    # A keep-alive ping the stalled client never answers would cut a WebSocket after two
    # heartbeats; the flood must be what ends it, however slow the machine.
    extra_args = ("--stream-queue", "16", "--stream-heartbeat", "1h")

    def setUp(self):
        # The flood comes from one agent: past the default per-principal rate and pending cap.
        config_dir = tempfile.mkdtemp(prefix="countersign-flood-")
        self.addCleanup(shutil.rmtree, config_dir, True)
        config = os.path.join(config_dir, "countersign.toml")
        with open(config, "w") as f:
            f.write('[limits]\nrate_per_principal = "0"\nmax_pending_per_principal = 0\n')
        self.extra_args = (*type(self).extra_args, "--config", config)
        super().setUp()

    def flood_until_overflow(self, before, limit=20000):
        """Creates requests (several at a time) until the server counts an overflow."""
        title = "x" * 500
        created = 0
        while metric(self.server, "countersign_stream_overflows_total") == before:
            self.assertLess(created, limit, "the stream never overflowed")
            threads = [threading.Thread(target=self.server.create_request,
                                        kwargs={"token": self.agent, "title": title})
                       for _ in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            created += len(threads)
        print(f"overflowed after {created} requests", end=" ", flush=True)
        return created

    def test_an_sse_consumer_that_never_reads_is_cut_off(self):
        watcher = self.sse()
        stalled = self.sse(rcvbuf=4096)
        self.flood_until_overflow(0)
        # The server closed the stalled stream: reading what was buffered reaches the end.
        data = stalled.read_to_eof()
        self.assertTrue(data.startswith(b"id: "), data[:100])
        self.assertEqual(metric(self.server, "countersign_stream_overflows_total"), 1)
        self.assertIn("fell 16 events behind", self.server.read_log())
        # The server stays healthy, and a stream that keeps up is unaffected.
        self.assertEqual(self.server.call("GET", "/healthz", token=None).status, 200)
        req = self.server.create_request(token=self.agent)
        watcher.events_until(lambda e: e["data"]["request_id"] == req["id"])
        while metric(self.server, "countersign_streams") != 1:
            pass  # the cut-off stream's connection is being torn down

    def test_a_websocket_consumer_that_never_reads_is_cut_off(self):
        stalled = self.ws(rcvbuf=4096)
        self.flood_until_overflow(0)
        stalled.read_to_eof()
        self.assertEqual(metric(self.server, "countersign_stream_overflows_total"), 1)
        self.assertEqual(self.server.call("GET", "/healthz", token=None).status, 200)

    def test_an_overflowed_client_resumes_without_a_gap(self):
        stalled = self.sse(rcvbuf=4096)
        self.flood_until_overflow(0)
        data = stalled.read_to_eof().decode(errors="replace")
        # Complete events only (a cut-off write may leave half of one at the end).
        blocks = [b for b in data.split("\n\n")[:-1] if b.startswith("id: ")]
        last_id = int(blocks[-1].split("\n")[0][4:])
        resumed = self.sse(headers={"Last-Event-ID": str(last_id)})
        missed = self.audit(since=last_id)
        self.assertGreater(len(missed), 0)
        replayed = [resumed.next_event()["data"] for _ in missed]
        self.assertEqual(replayed, missed)


class TlsStreamTest(StreamTestCase):
    """The same sessions over HTTPS."""

    @classmethod
    def setUpClass(cls):
        cls.cert_dir, made = make_certificates("countersign-tls-", names=("server",))
        cls.tls = made["server"]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.cert_dir, ignore_errors=True)

    def test_sse_and_websocket_work_over_tls(self):
        req = self.server.create_request(token=self.agent)
        sse = self.sse("/v1/events?since=0")
        ws = self.ws(f"/v1/ws?request={req['id']}&since=0")
        self.approve(req["id"])
        sse_events = sse.events_until(resolved(req["id"]))
        ws_messages = ws.messages_until(resolved(req["id"]))
        self.assertEqual([e["data"] for e in sse_events], ws_messages)
        self.assertEqual(len(ws_messages), 3)
        self.assertEqual(ws.close_handshake(), (1000, ""))


class ShutdownTest(unittest.TestCase):
    def test_sigterm_closes_open_streams_promptly(self):
        server = Server()
        server.start()
        self.addCleanup(server.cleanup)
        sse = SseClient(server)
        self.addCleanup(sse.close)
        ws = WsClient(server)
        self.addCleanup(ws.close)
        closes = []

        def read_ws():
            try:
                ws.next_message()
            except WsClosed as closed:
                closes.append((closed.code, closed.reason))

        reader = threading.Thread(target=read_ws, daemon=True)
        reader.start()
        self.assertEqual(server.stop(), 0)
        sse.read_to_eof()
        reader.join(timeout=30)
        self.assertEqual(closes, [(1001, "server shutting down")])
        self.assertIn("stopped cleanly", server.read_log())


if __name__ == "__main__":
    unittest.main()
