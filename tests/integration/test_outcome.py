"""Closing the loop: the executor reports what ran (POST /v1/requests/{id}/outcome).

Against the real binary: the report and its rules (requester only, approved only, once), the
execution.reported event in the audit log, the webhook and callback deliveries (to the generic
webhook route of tests/testing/fake_chat.py), the Slack message edit (its fake Web API),
`countersign exec` and the Python decorator reporting by themselves, and an approval left
without a report past its policy's report_within, on /metrics and in the inbox. Time passes on
the server's real clock: a test that needs report_within (1 s) to run out waits for another
request's deadline to expire (a long-poll that answers at the expiry), never sleeps.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest

import harness
from harness import Server
from test_inbox import Browser, text_of

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "testing"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "clients", "python"))
from fake_chat import FakeChat  # noqa: E402

import countersign  # noqa: E402

BIN = os.path.abspath(harness.BIN)
CLI_TIMEOUT = 60  # seconds; a safety net so a hung CLI fails the test instead of the run
CONDITION_TIMEOUT = 30.0
WEBHOOK_SECRET = "whsec-0123456789abcdef"
CALLBACK_SECRET = "cbsec-0123456789abcdef"
SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"
CHANNEL_ID = "C0123456789"
UPDATE = "/api/chat.update"

CONFIG = """
# The fake servers of this test listen on loopback over http, which the outbound policy
# refuses unless the config names it.
[outbound]
allow = ["127.0.0.1/32"]

[outbox]
retry_base = "50ms"
retry_max = "200ms"
callback_secret = "{callback_secret}"

[[policy]]
name = "nightly"
match = {{ action = "nightly_*" }}
report_within = "1s"

[[webhook]]
name = "audit-sink"
url = "{fake}/hooks/audit"
secret = "{webhook_secret}"
events = ["request.resolved", "execution.reported"]

