"""Operations against the real binary: retention, the access log and JSON logs, `outbox ls`
and `outbox retry`, and `token recover`.

Retention runs with resolved_after and interval of one second, so a resolved request is
removed a second or two after it was resolved; the tests poll the API for that state (with a
bound), they never sleep for a fixed time.
"""

import json
import os
import re
import socket
import subprocess
import tempfile
import threading
import unittest

import harness
from harness import Server

CLI_TIMEOUT = 120
POLL_BOUND = 30  # seconds; a safety net, never a timing assertion


def clean_env():
    return {k: v for k, v in os.environ.items() if not k.startswith("COUNTERSIGN_")}


def run_cli(args):
    return subprocess.run([harness.BIN] + list(args), env=clean_env(), capture_output=True,
                          text=True, timeout=CLI_TIMEOUT)


def closed_port():
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def poll(check, what):
    """check()'s first truthy value, within POLL_BOUND (harness.poll)."""
    return harness.poll(check, what, POLL_BOUND)



def waiters_now(server):
    """The server's countersign_waiters gauge."""
    for line in server.call("GET", "/metrics", token=None).body.splitlines():
        if line.startswith("countersign_waiters "):
            return int(line.split()[1])
    raise AssertionError("no countersign_waiters metric")

class RetentionTest(unittest.TestCase):
    def setUp(self):
        self.server = Server(extra_args=["--retention-resolved-after", "1s",
                                         "--retention-interval", "1s"])
        self.server.start()
        self.addCleanup(self.server.cleanup)

    def events(self, type_prefix):
        r = self.server.call("GET", "/v1/audit?limit=1000")
        self.assertEqual(r.status, 200, r)
        return [e for e in r.json["events"] if e["type"].startswith(type_prefix)]

    def test_resolved_requests_are_removed_and_audit_verify_still_passes(self):
        s = self.server
        resolved = []
        for _ in range(2):
            rid = s.create_request()["id"]
            r = s.call("POST", f"/v1/requests/{rid}/cancel", {})
            self.assertEqual(r.status, 200, r)
            resolved.append(rid)
        pending = s.create_request()["id"]

        for rid in resolved:
            poll(lambda: s.call("GET", f"/v1/requests/{rid}").status == 404,
                 f"{rid} removed by retention")
        r = s.call("GET", f"/v1/requests/{resolved[0]}")
        self.assertEqual(r.json["error"]["code"], "not_found", r)
        self.assertEqual(s.get_request(pending)["status"], "pending")
        listed = s.call("GET", "/v1/requests?limit=100").json["requests"]
        self.assertEqual([q["id"] for q in listed], [pending])

        # What was removed is on the record, and the removed requests' events stay.
        pruned = self.events("retention.pruned")
        self.assertEqual(sum(e["data"]["count"] for e in pruned), 2, pruned)
        self.assertEqual(pruned[0]["actor"], "countersign")
        named = {e["data"][end] for e in pruned for end in ("first_id", "last_id")}
        self.assertEqual(named, set(resolved))
        self.assertEqual(sum(e["data"]["statuses"]["cancelled"] for e in pruned), 2)
        types = [e["type"] for e in s.audit(resolved[0])]
        self.assertIn("request.created", types)
        self.assertIn("request.cancelled", types)
        # A signed checkpoint follows the record at once.
        last = pruned[-1]["seq"]
        poll(lambda: [e for e in self.events("audit.checkpoint") if e["seq"] > last],
             "a checkpoint after the retention record")

        report = s.call("GET", "/v1/audit/verify?full=true").json
        self.assertTrue(report["ok"], report)
        r = run_cli(["audit", "verify", "--url", s.url, "--token", s.admin_token])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("audit chain intact", r.stdout)
        after = s.call("GET", "/metrics", token=None).body
        self.assertIn('countersign_requests{status="cancelled"} 0', after)
        self.assertIn('countersign_requests{status="pending"} 1', after)

    def test_without_retention_nothing_is_removed(self):
        server = Server()
        server.start()
        self.addCleanup(server.cleanup)
        rid = server.create_request()["id"]
        self.assertEqual(server.call("POST", f"/v1/requests/{rid}/cancel", {}).status, 200)
        # The server with retention on removes its own request; this one keeps it.
        other = self.server.create_request()["id"]
        self.assertEqual(self.server.call("POST", f"/v1/requests/{other}/cancel", {}).status, 200)
        poll(lambda: self.server.call("GET", f"/v1/requests/{other}").status == 404,
             "the retention server removing its request")
        self.assertEqual(server.get_request(rid)["status"], "cancelled")
        self.assertNotIn("retention", server.read_log())


