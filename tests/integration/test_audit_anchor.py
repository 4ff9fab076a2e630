"""The audit log's anchors outside the database (issue 14, items 8 and 9), against the real
binary: signed checkpoints reach a webhook and `audit verify` reports the last signed point;
a database that lost acknowledged writes does not start until the operator says so."""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from harness import BIN, Server

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testing"))
from fake_chat import FakeChat  # noqa: E402


def run_cli(args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("COUNTERSIGN_")}
    return subprocess.run([BIN] + args, env=env, capture_output=True, text=True, timeout=120)


def jws_payload(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


class SignedCheckpointTest(unittest.TestCase):
    def test_checkpoints_go_to_the_webhook_and_verify_names_the_last_signed_event(self):
        fake = FakeChat().start()
        self.addCleanup(fake.stop)
        config = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
        config.write(f"""
[outbound]
allow = ["127.0.0.1/32"]

[[webhook]]
name = "anchor"
url = "{fake.url}/hooks/anchor"
secret = "anchor-secret-0123456789"
events = ["audit.checkpoint"]
""")
        config.close()
        self.addCleanup(os.unlink, config.name)
        server = Server(extra_args=["--config", config.name, "--audit-checkpoint-every", "3"])
        server.start()
        self.addCleanup(server.cleanup)
        for _ in range(3):
            server.create_request()

        got = fake.wait_for(1, path="/hooks/anchor")[0]
        self.assertEqual(got.header("X-Countersign-Event"), "audit.checkpoint")
        body = got.json
        self.assertIsNone(body["request"])
        statement = jws_payload(body["data"]["jws"])
        self.assertEqual(statement["typ"], "countersign.audit.checkpoint")
        self.assertEqual(statement["seq"], body["seq"] - 1)
        self.assertEqual(statement["hash"], body["data"]["hash"])
        kid = json.loads(base64.urlsafe_b64decode(body["data"]["jws"].split(".")[0] + "=="))["kid"]
        keys = server.call("GET", "/v1/keys", token=None).json["keys"]
        self.assertIn(kid, [k["kid"] for k in keys])

        events = server.call("GET", f"/v1/audit?since={body['seq'] - 2}").json["events"]
        signed = [e for e in events if e["seq"] == body["seq"] - 1][0]
        self.assertEqual(signed["hash"], statement["hash"])

        report = server.call("GET", "/v1/audit/verify").json
        self.assertTrue(report["ok"], report)
        self.assertEqual(report["last_signed_seq"], body["seq"] - 1)
        self.assertEqual(report["unsigned_events"], report["verified_to_seq"] - body["seq"])
        r = run_cli(["audit", "verify", "--url", server.url, "--token", server.admin_token])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"signed up to event {body['seq'] - 1} at ", r.stdout)

    def test_without_a_checkpoint_verify_says_so(self):
        server = Server()
        server.start()
        self.addCleanup(server.cleanup)
        server.create_request()
        report = server.call("GET", "/v1/audit/verify").json
        self.assertTrue(report["ok"], report)
        self.assertIsNone(report["last_signed_seq"])
        self.assertEqual(report["unsigned_events"], report["verified_to_seq"])
        r = run_cli(["audit", "verify", "--url", server.url, "--token", server.admin_token])
        self.assertIn("no signed checkpoint yet", r.stdout)


class LostWritesTest(unittest.TestCase):
    def test_a_database_missing_acknowledged_writes_does_not_start_until_accepted(self):
        server = Server()
        server.start()
        self.addCleanup(server.cleanup)
        first = [server.create_request()["id"] for _ in range(3)]
        self.assertEqual(server.stop(), 0)
        db = os.path.join(server.data_dir, "countersign.db")
        self.assertFalse(os.path.exists(db + "-wal"))
        shutil.copyfile(db, db + ".backup")

        server.start()
        later = [server.create_request()["id"] for _ in range(3)]
        self.assertEqual(server.stop(), 0)
        shutil.copyfile(db + ".backup", db)

        args = [BIN, "serve", "--listen", "127.0.0.1:0", "--store", f"sqlite:{db}"]
        r = subprocess.run(args, capture_output=True, text=True, timeout=60)
        out = r.stdout + r.stderr
        self.assertEqual(r.returncode, 1, out)
        self.assertIn("acknowledged events are missing", out)
        self.assertIn("countersign.db.audit-head", out)
        self.assertIn("--accept-audit-gap on", out)

        accepted = Server(data_dir=server.data_dir, extra_args=["--accept-audit-gap", "on"])
        accepted.admin_token = server.admin_token
        accepted.start()
        for rid in first:
            self.assertEqual(accepted.call("GET", f"/v1/requests/{rid}").status, 200)
        for rid in later:
            self.assertEqual(accepted.call("GET", f"/v1/requests/{rid}").status, 404)
        self.assertEqual(accepted.stop(), 0)

        # The gap was accepted once; the next start is an ordinary one.
        server.start()
        self.assertEqual(server.call("GET", "/healthz", token=None).status, 200)


if __name__ == "__main__":
    unittest.main()
