"""Moving a store from SQLite to PostgreSQL with `countersign store copy`.

A server on SQLite takes 10,000 requests over the API (from a pool of keep-alive connections)
and some decisions; it is stopped; `countersign store copy` moves the file into a fresh
PostgreSQL database (tests/testing/pg_cluster.py); a server started on PostgreSQL with the same
data directory then shows the same requests, the same audit events, and a chain that verifies,
and goes on from there. `countersign migrate` on the copy has nothing to do, and a second copy
into it is refused.
"""

import concurrent.futures
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest

from harness import BIN, Server

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testing"))
from pg_cluster import PgCluster  # noqa: E402

# The 10,000; under the sanitizers (make test-asan) a tenth, since filling the store
# through an instrumented server is what would take the time, not what the copy proves.
REQUESTS = 1000 if os.environ.get("COUNTERSIGN_SANITIZED") == "1" else 10000
APPROVED = 300
DENIED = 100
WORKERS = 16
CONFIG = """
[limits]
rate_per_principal = "0"
max_pending_per_principal = 0
"""


def run_cli(*args, timeout=300):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout)


class PooledCalls:
    """Runs calls on a thread pool, each thread over one keep-alive connection of its own."""

    def __init__(self, server):
        self.server = server
        self.local = threading.local()
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS)
        self.lock = threading.Lock()
        self.conns = []

    def call(self, method, path, body=None, token="admin"):
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = self.server.connection()
            with self.lock:
                self.conns.append(conn)
        try:
            return self.server.call(method, path, body, token=token, conn=conn)
        except (ConnectionError, OSError):
            self.local.conn = None
            raise

    def map(self, fn, items):
        return list(self.pool.map(fn, items))

    def close(self):
        self.pool.shutdown()
        for conn in self.conns:
            conn.close()


def all_events(server):
    events, since = [], 0
    while True:
        r = server.call("GET", f"/v1/audit?since={since}&limit=1000")
        assert r.status == 200, r
        if not r.json["events"]:
            return events
        events += r.json["events"]
        since = r.json["next_since"]


def ids_by_status(server):
    """Every request id the list shows, per status, paging through GET /v1/requests."""
    found = {}
    cursor = None
    while True:
        path = "/v1/requests?limit=500" + (f"&cursor={cursor}" if cursor else "")
        r = server.call("GET", path)
        assert r.status == 200, r
        for request in r.json["requests"]:
            found.setdefault(request["status"], set()).add(request["id"])
        cursor = r.json["next_cursor"]
        if not cursor:
            return found


