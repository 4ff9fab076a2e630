"""The `countersign` command-line client against a real server.

Each test starts its own server (harness.Server, port 0) and runs the CLI binary as a
subprocess, pointed at the server with COUNTERSIGN_URL / COUNTERSIGN_TOKEN. Where a test
needs the CLI to be blocked in `request --wait` before something happens, it polls the
server until the request shows up as pending instead of sleeping.
"""

import json
import os
import socket
import sqlite3
import subprocess
import tempfile
import time
import unittest

import harness

CLI_TIMEOUT = 120  # seconds; a safety net so a hung CLI fails the test instead of the run


def clean_env():
    """The caller's environment without any COUNTERSIGN_* variable."""
    return {k: v for k, v in os.environ.items() if not k.startswith("COUNTERSIGN_")}


def run_cli(args, env=None, timeout=CLI_TIMEOUT):
    return subprocess.run([harness.BIN] + list(args), env=env if env is not None else clean_env(),
                          capture_output=True, text=True, timeout=timeout)


def closed_port():
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CliTestCase(harness.ServerTestCase):
    """A fresh server per test, and helpers to run the CLI against it."""

    def env(self, token="admin", url=None):
        env = clean_env()
        env["COUNTERSIGN_URL"] = url or self.server.url
        if token == "admin":
            token = self.server.admin_token
        if token:
            env["COUNTERSIGN_TOKEN"] = token
        return env

    def cli(self, *args, token="admin", url=None):
        return run_cli(args, env=self.env(token, url))

    def cli_ok(self, *args, token="admin"):
        r = self.cli(*args, token=token)
        self.assertEqual(r.returncode, 0, f"{args} failed:\nstdout={r.stdout}\nstderr={r.stderr}")
        return r

    def cli_json(self, *args, token="admin"):
        return json.loads(self.cli_ok(*args, "--json", token=token).stdout)

    def get(self, request_id):
        r = self.server.call("GET", "/v1/requests/" + request_id)
        self.assertEqual(r.status, 200, r)
        return r.json

    def start_waiting_cli(self, title, *extra_args, token="admin"):
        """Starts `request --wait` and returns (process, request id) once it is pending."""
        proc = subprocess.Popen(
            [harness.BIN, "request", "--action", "deploy_production", "--title", title, "--wait"]
            + list(extra_args), env=self.env(token), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        self.addCleanup(self.reap, proc)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            r = self.server.call("GET", "/v1/requests?status=pending&limit=100")
            self.assertEqual(r.status, 200, r)
            for request in r.json["requests"]:
                if request["title"] == title:
                    return proc, request["id"]
            if proc.poll() is not None:
                self.fail(f"CLI exited early: {proc.returncode} {proc.communicate()}")
            time.sleep(0.01)  # polling for the CLI's request to appear, not waiting for time
        self.fail("the CLI's request never appeared")

    @staticmethod
    def reap(proc):
        if proc.poll() is None:
            proc.kill()
        proc.communicate()

    def finish(self, proc):
        out, err = proc.communicate(timeout=CLI_TIMEOUT)
        return proc.returncode, out, err


class HelpTest(unittest.TestCase):
    """--help and --version need no server."""

    COMMANDS = {
        (): ["serve", "request", "get", "ls", "approve", "deny", "decide", "cancel", "audit",
             "token", "grant", "outbox", "policy", "receipt", "--version"],
        ("serve",): ["--listen", "--store", "--auth", "--config", "--data-dir", "--port-file",
                     "--log-level", "--threads", "--log-format", "--access-log",
                     "--retention-resolved-after", "--retention-interval"],
        ("request",): ["--action", "--title", "--detail", "--arg", "--arguments-json", "--kind",
                       "--approver", "--quorum", "--timeout", "--on-timeout", "--session",
                       "--idempotency-key", "--requester", "--wait", "--wait-timeout"],
        ("get",): ["ID"],
        ("grant", "create"): ["--action", "--scope", "--session", "--requester", "--ttl"],
        ("grant", "revoke"): ["ID"],
        ("receipt", "verify"): ["--jwks", "--url", "--action", "--arguments", "--at", "--json",
                                "Exit status"],
        ("policy", "test"): ["--config", "--action", "--requester", "--tenant", "--risk",
                             "--json", "Exit status"],
        ("ls",): ["--status", "--action", "--requester", "--session", "--limit", "--all"],
        ("approve",): ["ID", "--comment", "--by"],
        ("deny",): ["ID", "--comment", "--by"],
        ("decide",): ["ID", "--choice", "--comment", "--answer", "--by"],
        ("cancel",): ["ID", "--reason"],
        ("audit",): ["--request", "--since", "--limit", "verify"],
        ("audit", "verify"): [],
        ("token",): ["create", "list", "revoke", "recover"],
        ("token", "create"): ["--name", "--role", "--tenant", "--group"],
        ("token", "list"): [],
        ("token", "revoke"): ["ID"],
        ("token", "recover"): ["--store", "--config", "--name", "server host", "Exit status"],
        ("outbox",): ["ls", "retry"],
        ("outbox", "ls"): ["--state", "--request", "--limit"],
        ("outbox", "retry"): ["ID"],
    }
    CLIENT_OPTIONS = ["--url", "--cacert", "--token", "--token-file", "--json", "Exit status"]

    def test_help_of_every_command_exits_0_and_lists_its_options(self):
        for command, options in self.COMMANDS.items():
            with self.subTest(command=command):
                r = run_cli(list(command) + ["--help"])
                self.assertEqual(r.returncode, 0, r.stderr)
                expected = list(options)
                # Commands that talk to a server take the client options; `policy test` is
                # offline and `receipt verify` needs no token, so they list their own.
                if command and command not in (("serve",), ("token",), ("policy", "test"),
                                               ("receipt", "verify"), ("token", "recover"),
                                               ("outbox",)):
                    expected += self.CLIENT_OPTIONS
                for option in expected:
                    self.assertIn(option, r.stdout)

    def test_version_prints_the_version(self):
        r = run_cli(["--version"])
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stdout.strip(), "countersign 0.1.0")

    def test_no_command_is_a_usage_error(self):
        r = run_cli([])
        self.assertEqual(r.returncode, 3)
        self.assertIn("a command is required", r.stderr)
        self.assertIn("request", r.stderr)

    def test_unreachable_server_exits_3_with_the_url(self):
        url = f"http://127.0.0.1:{closed_port()}"
        env = clean_env()
        env["COUNTERSIGN_URL"] = url
        for args in (["ls"], ["get", "req_x"], ["request", "--action", "a", "--title", "t"],
                     ["request", "--action", "a", "--title", "t", "--wait"], ["audit", "verify"],
                     ["token", "list"]):
            with self.subTest(args=args):
                r = run_cli(args, env=env)
                self.assertEqual(r.returncode, 3, r.stderr)
                self.assertIn("cannot reach countersign at " + url, r.stderr)

    def test_malformed_url_is_refused(self):
        r = run_cli(["ls", "--url", "ftp://example.com"])
        self.assertEqual(r.returncode, 3)
        self.assertIn("ftp", r.stderr)

    def test_bad_input_gives_a_clear_message_and_nonzero_exit(self):
        cases = [
            (["request", "--action", "a", "--title", "t", "--arg", "novalue"], "KEY=VALUE"),
            (["request", "--action", "a", "--title", "t", "--arg", "=v"], "empty key"),
            (["request", "--action", "a", "--title", "t", "--detail", "x"], "KEY=VALUE"),
            (["request", "--action", "a", "--title", "t", "--arguments-json", "{nope"],
             "not valid JSON"),
            (["request", "--action", "a", "--title", "t", "--arguments-json", "[1]"],
             "not a JSON object"),
            (["request", "--title", "t"], "--action"),
            (["request", "--action", "a", "--title", "t", "--kind", "poll"], "--kind"),
            (["request", "--action", "a", "--title", "t", "--quorum", "0"], "--quorum"),
            (["request", "--action", "a", "--title", "t", "--on-timeout", "later"],
             "--on-timeout"),
            (["get"], "id"),
            (["decide", "req_x"], "--choice"),
            (["token", "create", "--name", "x", "--role", "root"], "--role"),
            (["ls", "--status", "maybe"], "--status"),
            (["ls", "--token", "a", "--token-file", "/dev/null"], "excludes"),
            (["token"], "subcommand"),
            (["token", "frobnicate"], "frobnicate"),
            (["frobnicate"], "frobnicate"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                r = run_cli(args)
                self.assertNotEqual(r.returncode, 0)
                self.assertIn(message.lower(), r.stderr.lower())


class RequestCommandTest(CliTestCase):

    def test_request_prints_a_summary_and_creates_the_request(self):
        args = ["request", "--action", "deploy_production", "--title", "Deploy v2.0",
                "--arg", "ref=v2.0", "--arg", "replicas=3", "--arg", "dry_run=false",
                "--arg", 'opts={"force":true}', "--arg", "note=hello world",
                "--detail", "env=prod", "--detail", "count=3",
                "--session", "s-1", "--requester", "ci-bot", "--timeout", "600",
                "--on-timeout", "deny", "--idempotency-key", "k-1"]
        r = self.cli_ok(*args)
        first = r.stdout.splitlines()[0]
        request_id = first.split()[0]
        self.assertTrue(request_id.startswith("req_"), r.stdout)
        self.assertIn('pending  deploy_production  "Deploy v2.0"', first)
        self.assertIn("deadline", r.stdout)
        request = self.get(request_id)
        self.assertEqual(request["arguments"], {"ref": "v2.0", "replicas": 3, "dry_run": False,
                                                "opts": {"force": True},
                                                "note": "hello world"})
        self.assertEqual(request["details"], {"env": "prod", "count": "3"})
        self.assertEqual(request["session"], "s-1")
        self.assertEqual(request["on_timeout"], "deny")
        self.assertEqual(request["status"], "pending")

        # The idempotency key replays the same request.
        again = self.cli_ok(*args, "-q")
        self.assertEqual(again.stdout.strip(), request_id)

    def test_timeout_takes_a_duration_or_seconds(self):
        from datetime import datetime
        parse = lambda t: datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ")
        for given, seconds in (("2m30s", 150), ("120", 120)):
            created = self.cli_json("request", "--action", "a", "--title", "t", "--timeout", given)
            self.assertEqual((parse(created["deadline_at"]) -
                              parse(created["created_at"])).total_seconds(), seconds, given)
        r = self.cli("request", "--action", "a", "--title", "t", "--timeout", "1500ms")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("--timeout: must be a whole number of seconds", r.stderr)

    def test_arguments_json_is_merged_with_arg(self):
        request = self.cli_json("request", "--action", "a", "--title", "t", "--arguments-json",
                                '{"a": 1, "b": [1, 2]}', "--arg", "a=2")
        self.assertEqual(request["arguments"], {"a": 2, "b": [1, 2]})
        self.assertEqual(self.get(request["id"])["arguments"], {"a": 2, "b": [1, 2]})

    def test_request_json_prints_the_created_request(self):
        request = self.cli_json("request", "--action", "wipe_table", "--title", "Wipe users",
                                "--approver", "alice", "--approver", "bob", "--quorum", "2")
        self.assertEqual(request["action"], "wipe_table")
        self.assertEqual(request["approvers"], ["alice", "bob"])
        self.assertEqual(request["quorum"], 2)
        self.assertEqual(request["status"], "pending")

    def test_quiet_prints_only_the_id(self):
        r = self.cli_ok("request", "--action", "a", "--title", "t", "-q")
        self.assertRegex(r.stdout, r"^req_\w+\n$")

    def test_wait_exits_0_when_another_principal_approves(self):
        alice = self.server.create_token("alice", "approver")
        proc, request_id = self.start_waiting_cli("wait for approval")
        r = self.cli("approve", request_id, "--comment", "ship it", token=alice)
        self.assertEqual(r.returncode, 0, r.stderr)
        code, out, err = self.finish(proc)
        self.assertEqual(code, 0, err)
        self.assertIn(request_id + " approved by alice", out)
        self.assertIn('"ship it"', out)

    def test_wait_exits_1_when_denied(self):
        bob = self.server.create_token("bob", "approver")
        proc, request_id = self.start_waiting_cli("wait for denial")
        r = self.server.call("POST", f"/v1/requests/{request_id}/decisions",
                             {"choice": "deny", "comment": "not on a Friday"}, token=bob)
        self.assertEqual(r.status, 200, r)
        code, out, err = self.finish(proc)
        self.assertEqual(code, 1, err)
        self.assertIn("denied by bob", out)
        self.assertIn("not on a Friday", out)

    def test_wait_exits_2_when_cancelled(self):
        proc, request_id = self.start_waiting_cli("wait for cancel")
        r = self.server.call("POST", f"/v1/requests/{request_id}/cancel", {"reason": "moot"})
        self.assertEqual(r.status, 200, r)
        code, out, err = self.finish(proc)
        self.assertEqual(code, 2, err)
        self.assertIn(request_id + " cancelled", out)

    def test_wait_exits_2_when_expired(self):
        # Expiry needs the server's real clock; one second is the shortest deadline.
        r = self.cli("request", "--action", "a", "--title", "expires", "--timeout", "1",
                     "--wait")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("expired", r.stdout)

    def test_wait_timeout_gives_up_with_2_and_leaves_the_request_pending(self):
        r = self.cli("request", "--action", "a", "--title", "gives up", "--wait",
                     "--wait-timeout", "1")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("still pending", r.stderr)
        request_id = r.stdout.split()[0]
        self.assertEqual(self.get(request_id)["status"], "pending")

    def test_wait_json_prints_the_final_request(self):
        alice = self.server.create_token("alice", "approver")
        proc, request_id = self.start_waiting_cli("wait json", "--json")
        self.cli_ok("approve", request_id, token=alice)
        code, out, err = self.finish(proc)
        self.assertEqual(code, 0, err)
        final = json.loads(out)
        self.assertEqual(final["id"], request_id)
        self.assertEqual(final["status"], "approved")

    def test_wait_exits_0_when_a_question_is_answered(self):
        carol = self.server.create_token("carol", "approver")
        proc, request_id = self.start_waiting_cli("which region?", "--kind", "question")
        r = self.cli("decide", request_id, "--answer", "eu-west-1", token=carol)
        self.assertEqual(r.returncode, 0, r.stderr)
        code, out, err = self.finish(proc)
        self.assertEqual(code, 0, err)
        self.assertIn("answered by carol", out)
        self.assertIn("eu-west-1", out)

    def test_bad_token_exits_3_with_the_servers_message(self):
        for extra in ([], ["--wait"]):
            with self.subTest(extra=extra):
                r = self.cli("request", "--action", "a", "--title", "t", *extra,
                             token="cs_not_a_token")
                self.assertEqual(r.returncode, 3)
                self.assertIn("401", r.stderr)
                self.assertIn("--token", r.stderr)

    def test_server_refusal_exits_3_for_request(self):
        r = self.cli("request", "--action", "bad action!", "--title", "t")
        self.assertEqual(r.returncode, 3)
        self.assertIn("action", r.stderr)

    def test_missing_token_exits_3(self):
        r = self.cli("request", "--action", "a", "--title", "t", token=None)
        self.assertEqual(r.returncode, 3)
        self.assertIn("401", r.stderr)


class ReadCommandsTest(CliTestCase):

    def test_get_shows_the_request_and_its_decisions(self):
        alice = self.server.create_token("alice", "approver")
        request = self.server.create_request(title="Rotate keys", arguments={"key": "k1"},
                                             details={"why": "leak"})
        self.cli_ok("approve", request["id"], "--comment", "go", token=alice)
        r = self.cli_ok("get", request["id"])
        self.assertIn(request["id"] + " approved", r.stdout)
        self.assertIn('"Rotate keys"', r.stdout)
        self.assertIn('{"key":"k1"}', r.stdout)
        self.assertIn('{"why":"leak"}', r.stdout)
        self.assertIn("alice  approve", r.stdout)
        self.assertIn('"go"', r.stdout)
        as_json = self.cli_json("get", request["id"])
        self.assertEqual(as_json["id"], request["id"])
        self.assertEqual(as_json["decisions"][0]["by"], "alice")

    def test_get_of_an_unknown_id_exits_1(self):
        r = self.cli("get", "req_00000000000000000000000000")
        self.assertEqual(r.returncode, 1)
        self.assertIn("404", r.stderr)

    def test_ls_prints_an_aligned_table_and_filters(self):
        a = self.server.create_request(action="deploy_production", title="first",
                                       requester="ci")
        b = self.server.create_request(action="read_logs", title="second", session="s-9")
        c = self.server.create_request(action="deploy_production", title="third")
        self.server.call("POST", f"/v1/requests/{c['id']}/cancel", {})

        r = self.cli_ok("ls")
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["ID", "STATUS", "ACTION", "REQUESTER", "CREATED",
                                            "TITLE"])
        self.assertEqual(len(lines), 4)
        # Aligned: every column starts where its header does.
        status_col = lines[0].index("STATUS")
        title_col = lines[0].index("TITLE")
        for line in lines[1:]:
            self.assertEqual(line[status_col - 2:status_col], "  ")
            self.assertNotEqual(line[status_col], " ")
            self.assertNotEqual(line[title_col], " ")
        self.assertIn(c["id"], lines[1])  # newest first

        only_reads = self.cli_ok("ls", "--action", "read_logs").stdout
        self.assertIn(b["id"], only_reads)
        self.assertNotIn(a["id"], only_reads)
        pending = self.cli_ok("ls", "--status", "pending").stdout
        self.assertIn(a["id"], pending)
        self.assertNotIn(c["id"], pending)
        session = self.cli_ok("ls", "--session", "s-9").stdout
        self.assertIn(b["id"], session)
        self.assertNotIn(a["id"], session)

    def test_ls_limit_pages_and_all_follows_the_cursors(self):
        ids = [self.server.create_request(title=f"r{i}")["id"] for i in range(5)]
        one = self.cli_ok("ls", "--limit", "2")
        self.assertEqual(len(one.stdout.splitlines()), 3)
        self.assertIn("--cursor", one.stderr)
        every = self.cli_ok("ls", "--limit", "2", "--all")
        for request_id in ids:
            self.assertIn(request_id, every.stdout)
        listing = self.cli_json("ls", "--limit", "2", "--all")
        self.assertEqual(sorted(r["id"] for r in listing["requests"]), sorted(ids))
        self.assertIsNone(listing["next_cursor"])


class DecisionCommandsTest(CliTestCase):

    def test_approve_records_the_decision(self):
        alice = self.server.create_token("alice", "approver")
        request = self.server.create_request()
        r = self.cli_ok("approve", request["id"], "--comment", "lgtm", token=alice)
        self.assertIn(request["id"] + " approved by alice", r.stdout)
        stored = self.get(request["id"])
        self.assertEqual(stored["status"], "approved")
        self.assertEqual(stored["decisions"][0]["comment"], "lgtm")

    def test_approve_short_of_the_quorum_shows_progress(self):
        alice = self.server.create_token("alice", "approver")
        request = self.server.create_request(quorum=2)
        r = self.cli_ok("approve", request["id"], token=alice)
        self.assertIn("pending (1 of 2 approvals)", r.stdout)

    def test_deny_records_the_decision(self):
        bob = self.server.create_token("bob", "approver")
        request = self.server.create_request()
        r = self.cli_ok("deny", request["id"], "--comment", "no", token=bob)
        self.assertIn("denied by bob", r.stdout)
        self.assertEqual(self.get(request["id"])["status"], "denied")

    def test_decide_with_a_choice_of_a_verification(self):
        dave = self.server.create_token("dave", "approver")
        request = self.server.create_request(kind="verification", action="login_check",
                                             title="Was this you?")
        decided = self.cli_json("decide", request["id"], "--choice", "acknowledge",
                                "--comment", "yes, me", token=dave)
        self.assertEqual(decided["status"], "approved")
        self.assertEqual(decided["decisions"][0]["choice"], "acknowledge")

    def test_second_decision_is_a_conflict_exit_1(self):
        alice = self.server.create_token("alice", "approver")
        bob = self.server.create_token("bob", "approver")
        request = self.server.create_request()
        self.cli_ok("approve", request["id"], token=alice)
        r = self.cli("deny", request["id"], token=bob)
        self.assertEqual(r.returncode, 1)
        self.assertIn("409", r.stderr)
        self.assertIn("is now approved", r.stderr)

    def test_requester_cannot_approve_its_own_request_exit_1(self):
        request = self.server.create_request()
        r = self.cli("approve", request["id"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("403", r.stderr)

    def test_unknown_choice_exits_1_with_the_servers_message(self):
        alice = self.server.create_token("alice", "approver")
        request = self.server.create_request()
        r = self.cli("decide", request["id"], "--choice", "maybe", token=alice)
        self.assertEqual(r.returncode, 1)
        self.assertIn("maybe", r.stderr)

    def test_cancel(self):
        request = self.server.create_request()
        r = self.cli_ok("cancel", request["id"], "--reason", "changed my mind")
        self.assertIn(request["id"] + " cancelled", r.stdout)
        self.assertEqual(self.get(request["id"])["status"], "cancelled")
        again = self.cli("cancel", request["id"])
        self.assertEqual(again.returncode, 1)


class AuthOffTest(CliTestCase):
    auth = False

    def test_by_names_the_decider_when_auth_is_off(self):
        r = self.cli_ok("request", "--action", "a", "--title", "t", "--requester", "bot", "-q",
                        token=None)
        request_id = r.stdout.strip()
        own = self.cli("approve", request_id, "--by", "bot", token=None)
        self.assertEqual(own.returncode, 1, own.stdout)
        r = self.cli_ok("approve", request_id, "--by", "alice", "--comment", "ok", token=None)
        self.assertIn("approved by alice", r.stdout)
        self.assertEqual(self.get(request_id)["decisions"][0]["by"], "alice")


class AuditCommandTest(CliTestCase):

    def test_audit_prints_one_line_per_event(self):
        request = self.server.create_request()
        self.server.call("POST", f"/v1/requests/{request['id']}/cancel", {})
        r = self.cli_ok("audit")
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["SEQ", "TIME", "TYPE", "ACTOR", "REQUEST"])
        mine = [line for line in lines if request["id"] in line]
        self.assertEqual(len(mine), 2, r.stdout)
        self.assertIn("request.created", mine[0])

        only = self.cli_json("audit", "--request", request["id"])
        self.assertTrue(only["events"])
        self.assertTrue(all(e["request_id"] == request["id"] for e in only["events"]))
        last_seq = only["events"][-1]["seq"]
        later = self.cli_json("audit", "--since", str(last_seq))
        self.assertTrue(all(e["seq"] > last_seq for e in later["events"]))
        limited = self.cli_json("audit", "--limit", "1")
        self.assertEqual(len(limited["events"]), 1)

    def test_audit_verify_exits_0_on_an_intact_chain(self):
        self.server.create_request()
        r = self.cli_ok("audit", "verify")
        self.assertIn("intact", r.stdout)
        # The first verify since start hashed the whole chain; this one only what came since.
        report = self.cli_json("audit", "verify")
        self.assertTrue(report["ok"])
        self.assertFalse(report["full"])
        self.assertEqual(report["events_checked"], 0)
        self.assertGreaterEqual(report["verified_to_seq"], 2)
        report = self.cli_json("audit", "verify", "--full")
        self.assertTrue(report["ok"])
        self.assertTrue(report["full"])
        self.assertGreaterEqual(report["events_checked"], 2)

    def test_audit_verify_exits_1_on_a_tampered_chain(self):
        request = self.server.create_request()
        self.server.stop()
        db = sqlite3.connect(os.path.join(self.server.data_dir, "countersign.db"))
        with db:
            changed = db.execute("UPDATE events SET actor = 'mallory' WHERE request_id = ?",
                                 (request["id"],)).rowcount
        db.close()
        self.assertGreater(changed, 0)
        self.server.start()
        r = self.cli("audit", "verify")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("BROKEN", r.stdout)

    def test_options_work_before_verify_too(self):
        r = run_cli(["audit", "--url", self.server.url, "--token", self.server.admin_token,
                     "verify"])
        self.assertEqual(r.returncode, 0, r.stderr)


class TokenCommandTest(CliTestCase):

    def test_create_prints_the_token_once_and_list_never_shows_it(self):
        r = self.cli_ok("token", "create", "--name", "alice", "--role", "approver", "--group",
                        "sre", "--group", "dba")
        token = r.stdout.strip()
        self.assertTrue(token.startswith("cs_"), r.stdout)
        self.assertEqual(len(r.stdout.splitlines()), 1)
        self.assertIn("cannot be shown again", r.stderr)

        listing = self.cli_ok("token", "list")
        self.assertNotIn(token, listing.stdout)
        alice_line = next(line for line in listing.stdout.splitlines() if " alice " in line)
        self.assertIn("approver", alice_line)
        self.assertIn("sre,dba", alice_line)
        as_json = self.cli_json("token", "list")
        self.assertNotIn(token, json.dumps(as_json))
        self.assertIn("alice", [t["name"] for t in as_json["tokens"]])

        # The new token works.
        self.cli_ok("ls", token=token)

    def test_create_json_includes_the_secret(self):
        created = self.cli_json("token", "create", "--name", "ci", "--role", "agent")
        self.assertTrue(created["token"].startswith("cs_"))
        self.assertTrue(created["id"].startswith("tok_"))

    def test_revoked_token_stops_working(self):
        created = self.cli_json("token", "create", "--name", "ci", "--role", "agent")
        r = self.cli_ok("token", "revoke", created["id"])
        self.assertIn("revoked " + created["id"], r.stdout)
        ls = self.cli("ls", token=created["token"])
        self.assertEqual(ls.returncode, 1)
        self.assertIn("401", ls.stderr)
        req = self.cli("request", "--action", "a", "--title", "t", token=created["token"])
        self.assertEqual(req.returncode, 3)
        listing = self.cli_json("token", "list")
        revoked = next(t for t in listing["tokens"] if t["id"] == created["id"])
        self.assertIsNotNone(revoked["revoked_at"])

    def test_non_admin_cannot_create_tokens(self):
        agent = self.server.create_token("agent", "agent")
        r = self.cli("token", "create", "--name", "x", "--role", "admin", token=agent)
        self.assertEqual(r.returncode, 1)
        self.assertIn("403", r.stderr)

    def test_token_file_and_url_flag(self):
        with tempfile.NamedTemporaryFile("w", suffix=".token", delete=False) as f:
            f.write(self.server.admin_token + "\n")
        self.addCleanup(os.unlink, f.name)
        bad_url = f"http://127.0.0.1:{closed_port()}"
        # The flags beat the environment.
        env = self.env(token="cs_wrong", url=bad_url)
        r = run_cli(["token", "list", "--url", self.server.url, "--token-file", f.name], env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        env = self.env(token=None)
        env["COUNTERSIGN_TOKEN_FILE"] = f.name
        r = run_cli(["token", "list"], env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        missing = run_cli(["token", "list", "--token-file", f.name + ".missing"],
                          env=self.env(token=None))
        self.assertEqual(missing.returncode, 3)
        self.assertIn("token file", missing.stderr)


if __name__ == "__main__":
    unittest.main()