class LogFormatTest(unittest.TestCase):
    def test_json_lines_and_an_access_log_without_secrets(self):
        server = Server(extra_args=["--access-log", "on", "--log-format", "json"])
        server.start()
        self.addCleanup(server.cleanup)
        self.assertEqual(server.call("GET", "/v1/requests?status=pending&limit=5").status, 200)
        server.call("GET", "/l/SECRET-LINK-TOKEN", token=None)
        server.call("GET", "/api/v1/chatops/callback?token=SECRET-QUERY-TOKEN&x=1", token=None)
        server.call("GET", "/v1/requests", token="not-a-token")
        # A long-poll that waits (its connection parked until the decision) is logged with
        # its principal once it is answered.
        alice = server.create_token("alice", "approver")
        req = server.create_request()
        answers = []
        waiting = threading.Thread(target=lambda: answers.append(server.call(
            "GET", f"/v1/requests/{req['id']}/wait?timeout=60")))
        waiting.start()
        while waiters_now(server) < 1:
            pass
        server.call("POST", f"/v1/requests/{req['id']}/decisions", {"choice": "approve"},
                    token=alice)
        waiting.join()
        self.assertEqual(answers[0].json["status"], "approved", answers)
        # A live stream is logged when it ends: here, when the server stops.
        stream = server.connection()
        stream.request("GET", "/v1/events", headers={"Authorization": "Bearer " +
                                                      server.admin_token})
        self.assertEqual(stream.getresponse().status, 200)
        self.assertEqual(server.stop(), 0)
        stream.close()

        log = server.read_log()
        self.assertNotIn("SECRET-LINK-TOKEN", log)
        self.assertNotIn("SECRET-QUERY-TOKEN", log)
        lines = [json.loads(line) for line in log.splitlines() if line.strip()]
        for line in lines:
            self.assertEqual(set(line), {"ts", "level", "logger", "msg"}, line)
            self.assertRegex(line["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        main = [line for line in lines if line["logger"] == "countersign"]
        self.assertTrue(any(line["msg"].startswith("countersign listening on ")
                            for line in main), main)
        access = [line["msg"] for line in lines
                  if line["logger"] == "access" and not line["msg"].startswith("GET /metrics ")]
        self.assertEqual(len(access), 9, access)
        # Each line is written once its answer is, so two quick requests may log in either
        # order.
        for pattern in (r"^GET /v1/requests\?status=pending&limit=5 200 admin \d+\.\dms$",
                        r"^GET /l/\*\*\* \d{3} - \d+\.\dms$",
                        r"^GET /api/v1/chatops/callback\?token=\*\*\*&x=1 \d{3} - \d+\.\dms$",
                        r"^GET /v1/requests 401 - \d+\.\dms$",
                        r"^POST /v1/tokens 201 admin \d+\.\dms$",
                        r"^POST /v1/requests 201 admin \d+\.\dms$",
                        r"^GET /v1/requests/req_\w+/wait\?timeout=60 200 admin \d+\.\dms$",
                        r"^POST /v1/requests/req_\w+/decisions 200 alice \d+\.\dms$",
                        r"^GET /v1/events 200 admin \d+\.\dms$"):
            self.assertEqual(len([m for m in access if re.match(pattern, m)]), 1,
                             (pattern, access))
        self.assertTrue(all(line["level"] == "info" for line in lines
                            if line["logger"] == "access"))

    def test_by_default_text_lines_and_no_access_log(self):
        server = Server()
        server.start()
        self.addCleanup(server.cleanup)
        self.assertEqual(server.call("GET", "/v1/requests").status, 200)
        self.assertEqual(server.stop(), 0)
        log = server.read_log()
        self.assertIn("] [info] countersign listening on ", log)
        self.assertNotIn("[access]", log)
        self.assertNotIn("GET /v1/requests", log)


class OutboxCommandTest(unittest.TestCase):
    def setUp(self):
        self.server = Server(extra_args=["--config", self.write_config()])
        self.server.start()
        self.addCleanup(self.server.cleanup)

    def write_config(self):
        directory = tempfile.mkdtemp(prefix="countersign-ops-")
        path = os.path.join(directory, "countersign.toml")
        with open(path, "w") as f:
            f.write(f"""
[outbound]
allow = ["127.0.0.1/32"]

[outbox]
max_attempts = 1

[[webhook]]
name = "sink"
url = "http://127.0.0.1:{closed_port()}/hook"
secret = "whsec-0123456789abcdef"
events = ["request.created"]
""")
        return path

    def cli(self, *args, token=None):
        return run_cli(list(args) + ["--url", self.server.url,
                                     "--token", token or self.server.admin_token])

    def test_ls_shows_a_failed_delivery_and_retry_puts_it_back(self):
        s = self.server
        rid = s.create_request()["id"]

        def failed():
            r = self.cli("outbox", "ls", "--state", "failed", "--json")
            self.assertEqual(r.returncode, 0, r.stderr)
            return json.loads(r.stdout)["outbox"]
        rows = poll(failed, "the webhook delivery failing")
        self.assertEqual(rows[0]["request_id"], rid)
        delivery = rows[0]["delivery_id"]

        r = self.cli("outbox", "ls", "--state", "failed")
        self.assertEqual(r.returncode, 0, r.stderr)
        header, row = r.stdout.splitlines()[:2]
        self.assertIn("DELIVERY", header)
        self.assertIn("LAST ERROR", header)
        for part in (delivery, "failed", "webhook:sink", "event", "request.created", rid):
            self.assertIn(part, row)
        self.assertNotEqual(rows[0]["last_error"], "")
        self.assertIn(rows[0]["last_error"][:20], row)

        r = self.cli("outbox", "retry", delivery)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split()[:3], [delivery, "pending", "webhook:sink"])
        self.assertIn("attempts 0", r.stdout)
        retried = [e for e in s.audit(rid) if e["type"] == "outbox.retried"]
        self.assertEqual(len(retried), 1)

        r = self.cli("outbox", "retry", "dlv_nope")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)

    def test_an_approver_is_refused(self):
        approver = self.server.create_token("alice", "approver")
        r = self.cli("outbox", "ls", token=approver)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)


