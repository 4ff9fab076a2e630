"""Crash safety: SIGKILL mid-load loses nothing acknowledged, leaves no approval without its
receipt; the audit chain detects edits."""

import os
import sqlite3
import threading
import unittest

from harness import Server
from test_receipts import verify_receipt


class CrashTest(unittest.TestCase):
    def setUp(self):
        self.server = Server()
        self.server.start()
        self.addCleanup(self.server.cleanup)

    def test_sigkill_mid_load_loses_no_acknowledged_request_or_decision(self):
        s = self.server
        agent = s.create_token("ci-bot", "agent")
        alice = s.create_token("alice", "approver")
        # Short deadlines that are still pending when the process dies.
        short = [s.create_request(token=agent, title=f"short {i}", timeout_seconds=2)["id"]
                 for i in range(3)]

        created, decided = [], []
        lock = threading.Lock()
        stop = threading.Event()

        def load(worker):
            conn = s.connection(timeout=10)
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    r = s.call("POST", "/v1/requests",
                               {"action": "deploy", "title": f"w{worker}-{i}"},
                               token=agent, conn=conn)
                    if r.status != 201:
                        continue
                    with lock:
                        created.append(r.json["id"])
                    d = s.call("POST", f"/v1/requests/{r.json['id']}/decisions",
                               {"choice": "approve" if i % 2 else "deny"}, token=alice,
                               conn=conn)
                    if d.status == 200:
                        with lock:
                            decided.append((r.json["id"], d.json["status"]))
                except OSError:
                    return  # the server died under us: expected

        workers = [threading.Thread(target=load, args=(w,)) for w in range(4)]
        for w in workers:
            w.start()
        # Kill once a healthy amount of acknowledged work exists.
        while True:
            with lock:
                if len(decided) >= 200:
                    break
            if not any(w.is_alive() for w in workers):
                self.fail("the load stopped before the kill:\n" + s.read_log()[-3000:])
        s.kill()
        stop.set()
        for w in workers:
            w.join(timeout=30)
        self.assertEqual(s.proc.returncode, -9)

        s.start()
        with lock:
            acknowledged_created = list(created)
            acknowledged_decided = list(decided)
        for rid in acknowledged_created:
            r = s.call("GET", f"/v1/requests/{rid}")
            self.assertEqual(r.status, 200, f"acknowledged request {rid} lost: {r}")
        for rid, status in acknowledged_decided:
            r = s.call("GET", f"/v1/requests/{rid}")
            self.assertEqual(r.json["status"], status, f"decision on {rid} lost")
            self.assertEqual(len(r.json["decisions"]), 1)

        # Deadlines pending at the crash still fire, without anyone reading the request:
        # the long-poll is only woken by the restarted deadline scheduler.
        for rid in short:
            r = s.call("GET", f"/v1/requests/{rid}/wait?timeout=60")
            self.assertEqual(r.json["status"], "expired", r)

        verify = s.call("GET", "/v1/audit/verify")
        self.assertTrue(verify.json["ok"], verify)
        self.assertGreaterEqual(verify.json["events_checked"], 3 * len(acknowledged_decided))

    def test_sigkill_while_approving_leaves_every_approval_with_a_receipt_that_verifies(self):
        # A receipt is stored in its approval's own transaction: whenever the process dies,
        # an approved request has its receipt, and it verifies.
        s = self.server
        agent = s.create_token("ci-bot", "agent")
        alice = s.create_token("alice", "approver")
        bob = s.create_token("bob", "approver")
        # Half need a quorum of two, so that a receipt also names the whole quorum.
        ids = [s.create_request(token=agent, title=f"r{i}", quorum=1 + i % 2,
                                arguments={"i": i})["id"]
               for i in range(400)]

        approved = []
        lock = threading.Condition()

        def approve(share):
            conn = s.connection(timeout=10)
            try:
                for rid in share:
                    for approver in (alice, bob):
                        d = s.call("POST", f"/v1/requests/{rid}/decisions",
                                   {"choice": "approve"}, token=approver, conn=conn)
                        if d.status == 200 and d.json["status"] == "approved":
                            with lock:
                                approved.append(rid)
                                lock.notify_all()
                            break
            except OSError:
                return  # the server died under us: expected

        workers = [threading.Thread(target=approve, args=(ids[w::4],)) for w in range(4)]
        for w in workers:
            w.start()
        with lock:
            # Woken by each approval; the timeout only bounds a run whose workers all died.
            while len(approved) < 100:
                if not any(w.is_alive() for w in workers):
                    self.fail("the decisions ran out before the kill:\n" + s.read_log()[-3000:])
                lock.wait(timeout=1)
        s.kill()
        for w in workers:
            w.join(timeout=30)
        self.assertEqual(s.proc.returncode, -9)

        s.start()
        jwks = s.call("GET", "/v1/keys").json
        with lock:
            acknowledged = set(approved)
        seen_approved = 0
        for rid in ids:
            r = s.call("GET", f"/v1/requests/{rid}").json
            if rid in acknowledged:
                self.assertEqual(r["status"], "approved", f"acknowledged approval of {rid} lost")
            if r["status"] != "approved":
                self.assertIsNone(r["receipt"], rid)
                continue
            seen_approved += 1
            self.assertTrue(r["receipt"], f"{rid} is approved without a receipt")
            claims = verify_receipt(r["receipt"], jwks, now=0)
            self.assertEqual(claims["request_id"], rid)
            self.assertEqual(claims["arguments_sha256"], r["arguments_sha256"])
            self.assertEqual(claims["approvers"], r["resolved_by"])
            self.assertEqual(len(claims["approvers"]), r["quorum"])
        self.assertGreaterEqual(seen_approved, len(acknowledged))
        self.assertLess(seen_approved, len(ids), "the kill came after every decision")


class TamperTest(unittest.TestCase):
    def test_hand_edited_event_row_fails_verify_naming_its_seq(self):
        server = Server()
        server.start()
        self.addCleanup(server.cleanup)
        alice = server.create_token("alice", "approver")
        req = server.create_request()
        server.call("POST", f"/v1/requests/{req['id']}/decisions", {"choice": "approve"},
                    token=alice)
        self.assertTrue(server.call("GET", "/v1/audit/verify").json["ok"])
        events = server.call("GET", f"/v1/audit?request={req['id']}").json["events"]
        decision_seq = [e["seq"] for e in events if e["type"] == "decision.recorded"][0]
        server.stop()

        db = sqlite3.connect(os.path.join(server.data_dir, "countersign.db"))
        db.execute("UPDATE events SET actor = 'mallory' WHERE seq = ?", (decision_seq,))
        db.commit()
        db.close()

        server.start()
        report = server.call("GET", "/v1/audit/verify").json
        self.assertFalse(report["ok"])
        self.assertEqual(report["first_bad_seq"], decision_seq)
        self.assertTrue(report["reason"])


if __name__ == "__main__":
    unittest.main()