[[channel]]
name = "slack-ops"
type = "slack"
bot_token = "{bot_token}"
signing_secret = "{slack_secret}"
channel = "{channel}"
api_base = "{api_base}"
"""


class OutcomeTest(unittest.TestCase):
    def setUp(self):
        self.fake = FakeChat(bot_token=BOT_TOKEN).start()
        self.addCleanup(self.fake.stop)
        self.dir = tempfile.mkdtemp(prefix="countersign-outcome-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        config = os.path.join(self.dir, "countersign.toml")
        with open(config, "w") as f:
            f.write(CONFIG.format(fake=self.fake.url, api_base=self.fake.api_base,
                                  callback_secret=CALLBACK_SECRET,
                                  webhook_secret=WEBHOOK_SECRET, bot_token=BOT_TOKEN,
                                  slack_secret=SLACK_SECRET, channel=CHANNEL_ID))
        self.server = Server(data_dir=self.dir, extra_args=["--config", config])
        self.server.start()
        self.addCleanup(self._stop_server)
        s = self.server
        self.agent = s.create_token("ci-bot", "agent")
        self.other_agent = s.create_token("other-bot", "agent")
        self.alice = s.create_token("alice", "approver")

    def _stop_server(self):
        result = getattr(self._outcome, "result", None)
        if result is not None and any(t is self for t, _ in result.errors + result.failures):
            print(self.server.read_log()[-6000:])
        self.server.stop()

    # -- helpers ----------------------------------------------------------------------------
    def create(self, **fields):
        return self.server.create_request(token=self.agent, **fields)

    def decide(self, request_id, choice="approve"):
        r = self.server.call("POST", f"/v1/requests/{request_id}/decisions",
                             {"choice": choice}, token=self.alice)
        self.assertEqual(r.status, 200, r)
        return r.json

    def approved(self, **fields):
        r = self.create(**fields)
        return self.decide(r["id"])

    def report(self, request_id, body, token=None):
        return self.server.call("POST", f"/v1/requests/{request_id}/outcome", body,
                                token=token or self.agent)

    def reported_events(self, request_id):
        return [e for e in self.server.audit(request_id) if e["type"] == "execution.reported"]

    def wait_past(self, seconds):
        """Returns once the server's clock has moved more than `seconds` on: a request made
        now with that timeout has expired (answered by a long-poll at its deadline)."""
        r = self.create(action="clock_tick", timeout_seconds=seconds + 1)
        answer = self.server.call("GET", f"/v1/requests/{r['id']}/wait?timeout=60",
                                  token=self.agent)
        self.assertEqual(answer.json["status"], "expired", answer)

    # -- the report -------------------------------------------------------------------------
    def test_the_requester_reports_once_and_the_event_reaches_the_webhook_and_callback(self):
        r = self.approved(callback_url=self.fake.url + "/agent/callback")
        self.assertIsNone(r["execution"])
        answer = self.report(r["id"], {"status": "failed", "exit_code": 2,
                                       "detail": "migration 42 failed"})
        self.assertEqual(answer.status, 200, answer)
        execution = answer.json["execution"]
        self.assertEqual({k: execution[k] for k in ("status", "exit_code", "detail",
                                                    "reported_by")},
                         {"status": "failed", "exit_code": 2, "detail": "migration 42 failed",
                          "reported_by": "ci-bot"})
        self.assertRegex(execution["at"], r"^\d{4}-\d\d-\d\dT")
        self.assertEqual(answer.json["status"], "approved")
        self.assertEqual(self.server.get_request(r["id"])["execution"], execution)

        [event] = self.reported_events(r["id"])
        self.assertEqual(event["actor"], "ci-bot")
        self.assertEqual(event["data"], {"status": "failed", "exit_code": 2,
                                         "detail": "migration 42 failed"})

        hook = self.fake.wait_until(
            lambda c: c.header("X-Countersign-Event") == "execution.reported",
            path="/hooks/audit")
        body = hook.json
        self.assertEqual(body["event"], "execution.reported")
        self.assertEqual(body["data"]["exit_code"], 2)
        self.assertEqual(body["request"]["id"], r["id"])
        self.assertEqual(body["request"]["execution"]["status"], "failed")
        callback = self.fake.wait_until(
            lambda c: c.header("X-Countersign-Event") == "execution.reported",
            path="/agent/callback")
        self.assertEqual(callback.json["request"]["execution"]["detail"],
                         "migration 42 failed")

        second = self.report(r["id"], {"status": "succeeded"})
        self.assertEqual(second.status, 409, second)
        self.assertEqual(second.json["request"]["execution"]["status"], "failed",
                         "the first report stands")
        self.assertEqual(len(self.reported_events(r["id"])), 1)

    def test_a_request_that_is_not_approved_has_nothing_to_report(self):
        pending = self.create()
        answer = self.report(pending["id"], {"status": "succeeded"})
        self.assertEqual(answer.status, 409, answer)
        self.assertEqual(answer.json["request"]["status"], "pending")
        denied = self.create()
        self.decide(denied["id"], "deny")
        answer = self.report(denied["id"], {"status": "failed", "exit_code": 1})
        self.assertEqual(answer.status, 409, answer)
        self.assertEqual(self.reported_events(pending["id"]) + self.reported_events(denied["id"]),
                         [])

    def test_only_the_requester_reports(self):
        r = self.approved()
        self.assertEqual(self.report(r["id"], {"status": "succeeded"}, self.alice).status, 403)
        self.assertEqual(self.report(r["id"], {"status": "succeeded"}, "admin").status, 403)
        self.assertEqual(self.report(r["id"], {"status": "succeeded"}, self.other_agent).status,
                         404, "another agent cannot see the request at all")
        self.assertEqual(self.reported_events(r["id"]), [])
        self.assertIsNone(self.server.get_request(r["id"])["execution"])

    def test_a_bad_report_is_refused_naming_the_field(self):
        r = self.approved()
        for body, status, field in (
                ({"status": "done"}, 422, "status"),
                ({}, 422, "status"),
                ({"status": "succeeded", "exit_code": 1}, 422, "exit_code"),
                ({"status": "failed", "detail": "x" * 4097}, 422, "detail"),
                ({"status": "failed", "exit_code": "three"}, 400, "exit_code"),
                ({"status": 1}, 400, "status")):
            answer = self.report(r["id"], body)
            self.assertEqual(answer.status, status, (body, answer))
            self.assertIn(field, answer.body, (body, answer))
        raw = self.server.call("POST", f"/v1/requests/{r['id']}/outcome", raw=b"{not json",
                               token=self.agent)
        self.assertEqual(raw.status, 400, raw)
        self.assertEqual(self.reported_events(r["id"]), [])
        self.assertEqual(self.report(r["id"], {"status": "failed", "detail": "x" * 4096}).status,
                         200)

    # -- where the report shows ---------------------------------------------------------------
    def test_the_slack_message_shows_what_ran(self):
        r = self.create(notify=["slack-ops"])
        self.decide(r["id"])
        self.fake.wait_until(lambda c: c.json and c.json.get("text", "").startswith("Approved"),
                             path=UPDATE)
        self.assertEqual(self.report(r["id"], {"status": "failed", "exit_code": 2}).status, 200)
        update = self.fake.wait_until(lambda c: "ran: failed (exit 2)" in json.dumps(c.json),
                                      path=UPDATE).json
        self.assertEqual(update["text"], "Approved by alice: Deploy v2.0 \u00b7 ran: failed (exit 2)")
        self.assertIn(":gear: ran: failed (exit 2)", json.dumps(update["blocks"],
                                                               ensure_ascii=False))

    def test_an_approval_without_a_report_in_time_is_flagged_on_metrics_and_in_the_inbox(self):
        silent = self.approved(action="nightly_backup", title="Back up the database")
        failed = self.approved(action="nightly_vacuum", title="Vacuum the database")
        self.assertEqual(silent["report_within_seconds"], 1)
        self.assertEqual(self.report(failed["id"], {"status": "failed", "exit_code": 2}).status,
                         200)
        unexpected = self.approved(action="deploy_now", title="Deploy at once")  # no report_within
        self.wait_past(1)

        metrics = self.server.call("GET", "/metrics", token=None)
        self.assertEqual(metrics.status, 200, metrics)
        self.assertIn('countersign_executions_unreported{tenant="default"} 1\n', metrics.body)

        browser = Browser(self.server)
        browser.get("/ui/login")
        r = browser.post("/ui/login", [("token", self.alice)])
        self.assertEqual(r.status, 303, r)
        page = text_of(browser.get(f"/ui/requests/{silent['id']}"))
        self.assertIn("No execution report.", page)
        page = text_of(browser.get(f"/ui/requests/{failed['id']}"))
        self.assertIn("ran: failed (exit 2)", page)
        self.assertNotIn("No execution report", page)
        self.assertNotIn("No execution report",
                         text_of(browser.get(f"/ui/requests/{unexpected['id']}")))
        listing = browser.get("/ui/requests")
        rows = [row for row in re.findall(r"<tr>.*?</tr>", listing.body, flags=re.S)
                if "no execution report" in row]
        self.assertEqual(len(rows), 1, listing.body)
        self.assertIn(silent["id"], rows[0])


class ReportingClientsTest(harness.ServerTestCase):
    """`countersign exec` and the Python decorator report by themselves."""

    def setUp(self):
        super().setUp()
        self.agent = self.server.create_token("ci-bot", "agent")
        self.alice = self.server.create_token("alice", "approver")
        self.tmp = tempfile.mkdtemp(prefix="countersign-outcome-exec-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def approve_when_asked(self, action, poll):
        """Approves the pending request of `action` once it exists; `poll()` is None while the
        asking side is still running."""
        deadline = harness.time.monotonic() + CONDITION_TIMEOUT
        while True:
            r = self.server.call("GET", f"/v1/requests?status=pending&action={action}",
                                 token=self.alice)
            self.assertEqual(r.status, 200, r)
            if r.json["requests"]:
                rid = r.json["requests"][0]["id"]
                decided = self.server.call("POST", f"/v1/requests/{rid}/decisions",
                                           {"choice": "approve"}, token=self.alice)
                self.assertEqual(decided.status, 200, decided)
                return rid
            if poll() is not None or harness.time.monotonic() > deadline:
                self.fail(f"no request of {action} was asked")
            harness.time.sleep(0.01)  # polling for a condition, not waiting for time to pass

    def exec_command(self, action, *command, extra=()):
        env = {k: v for k, v in os.environ.items() if not k.startswith("COUNTERSIGN_")}
        env.update(COUNTERSIGN_URL=self.server.url, COUNTERSIGN_TOKEN=self.agent)
        proc = subprocess.Popen([BIN, "exec", "--action", action, *extra, "--", *command],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, cwd=self.tmp)
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
        rid = self.approve_when_asked(action, proc.poll)
        out, err = proc.communicate(timeout=CLI_TIMEOUT)
        return rid, proc.returncode, err

    def executions(self, rid):
        return [e["data"] for e in self.server.audit(rid) if e["type"] == "execution.reported"]

    def test_exec_reports_the_exit_status_of_a_failing_command(self):
        rid, code, err = self.exec_command("exit_three", "sh", "-c", "exit 3")
        self.assertEqual(code, 3, err)
        self.assertEqual(self.executions(rid), [{"status": "failed", "exit_code": 3,
                                                 "detail": ""}])
        self.assertNotIn("warning", err)

    def test_exec_reports_success_a_signal_and_nothing_with_no_report(self):
        rid, code, err = self.exec_command("say_yes", "true")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.server.get_request(rid)["execution"]["status"], "succeeded")
        rid, code, err = self.exec_command("kill_self", "sh", "-c", "kill -9 $$")
        self.assertEqual(code, 128 + 9, err)
        self.assertEqual(self.executions(rid), [{"status": "failed", "exit_code": None,
                                                 "detail": "killed by signal 9"}])
        rid, code, err = self.exec_command("quiet_one", "sh", "-c", "exit 4",
                                           extra=["--no-report"])
        self.assertEqual(code, 4, err)
        self.assertEqual(self.executions(rid), [])

    def test_the_python_decorator_reports_success_and_the_exception_type(self):
        client = countersign.Client(self.server.url, self.agent, poll_timeout=5)

        @countersign.requires_approval(action="py_ok", client=client)
        def fine(n):
            return n * 2

        @countersign.requires_approval(action="py_broken", client=client)
        def broken():
            raise KeyError("no such table")

        outcomes = {}

        def call(name, fn):
            try:
                outcomes[name] = fn()
            except BaseException as exc:  # noqa: B902 - what the call raised is the result
                outcomes[name] = exc

        for name, fn in (("py_ok", lambda: fine(21)), ("py_broken", broken)):
            worker = threading.Thread(target=call, args=(name, fn))
            worker.start()
            rid = self.approve_when_asked(name, lambda: None if worker.is_alive() else 0)
            worker.join(CLI_TIMEOUT)
            self.assertFalse(worker.is_alive())
            outcomes[name + ":id"] = rid

        self.assertEqual(outcomes["py_ok"], 42)
        self.assertIsInstance(outcomes["py_broken"], KeyError, "the exception is re-raised")
        ok = self.server.get_request(outcomes["py_ok:id"])["execution"]
        self.assertEqual((ok["status"], ok["reported_by"]), ("succeeded", "ci-bot"))
        broken_report = self.server.get_request(outcomes["py_broken:id"])["execution"]
        self.assertEqual((broken_report["status"], broken_report["detail"]),
                         ("failed", "KeyError"))


if __name__ == "__main__":
    unittest.main()