class TokenRecoverTest(unittest.TestCase):
    def test_recover_creates_a_working_admin_token_on_the_record(self):
        server = Server()
        server.start()
        self.addCleanup(server.cleanup)
        server.create_request()
        self.assertEqual(server.stop(), 0)

        store = "sqlite:" + os.path.join(server.data_dir, "countersign.db")
        r = run_cli(["token", "recover", "--store", store, "--name", "rescue"])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        token = r.stdout.strip()
        self.assertEqual(len(r.stdout.splitlines()), 1)
        self.assertRegex(r.stderr, r"created tok_\w+ for rescue")
        self.assertIn("cannot be shown again", r.stderr)

        server.start()
        listed = server.call("GET", "/v1/tokens", token=token)
        self.assertEqual(listed.status, 200, listed)
        rescue = [t for t in listed.json["tokens"] if t["name"] == "rescue"]
        self.assertEqual(len(rescue), 1)
        self.assertEqual(rescue[0]["role"], "admin")
        self.assertEqual(rescue[0]["tenant"], "default")
        # The lost token can now be revoked with the new one.
        old = [t for t in listed.json["tokens"] if t["name"] == "admin"][0]
        r = server.call("DELETE", f"/v1/tokens/{old['id']}", token=token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(server.call("GET", "/v1/requests").status, 401)

        events = server.call("GET", "/v1/audit?limit=1000", token=token).json["events"]
        created = [e for e in events if e["type"] == "token.created"
                   and e["data"]["name"] == "rescue"]
        self.assertEqual(len(created), 1)
        self.assertEqual(created[0]["actor"], "token-recover")
        report = server.call("GET", "/v1/audit/verify?full=true", token=token).json
        self.assertTrue(report["ok"], report)

    def test_recover_without_a_store_to_open_fails(self):
        r = run_cli(["token", "recover", "--store", "postgres://nobody@127.0.0.1:1/none"])
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertEqual(r.stdout, "")


if __name__ == "__main__":
    unittest.main()
