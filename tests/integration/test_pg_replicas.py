"""Several replicas on one PostgreSQL: any replica takes any call, a decision on one wakes
waiters on all, expiry and delivery happen exactly once, and losing a replica or the database
for a while loses nothing that was acknowledged.

Each test starts a real PostgreSQL (tests/testing/pg_cluster.py) and real countersign
processes sharing one database and one data directory (the same receipt and link keys, as an
operator copies them to every replica). Tests wait for states (a waiter counted, an event
seen, a count reached), never for a fixed time.
"""

import concurrent.futures
import json
import os
import queue
import sys
import tempfile
import threading
import time
import unittest

import harness
from harness import Server
from stream_clients import SseClient

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testing"))
from fake_chat import FakeChat  # noqa: E402
from pg_cluster import PgCluster  # noqa: E402

STATE_TIMEOUT = 60  # seconds: only bounds a broken test


def metric(server, name):
    r = server.call("GET", "/metrics")
    for line in r.body.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"no {name} metric")


def until(predicate, what, timeout=STATE_TIMEOUT):
    """Polls `predicate` (a state, not a time) until it holds; fails naming `what`."""
    return harness.poll(predicate, what, timeout)


class ReplicaTestCase(unittest.TestCase):
    config = ""  # extra TOML for every replica

    def setUp(self):
        self.pg = PgCluster().start()
        self.addCleanup(self.pg.stop)
        self.url = self.pg.create_database()
        self.data_dir = tempfile.mkdtemp(prefix="countersign-replicas-")
        self.config_path = os.path.join(self.data_dir, "countersign.toml")
        with open(self.config_path, "w") as f:
            f.write(self.config)
        self.replicas = []
        self.addCleanup(self.stop_all)

    def stop_all(self):
        for r in self.replicas:
            r.stop(timeout=60)

    def replica(self, env=None):
        """A new replica on the shared database and data directory. The first one creates the
        keys and the admin token; the others read them."""
        server = Server(data_dir=self.data_dir, store=self.url,
                        extra_args=["--config", self.config_path], env=env)
        server.start()
        if server.admin_token is None and self.replicas:
            server.admin_token = self.replicas[0].admin_token
        self.replicas.append(server)
        return server

    def audit(self, server, **params):
        """Every event of the default tenant matching `params`, paging through /v1/audit."""
        out, since = [], 0
        while True:
            query = "&".join(f"{k}={v}" for k, v in dict(params, since=since, limit=1000).items())
            r = server.call("GET", "/v1/audit?" + query)
            self.assertEqual(r.status, 200, r)
            page = r.json["events"]
            out += page
            if len(page) < 1000:
                return out
            since = page[-1]["seq"]

    def assert_chain_verifies(self, server):
        r = server.call("GET", "/v1/audit/verify?full=true")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json["ok"], r.json)
        return r.json