class StoreCopyTest(unittest.TestCase):
    def setUp(self):
        self.pg = PgCluster().start()
        self.addCleanup(self.pg.stop)
        self.url = self.pg.create_database()
        self.data_dir = tempfile.mkdtemp(prefix="countersign-copy-")
        self.addCleanup(shutil.rmtree, self.data_dir, True)
        self.config = os.path.join(self.data_dir, "countersign.toml")
        with open(self.config, "w") as f:
            f.write(CONFIG)
        self.servers = []
        self.addCleanup(self.stop_servers)

    def stop_servers(self):
        for server in self.servers:
            server.stop(timeout=60)

    def server(self, store=None):
        server = Server(data_dir=self.data_dir, store=store, extra_args=["--config", self.config])
        self.servers.append(server)
        try:
            return server.start()
        except RuntimeError:
            print(server.read_log()[-4000:])
            raise

    def fill(self, server):
        """REQUESTS requests by the admin, APPROVED approved and DENIED denied by alice; returns
        (the ids in creation order, alice's token)."""
        alice = server.create_token("alice", "approver")
        calls = PooledCalls(server)
        self.addCleanup(calls.close)

        def create(i):
            body = {"action": "deploy_production" if i % 2 else "db.migrate",
                    "title": f"Change {i}", "approvers": ["alice"], "timeout_seconds": 86400,
                    "arguments": {"n": i, "note": "ünïcode ✓"}, "session": f"s{i % 10}"}
            if i % 5 == 0:
                body["idempotency_key"] = f"key-{i}"
            r = calls.call("POST", "/v1/requests", body)
            self.assertEqual(r.status, 201, r)
            return r.json["id"]

        ids = calls.map(create, range(REQUESTS))

        def decide(pair):
            request_id, choice = pair
            r = calls.call("POST", f"/v1/requests/{request_id}/decisions",
                           {"choice": choice, "comment": "checked"}, token=alice)
            self.assertEqual(r.status, 200, r)

        decided = [(ids[i], "approve") for i in range(0, 2 * APPROVED, 2)]
        decided += [(ids[i], "deny") for i in range(1, 2 * DENIED, 2)]
        calls.map(decide, decided)
        return ids, alice

    def test_a_sqlite_store_moves_to_postgres_with_its_requests_events_and_chain(self):
        sqlite_path = os.path.join(self.data_dir, "countersign.db")
        source = self.server()
        ids, alice = self.fill(source)
        listed = ids_by_status(source)
        self.assertEqual(len(listed["pending"]), REQUESTS - APPROVED - DENIED)
        self.assertEqual(len(listed["approved"]), APPROVED)
        self.assertEqual(len(listed["denied"]), DENIED)
        sample = random.Random(17).sample(ids, 500) + ids[:2 * APPROVED]
        before = {i: source.get_request(i) for i in sample}
        events_before = all_events(source)
        self.assertGreater(len(events_before), REQUESTS + 2 * (APPROVED + DENIED))
        self.assertEqual(source.stop(), 0)

        copied = run_cli("store", "copy", "--from", "sqlite:" + sqlite_path, "--to", self.url)
        self.assertEqual(copied.returncode, 0, copied.stdout + copied.stderr)
        rows = dict(re.findall(r"^\s+(\w+)\s+(\d+) rows$", copied.stdout, re.M))
        self.assertEqual(int(rows["requests"]), REQUESTS)
        self.assertEqual(int(rows["decisions"]), APPROVED + DENIED)
        self.assertEqual(int(rows["principals"]), 2)  # the first admin and alice
        copied_events = int(rows["events"])
        # The server may append an audit checkpoint as it stops, after the events were read.
        self.assertGreaterEqual(copied_events, len(events_before))
        self.assertIn(f"audit chain verified: {copied_events} events", copied.stdout)
        self.assertIn("copied: the destination matches the source", copied.stdout)
        head = re.search(r"audit head: seq (\d+), hash ([0-9a-f]{64})", copied.stdout)
        self.assertIsNotNone(head, copied.stdout)

        # The same data directory: the same admin token, receipt and checkpoint keys.
        target = self.server(store=self.url)
        self.assertIn("store: postgres", target.read_log())
        for request_id, request in before.items():
            self.assertEqual(target.get_request(request_id), request)
        self.assertEqual(ids_by_status(target), listed)
        events_after = all_events(target)
        self.assertEqual(len(events_after), copied_events)
        self.assertEqual(events_after[:len(events_before)], events_before)
        self.assertEqual((events_after[-1]["seq"], events_after[-1]["hash"]),
                         (int(head.group(1)), head.group(2)))
        verify = target.call("GET", "/v1/audit/verify?full=true")
        self.assertEqual(verify.status, 200, verify)
        self.assertTrue(verify.json["ok"], verify.json)
        self.assertEqual(verify.json["events_checked"], copied_events)

        # It goes on from where the source stopped: alice's token works and the chain grows.
        pending = ids[-1]  # decisions went to the first 2 * APPROVED
        r = target.call("POST", f"/v1/requests/{pending}/decisions", {"choice": "approve"},
                        token=alice)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "approved")
        newer = all_events(target)[copied_events:]
        self.assertTrue(newer)
        self.assertEqual(newer[0]["seq"], copied_events + 1)
        self.assertEqual(newer[0]["prev_hash"], head.group(2))
        verify = target.call("GET", "/v1/audit/verify?full=true")
        self.assertTrue(verify.json["ok"], verify.json)

        migrated = run_cli("migrate", "--store", self.url)
        self.assertEqual(migrated.returncode, 0, migrated.stdout + migrated.stderr)
        self.assertIn("nothing to do", migrated.stdout)
        self.assertNotIn("applied", migrated.stdout)

        again = run_cli("store", "copy", "--from", "sqlite:" + sqlite_path, "--to", self.url)
        self.assertEqual(again.returncode, 1, again.stdout + again.stderr)
        self.assertIn("not empty", again.stderr)
        self.assertEqual(ids_by_status(target), {
            **listed, "pending": listed["pending"] - {pending},
            "approved": listed["approved"] | {pending}})

    def test_migrate_brings_a_new_database_to_the_current_schema_once(self):
        url = self.pg.create_database()
        first = run_cli("migrate", "--store", url)
        self.assertEqual(first.returncode, 0, first.stdout + first.stderr)
        self.assertIn("applied 001_initial.sql", first.stdout)
        self.assertRegex(first.stdout, r"schema version \d+ \(\d+ migrations? applied\)")
        second = run_cli("migrate", "--store", url)
        self.assertEqual(second.returncode, 0, second.stdout + second.stderr)
        self.assertIn("nothing to do", second.stdout)

        # A schema from a newer countersign is refused, and left as it was.
        dbname = url.rsplit("/", 1)[1]
        self.pg.psql("INSERT INTO schema_migrations (version, name, applied_at) "
                     "VALUES (999, '999_future.sql', 0)", dbname=dbname)
        refused = run_cli("migrate", "--store", url)
        self.assertEqual(refused.returncode, 1, refused.stdout + refused.stderr)
        self.assertIn("newer than this binary", refused.stderr)
        self.assertEqual(self.pg.psql("SELECT max(version) FROM schema_migrations",
                                      dbname=dbname).strip(), "999")

        sqlite_path = os.path.join(self.data_dir, "fresh.db")
        fresh = run_cli("migrate", "--store", "sqlite:" + sqlite_path)
        self.assertEqual(fresh.returncode, 0, fresh.stdout + fresh.stderr)
        self.assertIn("applied 001_initial.sql", fresh.stdout)
        self.assertIn("nothing to do", run_cli("migrate", "--store", "sqlite:" + sqlite_path).stdout)

    def test_a_copy_from_a_missing_file_is_refused_and_changes_nothing(self):
        missing = os.path.join(self.data_dir, "nope.db")
        r = run_cli("store", "copy", "--from", "sqlite:" + missing, "--to", self.url)
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn("holds no countersign store", r.stderr)
        self.assertFalse(os.path.exists(missing))
        dbname = self.url.rsplit("/", 1)[1]
        self.assertEqual(self.pg.psql("SELECT count(*) FROM pg_tables WHERE schemaname = "
                                      "'public'", dbname=dbname).strip(), "0")

if __name__ == "__main__":
    unittest.main()
