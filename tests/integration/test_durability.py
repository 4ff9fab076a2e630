"""Crash safety: SIGKILL mid-load loses nothing acknowledged; the audit chain detects edits."""

import os
import sqlite3
import threading
import unittest

from harness import Server


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
