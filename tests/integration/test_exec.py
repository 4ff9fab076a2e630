"""`countersign exec`: a command runs only once approved, with its receipt.

Each test starts `countersign exec` against a fresh server, waits for its request to appear
(polling GET /v1/requests, never sleeping), decides it over the API as another person, and
checks the exit status and whether the command ran (a marker file).
"""

import json
import os
import signal
import subprocess
import tempfile
import unittest

import harness

BIN = os.path.abspath(harness.BIN)  # the tests run it from a temporary directory
CLI_TIMEOUT = 60  # seconds; a safety net so a hung CLI fails the test instead of the run
CONDITION_TIMEOUT = 30.0


class ExecTest(harness.ServerTestCase):
    def setUp(self):
        super().setUp()
        s = self.server
        self.agent = s.create_token("ci-bot", "agent")
        self.alice = s.create_token("alice", "approver", groups=["sre"])
        self.tmp = tempfile.mkdtemp(prefix="countersign-exec-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", self.tmp]))
        self.marker = os.path.join(self.tmp, "ran")
        self.procs = []
        self.addCleanup(self._kill_procs)

    def _kill_procs(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    # -- helpers ----------------------------------------------------------------------------
    def env(self, token=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("COUNTERSIGN_")}
        env["COUNTERSIGN_URL"] = self.server.url
        env["COUNTERSIGN_TOKEN"] = token or self.agent
        return env

    def start(self, *args, token=None):
        proc = subprocess.Popen([BIN, "exec"] + list(args), env=self.env(token),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                cwd=self.tmp)
        self.procs.append(proc)
        return proc

    def finish(self, proc):
        out, err = proc.communicate(timeout=CLI_TIMEOUT)
        return proc.returncode, out, err

    def pending(self, proc, action="deploy_production"):
        """The pending request `proc` created, once it exists."""
        deadline = harness.time.monotonic() + CONDITION_TIMEOUT
        while True:
            r = self.server.call("GET", f"/v1/requests?status=pending&action={action}",
                                 token=self.alice)
            self.assertEqual(r.status, 200, r)
            if r.json["requests"]:
                return r.json["requests"][0]
            if proc.poll() is not None:
                self.fail(f"exec exited {proc.returncode} before asking: {proc.stderr.read()}")
            if harness.time.monotonic() > deadline:
                self.fail("exec did not create its request")
            harness.time.sleep(0.01)  # polling for a condition, not waiting for time to pass

    def decide(self, request_id, choice, **extra):
        r = self.server.call("POST", f"/v1/requests/{request_id}/decisions",
                             {"choice": choice, **extra}, token=self.alice)
        self.assertEqual(r.status, 200, r)
        return r.json

    def status_of(self, request_id):
        return self.server.call("GET", f"/v1/requests/{request_id}").json["status"]

    def marker_command(self, exit_code=0):
        return ["sh", "-c", f'echo "$COUNTERSIGN_RECEIPT" > ran; '
                            f'echo "$COUNTERSIGN_REQUEST_ID" >> ran; exit {exit_code}']

    # -- approved ---------------------------------------------------------------------------
    def test_approved_runs_the_command_with_its_receipt_and_exit_code(self):
        command = self.marker_command(7)
        proc = self.start("--action", "deploy_production", "--", *command)
        request = self.pending(proc)
        self.assertEqual(request["arguments"], {"argv": command})
        self.assertEqual(request["title"], "Run " + " ".join(
            ["sh", "-c", "'" + command[2].replace("'", "'\\''") + "'"]))
        self.assertEqual(request["details"]["argv"], command)
        self.assertEqual(request["details"]["cwd"], os.path.realpath(self.tmp))
        self.assertEqual(request["requester"], "ci-bot")
        approved = self.decide(request["id"], "approve")

        code, out, err = self.finish(proc)
        self.assertEqual(code, 7, err)
        with open(self.marker) as f:
            receipt, request_id = f.read().split()
        self.assertEqual(request_id, request["id"])
        self.assertEqual(receipt, approved["receipt"])
        self.assertIn("approved by alice", err)

        # The receipt approves exactly this command line.
        args_file = os.path.join(self.tmp, "args.json")
        with open(args_file, "w") as f:
            json.dump({"argv": command}, f)
        verified = subprocess.run(
            [BIN, "receipt", "verify", receipt, "--url", self.server.url,
             "--action", "deploy_production", "--arguments", args_file],
            capture_output=True, text=True, timeout=CLI_TIMEOUT)
        self.assertEqual(verified.returncode, 0, verified.stderr)

    def test_the_command_line_reaches_the_command_untouched(self):
        words = ["[%s]", "[a,b]", "--", "-c", "--url", "", "it's", "a b"]
        proc = self.start("--action", "deploy_production", "--", "sh", "-c",
                          'for w in "$@"; do printf "<%s>" "$w"; done', "sh", *words)
        request = self.pending(proc)
        self.assertEqual(request["arguments"]["argv"][4:], words)
        self.assertTrue(request["title"].endswith(
            "; done' sh '[%s]' '[a,b]' -- -c --url '' 'it'\\''s' 'a b'"), request["title"])
        self.decide(request["id"], "approve")
        code, out, err = self.finish(proc)
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "".join(f"<{w}>" for w in words))

    def test_exit_status_of_a_command_killed_by_a_signal_is_128_plus_it(self):
        proc = self.start("--action", "deploy_production", "--", "sh", "-c", "kill -TERM $$")
        self.decide(self.pending(proc)["id"], "approve")
        code, _, err = self.finish(proc)
        self.assertEqual(code, 128 + signal.SIGTERM, err)

    def test_custom_arguments_title_and_timeout(self):
        proc = self.start("--action", "db.migrate", "--title", "Run migration 42",
                          "--arguments", '{"migration": 42}', "--timeout", "600",
                          "--approver", "alice", "--", *self.marker_command())
        request = self.pending(proc, "db.migrate")
        self.assertEqual(request["title"], "Run migration 42")
        self.assertEqual(request["arguments"], {"migration": 42})
        self.assertEqual(request["details"]["argv"], self.marker_command())
        self.assertEqual(request["approvers"], ["alice"])
        self.decide(request["id"], "approve")
        code, _, err = self.finish(proc)
        self.assertEqual(code, 0, err)
        self.assertTrue(os.path.exists(self.marker))

    # -- not approved -----------------------------------------------------------------------
    def test_denied_does_not_run_the_command(self):
        proc = self.start("--action", "deploy_production", "--", *self.marker_command())
        self.decide(self.pending(proc)["id"], "deny", comment="not today")
        code, _, err = self.finish(proc)
        self.assertEqual(code, 1, err)
        self.assertFalse(os.path.exists(self.marker))
        self.assertIn("denied by alice", err)
        self.assertIn("not running", err)

    def test_cancelled_does_not_run_the_command(self):
        proc = self.start("--action", "deploy_production", "--", *self.marker_command())
        request = self.pending(proc)
        r = self.server.call("POST", f"/v1/requests/{request['id']}/cancel", {})
        self.assertEqual(r.status, 200, r)
        code, _, err = self.finish(proc)
        self.assertEqual(code, 2, err)
        self.assertFalse(os.path.exists(self.marker))

    def test_approved_with_edited_arguments_does_not_run_the_command(self):
        proc = self.start("--action", "deploy_production", "--", *self.marker_command())
        request = self.pending(proc)
        self.decide(request["id"], "approve", arguments={"argv": ["sh", "-c", "echo other"]})
        code, _, err = self.finish(proc)
        self.assertEqual(code, 1, err)
        self.assertFalse(os.path.exists(self.marker))
        self.assertIn("edited arguments", err)

    # -- interrupts -------------------------------------------------------------------------
    def interrupted(self, sig):
        proc = self.start("--action", "deploy_production", "--", *self.marker_command())
        request = self.pending(proc)
        proc.send_signal(sig)
        code, _, err = self.finish(proc)
        self.assertEqual(code, 130, err)
        self.assertEqual(self.status_of(request["id"]), "cancelled")
        self.assertFalse(os.path.exists(self.marker))
        self.assertIn("cancelled " + request["id"], err)
        events = self.server.call("GET", f"/v1/audit?request={request['id']}").json["events"]
        cancelled = [e for e in events if e["type"] == "request.cancelled"]
        self.assertEqual(cancelled[0]["actor"], "ci-bot")
        return cancelled[0]

    def test_sigint_while_waiting_cancels_the_request(self):
        event = self.interrupted(signal.SIGINT)
        self.assertIn("SIGINT", event["data"]["reason"])

    def test_sigterm_while_waiting_cancels_the_request(self):
        event = self.interrupted(signal.SIGTERM)
        self.assertIn("SIGTERM", event["data"]["reason"])

    def test_signals_while_running_reach_the_command(self):
        started = os.path.join(self.tmp, "started")
        proc = self.start("--action", "deploy_production", "--", "sh", "-c",
                          f"touch {started}; exec sleep 600")
        request = self.pending(proc)
        self.decide(request["id"], "approve")
        deadline = harness.time.monotonic() + CONDITION_TIMEOUT
        while not os.path.exists(started):
            self.assertLess(harness.time.monotonic(), deadline, "the command did not start")
            harness.time.sleep(0.01)  # polling for a condition
        proc.send_signal(signal.SIGTERM)
        code, _, err = self.finish(proc)
        self.assertEqual(code, 128 + signal.SIGTERM, err)
        self.assertEqual(self.status_of(request["id"]), "approved")

    # -- errors -----------------------------------------------------------------------------
    def assert_nothing_asked(self):
        r = self.server.call("GET", "/v1/requests")
        self.assertEqual(r.json["requests"], [])

    def test_a_missing_command_is_127_and_asks_nobody(self):
        code, _, err = self.finish(self.start("--action", "deploy_production", "--",
                                              "no-such-command-countersign"))
        self.assertEqual(code, 127, err)
        self.assertIn("command not found", err)
        not_exec = os.path.join(self.tmp, "script.sh")
        with open(not_exec, "w") as f:
            f.write("#!/bin/sh\n")
        code, _, err = self.finish(self.start("--action", "deploy_production", "--", not_exec))
        self.assertEqual(code, 126, err)
        self.assert_nothing_asked()

    def test_usage_and_transport_errors_are_3(self):
        for args in (["--", "true"],                                   # no --action
                     ["--action", "deploy_production"],                # no command
                     ["--action", "deploy_production", "true"],        # no --
                     ["--action", "deploy_production", "--arguments", "[1]", "--", "true"],
                     ["--action", "deploy_production", "--json", "--", "true"]):
            code, _, err = self.finish(self.start(*args))
            self.assertEqual(code, 3, (args, err))
        code, _, err = self.finish(self.start("--action", "deploy_production", "--", "true",
                                              token="cs_not-a-valid-token"))
        self.assertEqual(code, 3, err)
        code, _, err = self.finish(self.start("--action", "bad action", "--", "true"))
        self.assertEqual(code, 3, err)
        code, _, err = self.finish(self.start("--url", "http://127.0.0.1:1",
                                              "--action", "deploy_production", "--", "true"))
        self.assertEqual(code, 3, err)
        self.assert_nothing_asked()

    def test_help_explains_the_exit_codes(self):
        result = subprocess.run([BIN, "exec", "--help"], capture_output=True,
                                text=True, timeout=CLI_TIMEOUT)
        self.assertEqual(result.returncode, 0)
        for text in ("COUNTERSIGN_RECEIPT", "COUNTERSIGN_REQUEST_ID", "130", "--action",
                     "--timeout", "-- CMD"):
            self.assertIn(text, result.stdout)


if __name__ == "__main__":
    unittest.main()