class TwoReplicasTest(ReplicaTestCase):
    def test_a_decision_on_one_replica_answers_a_long_poll_on_the_other(self):
        a, b = self.replica(), self.replica()
        approver = a.create_token("alice", "approver")
        req = a.create_request(title="Deploy", timeout_seconds=600)
        # B reads what A wrote.
        r = b.call("GET", f"/v1/requests/{req['id']}")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "pending")

        answers = queue.Queue()
        threading.Thread(target=lambda: answers.put(
            b.call("GET", f"/v1/requests/{req['id']}/wait?timeout=60")), daemon=True).start()
        until(lambda: metric(b, "countersign_waiters") >= 1, "B to hold the waiter")
        self.assertTrue(answers.empty(), "B answered before anyone decided")

        r = a.call("POST", f"/v1/requests/{req['id']}/decisions", {"choice": "approve"},
                   token=approver)
        self.assertEqual(r.status, 200, r)
        answer = answers.get(timeout=STATE_TIMEOUT)
        self.assertEqual(answer.status, 200, answer)
        self.assertEqual(answer.json["status"], "approved")
        self.assertEqual([d["by"] for d in answer.json["decisions"]], ["alice"])
        self.assertEqual(metric(b, "countersign_waiters"), 0)

    def test_an_sse_stream_resumed_on_another_replica_has_no_gap_and_no_duplicate(self):
        a, b = self.replica(), self.replica()
        first = a.create_request(title="one")
        stream = SseClient(b, "/v1/events?since=0")
        seen = stream.events_until(lambda e: e.get("data", {}).get("request_id") == first["id"])
        last_id = seen[-1]["id"]
        stream.close()

        made = [a.create_request(title=f"more {i}")["id"] for i in range(5)]
        a.call("POST", f"/v1/requests/{made[0]}/cancel", {"reason": "test"})
        head = self.audit(a)[-1]["seq"]
        resumed = SseClient(b, "/v1/events", headers={"Last-Event-ID": last_id})
        events = resumed.events_until(lambda e: int(e["id"]) >= head)
        resumed.close()
        seqs = [int(e["id"]) for e in events]
        self.assertEqual(seqs, list(range(int(last_id) + 1, head + 1)))
        created = [e["data"]["request_id"] for e in events if e["event"] == "request.created"]
        self.assertEqual(created, made)

    def test_a_live_stream_on_one_replica_hears_every_commit_of_the_other_once(self):
        a, b = self.replica(), self.replica()
        stream = SseClient(b, "/v1/events")
        made = [a.create_request(title=f"live {i}")["id"] for i in range(20)]
        events = stream.events_until(
            lambda e: e["event"] == "request.created" and e["data"]["request_id"] == made[-1])
        stream.close()
        created = [e["data"]["request_id"] for e in events if e["event"] == "request.created"]
        self.assertEqual(created, made)
        seqs = [int(e["id"]) for e in events]
        self.assertEqual(seqs, sorted(set(seqs)))

    def test_a_lost_listen_connection_is_reopened_and_the_gap_replayed(self):
        a, b = self.replica(), self.replica()
        stream = SseClient(b, "/v1/events")
        before = a.create_request(title="before")["id"]
        stream.events_until(lambda e: e.get("data", {}).get("request_id") == before)
        # Cut every replica's LISTEN connection, then write while B's is down.
        self.pg.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE application_name = 'countersign-listen'")
        made = [a.create_request(title=f"during {i}")["id"] for i in range(10)]
        events = stream.events_until(
            lambda e: e["event"] == "request.created" and e["data"]["request_id"] == made[-1])
        stream.close()
        created = [e["data"]["request_id"] for e in events if e["event"] == "request.created"]
        self.assertEqual(created, made)
        seqs = [int(e["id"]) for e in events]
        self.assertEqual(seqs, sorted(set(seqs)))
        until(lambda: "countersign-listen" in self.pg.psql(
            "SELECT string_agg(application_name, ',') FROM pg_stat_activity "
            "WHERE application_name = 'countersign-listen'"), "B to LISTEN again")

    def test_a_token_revoked_on_one_replica_is_refused_by_the_other(self):
        a, b = self.replica(), self.replica()
        r = a.call("POST", "/v1/tokens", {"name": "bot", "role": "agent"})
        self.assertEqual(r.status, 201, r)
        token, token_id = r.json["token"], r.json["id"]
        self.assertEqual(b.call("GET", "/v1/requests", token=token).status, 200)
        r = a.call("DELETE", f"/v1/tokens/{token_id}")
        self.assertIn(r.status, (200, 204), r)
        until(lambda: b.call("GET", "/v1/requests", token=token).status == 401,
              "B to refuse the revoked token")


class ExpiryTest(ReplicaTestCase):
    def test_two_hundred_deadlines_with_three_replicas_expire_exactly_once(self):
        a, b, c = self.replica(), self.replica(), self.replica()
        replicas = [a, b, c]
        ids = []
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(replicas[i % 3].create_request, title=f"short {i}",
                                   timeout_seconds=1) for i in range(200)]
            ids = [f.result()["id"] for f in futures]

        def expired():
            return len(self.audit(a, type="request.expired")) >= 200 or None
        until(expired, "200 request.expired events")
        # Every replica scheduled every request; once all their timers have fired (the losers'
        # compare-and-set changed nothing), there is still one event per request.
        for r in replicas:
            until(lambda: metric(r, "countersign_deadline_timers") == 0,
                  "every replica's timers to fire")
        for n, r in enumerate(replicas):
            # A write through each writer's queue commits after the expiries it queued.
            r.create_token(f"marker-{n}", "agent")
        events = self.audit(a, type="request.expired")
        self.assertEqual(sorted(e["request_id"] for e in events), sorted(ids))
        for rid in ids[:20]:
            r = c.call("GET", f"/v1/requests/{rid}")
            self.assertEqual(r.json["status"], "expired")
        self.assert_chain_verifies(b)


class WebhookDeliveryTest(ReplicaTestCase):
    def setUp(self):
        self.fake = FakeChat().start()
        self.config = f"""
[outbound]
allow = ["127.0.0.1/32"]

[outbox]
retry_base = "50ms"
retry_max = "200ms"

[[webhook]]
name = "sink"
url = "{self.fake.url}/hooks/sink"
secret = "whsec-0123456789abcdef"
events = ["request.created"]
"""
        super().setUp()
        self.addCleanup(self.fake.stop)

    def test_a_hundred_webhooks_with_two_replicas_delivering_are_each_received_once(self):
        a, b = self.replica(), self.replica()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            futures = [pool.submit((a, b)[i % 2].create_request, title=f"hook {i}")
                       for i in range(100)]
            ids = {f.result()["id"] for f in futures}
        self.fake.wait_for(100, path="/hooks/sink", timeout=STATE_TIMEOUT)
        # Both replicas had every row due; wait until neither holds one pending.
        until(lambda: all(not s.call("GET", "/v1/outbox?state=pending").json["outbox"]
                          for s in (a, b)), "the outbox to drain")
        got = self.fake.requests(path="/hooks/sink")
        deliveries = [g.header("X-Countersign-Delivery") for g in got]
        self.assertEqual(len(deliveries), 100)
        self.assertEqual(len(set(deliveries)), 100, "a delivery id was received twice")
        self.assertEqual({g.json["request"]["id"] for g in got}, ids)


class ReplicaLossTest(ReplicaTestCase):
    def test_killing_a_replica_mid_burst_loses_no_acknowledged_create_or_decision(self):
        a, b = self.replica(), self.replica()
        approver = a.create_token("alice", "approver")
        acknowledged, decided = [], []
        lock = threading.Lock()
        stop = threading.Event()

        def burst(server, n):
            for i in range(n):
                if stop.is_set() and server is a:
                    return
                try:
                    r = server.call("POST", "/v1/requests", {"action": "deploy",
                                                             "title": f"burst {i}"})
                except OSError:
                    continue  # the killed replica: nothing acknowledged
                if r.status != 201:
                    continue
                with lock:
                    acknowledged.append(r.json["id"])
                if i % 2 == 0:
                    try:
                        d = server.call("POST", f"/v1/requests/{r.json['id']}/decisions",
                                        {"choice": "approve"}, token=approver)
                    except OSError:
                        continue
                    if d.status == 200:
                        with lock:
                            decided.append(r.json["id"])

        threads = [threading.Thread(target=burst, args=(s, 150)) for s in (a, a, b, b)]
        for t in threads:
            t.start()
        until(lambda: len(acknowledged) >= 60, "the burst to get going")
        a.kill()
        stop.set()
        for t in threads:
            t.join(timeout=STATE_TIMEOUT)
        self.assertGreater(len(acknowledged), 60)
        for rid in acknowledged:
            r = b.call("GET", f"/v1/requests/{rid}")
            self.assertEqual(r.status, 200, f"acknowledged {rid} is missing")
        for rid in decided:
            r = b.call("GET", f"/v1/requests/{rid}")
            self.assertEqual(r.json["status"], "approved", f"acknowledged decision on {rid} lost")
        self.assert_chain_verifies(b)


class DatabaseOutageTest(ReplicaTestCase):
    def test_a_database_restart_gives_503s_then_recovers_without_restarting_replicas(self):
        a, b = self.replica(), self.replica()
        before = a.create_request(title="before")["id"]
        # Light load on both replicas through the whole outage.
        statuses, acknowledged = [], []
        stop = threading.Event()

        def load(server):
            i = 0
            while not stop.is_set():
                i += 1
                r = server.call("POST", "/v1/requests", {"action": "deploy", "title": f"load {i}"})
                statuses.append(r.status)
                if r.status == 201:
                    acknowledged.append(r.json["id"])
                elif "Retry-After" not in r.headers:
                    statuses.append("no Retry-After")
                time.sleep(0.01)  # light load: about 100 calls a second per replica

        threads = [threading.Thread(target=load, args=(s,), daemon=True) for s in (a, b)]
        for t in threads:
            t.start()
        until(lambda: len(acknowledged) >= 10, "the load to be acknowledged")
        self.pg.pause()
        served_before_outage = len(statuses)
        until(lambda: statuses[served_before_outage:].count(503) >= 10, "503s during the outage")
        ready = b.call("GET", "/readyz")
        self.assertEqual(ready.status, 503, ready)
        self.assertEqual(ready.json["status"], "unavailable")
        self.pg.resume()
        until(lambda: a.call("GET", "/readyz").status == 200, "A to be ready again")
        until(lambda: b.call("GET", "/readyz").status == 200, "B to be ready again")
        count = len(acknowledged)
        until(lambda: len(acknowledged) >= count + 20, "creates to be acknowledged again")
        stop.set()
        for t in threads:
            t.join(timeout=STATE_TIMEOUT)
        self.assertEqual(set(statuses), {201, 503})
        # Nothing acknowledged was lost, whichever replica took it.
        for rid in [before] + acknowledged:
            self.assertEqual(b.call("GET", f"/v1/requests/{rid}").status, 200, rid)
        # The replicas were not restarted: the same processes answer.
        self.assertIsNone(a.proc.poll())
        self.assertIsNone(b.proc.poll())
        self.assert_chain_verifies(a)


if __name__ == "__main__":
    unittest.main()
