"""examples/: each example runs as its README says, against a real server.

The examples find `countersign` on PATH (the build directory of the binary under test is put
first) and the server in COUNTERSIGN_URL with an agent's token, as they would against
`make run`. Each test waits for the example's request to appear (polling GET /v1/requests,
never sleeping), decides it over the API as an approver, and checks what the example did. The
CI jobs' approval lines are taken from the YAML files themselves and run with the variables
GitHub and GitLab set.
"""

import hashlib
import hmac
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import harness

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLES = os.path.join(REPO, "examples")
BIN_DIR = os.path.dirname(os.path.abspath(harness.BIN))
RUN_TIMEOUT = 60  # seconds; a safety net so a hung example fails the test instead of the run
CONDITION_TIMEOUT = 30.0
WEBHOOK_SECRET = "whsec-example-0123456789abcdef"

GITHUB_ENV = {
    "GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "4242", "GITHUB_RUN_ATTEMPT": "1",
    "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/shop",
    "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567", "GITHUB_REF_NAME": "main",
    "GITHUB_ACTOR": "octocat",
}
GITLAB_ENV = {
    "GITLAB_CI": "true", "CI_PIPELINE_URL": "https://gitlab.example.com/acme/shop/-/pipelines/77",
    "CI_COMMIT_SHA": "fedcba9876543210fedcba9876543210fedcba98", "CI_COMMIT_SHORT_SHA": "fedcba98",
    "CI_PROJECT_PATH": "acme/shop", "CI_COMMIT_REF_NAME": "main", "GITLAB_USER_LOGIN": "dev",
    "CI_JOB_ID": "991",
}


def sign(secret, timestamp, body):
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def ci_job(file_name):
    """The approval line of a CI file (the command it runs) and the variables it sets for it."""
    with open(os.path.join(EXAMPLES, "ci", file_name)) as f:
        text = f.read()
    lines = [line.strip() for line in text.splitlines()
             if "wait-for-approval.sh" in line and not line.lstrip().startswith("#")]
    if len(lines) != 1:
        raise AssertionError(f"{file_name}: {len(lines)} lines call wait-for-approval.sh")
    command = re.sub(r"^(run:|-)\s*", "", lines[0])
    variables = dict(re.findall(r"(?m)^\s*(APPROVERS|APPROVAL_TIMEOUT):\s*\"?([^\"\n]+)\"?$",
                                text))
    return command, variables


class Output:
    """A child's stdout, a line at a time, each awaited up to a deadline."""

    def __init__(self, stream):
        self.lines = queue.Queue()
        self.pump = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self.pump.start()

    def _pump(self, stream):
        with stream:
            for line in stream:
                self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def next(self):
        try:
            line = self.lines.get(timeout=CONDITION_TIMEOUT)
        except queue.Empty:
            raise AssertionError("no output line came") from None
        if line is None:
            raise AssertionError("the process ended its output")
        return line


class ExamplesTest(harness.ServerTestCase):
    def setUp(self):
        super().setUp()
        s = self.server
        self.agent = s.create_token("ci", "agent")
        self.bob = s.create_token("bob", "approver", groups=["sre"])
        self.procs = []
        self.addCleanup(self._kill_procs)

    def _kill_procs(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()

    # -- helpers ------------------------------------------------------------------------------
    def env(self, **extra):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("COUNTERSIGN_", "GITHUB_", "GITLAB_", "CI_"))}
        env["PATH"] = BIN_DIR + os.pathsep + env.get("PATH", "/usr/bin:/bin")
        env["COUNTERSIGN_URL"] = self.server.url
        env["COUNTERSIGN_TOKEN"] = self.agent
        env.update(extra)
        return env

    def start(self, args, cwd=REPO, **env):
        proc = subprocess.Popen(args, env=self.env(**env), cwd=cwd, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.procs.append(proc)
        return proc

    def finish(self, proc):
        out, err = proc.communicate(timeout=RUN_TIMEOUT)
        return proc.returncode, out, err

    def pending(self, proc, action):
        """The pending request `proc` created, once it exists."""
        deadline = time.monotonic() + CONDITION_TIMEOUT
        while True:
            r = self.server.call("GET", f"/v1/requests?status=pending&action={action}",
                                 token=self.bob)
            self.assertEqual(r.status, 200, r)
            if r.json["requests"]:
                return r.json["requests"][0]
            if proc.poll() is not None:
                self.fail(f"the example exited {proc.returncode} before asking: "
                          f"{proc.stderr.read()}")
            if time.monotonic() > deadline:
                self.fail(f"the example did not ask for {action}")
            time.sleep(0.01)  # polling for a condition, not waiting for time to pass

    def decide(self, request_id, choice):
        r = self.server.call("POST", f"/v1/requests/{request_id}/decisions",
                             {"choice": choice, "comment": "from the test"}, token=self.bob)
        self.assertEqual(r.status, 200, r)

    # -- deploy.sh ----------------------------------------------------------------------------
    def test_deploy_sh_deploys_once_approved_and_the_deploy_checks_its_receipt(self):
        proc = self.start([os.path.join(EXAMPLES, "deploy.sh"), "v2.1"])
        req = self.pending(proc, "deploy_production")
        self.assertEqual(req["title"], "Deploy v2.1 to production")
        self.assertEqual(req["arguments"],
                         {"argv": [os.path.join(EXAMPLES, "really-deploy.sh"), "v2.1"]})
        self.decide(req["id"], "approve")
        code, out, err = self.finish(proc)
        self.assertEqual(code, 0, err)
        self.assertIn(f"deploying v2.1 (approved in {req['id']})", out)

    def test_deploy_sh_deploys_nothing_when_denied(self):
        proc = self.start([os.path.join(EXAMPLES, "deploy.sh"), "v2.1"])
        req = self.pending(proc, "deploy_production")
        self.decide(req["id"], "deny")
        code, out, err = self.finish(proc)
        self.assertEqual(code, 1, err)
        self.assertNotIn("deploying", out)

    def test_really_deploy_sh_refuses_to_run_without_a_receipt(self):
        proc = self.start([os.path.join(EXAMPLES, "really-deploy.sh"), "v2.1"])
        code, out, err = self.finish(proc)
        self.assertNotEqual(code, 0)
        self.assertNotIn("deploying", out)
        self.assertIn("not started by countersign exec", err)

    # -- ci/ ----------------------------------------------------------------------------------
    def run_ci_job(self, file_name, ci_env):
        command, variables = ci_job(file_name)
        self.assertEqual(variables, {"APPROVERS": "group:sre", "APPROVAL_TIMEOUT": "30m"})
        return self.start(["bash", "-c", command], cwd=EXAMPLES, **ci_env, **variables)

    def test_the_github_actions_job_waits_for_approval(self):
        proc = self.run_ci_job("github-actions.yml", GITHUB_ENV)
        req = self.pending(proc, "deploy_production")
        self.assertEqual(req["title"], "Deploy 0123456 of acme/shop to production")
        self.assertEqual(req["details"]["pipeline"],
                         "https://github.com/acme/shop/actions/runs/4242")
        self.assertEqual(req["details"]["commit"], GITHUB_ENV["GITHUB_SHA"])
        self.assertEqual(req["details"]["started_by"], "octocat")
        self.assertEqual(req["approvers"], ["group:sre"])
        self.decide(req["id"], "approve")
        code, _, err = self.finish(proc)
        self.assertEqual(code, 0, err)

    def test_the_gitlab_ci_job_fails_when_denied_and_a_retried_script_gets_the_same_answer(self):
        proc = self.run_ci_job("gitlab-ci.yml", GITLAB_ENV)
        req = self.pending(proc, "deploy_production")
        self.assertEqual(req["title"], "Deploy fedcba98 of acme/shop to production")
        self.assertEqual(req["details"]["pipeline"], GITLAB_ENV["CI_PIPELINE_URL"])
        self.assertEqual(req["details"]["ref"], "main")
        self.decide(req["id"], "deny")
        code, _, err = self.finish(proc)
        self.assertEqual(code, 1, err)
        # The same job running the script again (a restarted runner) gets the same request.
        code, out, err = self.finish(self.run_ci_job("gitlab-ci.yml", GITLAB_ENV))
        self.assertEqual(code, 1, err)
        self.assertIn(req["id"], out + err)
        r = self.server.call("GET", "/v1/requests?action=deploy_production")
        self.assertEqual([q["id"] for q in r.json["requests"]], [req["id"]])

    # -- python_agent.py ----------------------------------------------------------------------
    def run_agent(self):
        return self.start([sys.executable, os.path.join(EXAMPLES, "python_agent.py"), "users"],
                          PYTHONPATH=os.path.join(REPO, "clients", "python"),
                          PYTHONDONTWRITEBYTECODE="1")

    def test_the_python_agent_drops_the_table_once_approved(self):
        proc = self.run_agent()
        req = self.pending(proc, "db.drop_table")
        self.assertEqual(req["title"], "Drop table users in prod")
        self.assertEqual(req["arguments"], {"table": "users", "env": "prod"})
        self.decide(req["id"], "approve")
        code, out, err = self.finish(proc)
        self.assertEqual(code, 0, err)
        self.assertIn(f"dropping table users in prod (approved in {req['id']}", out)
        self.assertIn("done: {'success': True, 'table': 'users'}", out)

    def test_the_python_agent_drops_nothing_when_denied(self):
        proc = self.run_agent()
        req = self.pending(proc, "db.drop_table")
        self.decide(req["id"], "deny")
        code, out, err = self.finish(proc)
        self.assertEqual(code, 1, err)
        self.assertNotIn("dropping", out)
        self.assertIn("not dropped", err)


class WebhookReceiverTest(unittest.TestCase):
    """examples/webhook_receiver.py, driven with deliveries the test signs itself."""

    def setUp(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("COUNTERSIGN_")}
        env["WEBHOOK_SECRET"] = WEBHOOK_SECRET
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(EXAMPLES, "webhook_receiver.py"), "--port", "0"],
            env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.addCleanup(self._stop)
        self.output = Output(self.proc.stdout)
        self.port = int(re.fullmatch(r"listening on http://127\.0\.0\.1:(\d+)",
                                     self.output.next()).group(1))

    def _stop(self):
        self.proc.kill()
        self.proc.wait()
        self.output.pump.join(RUN_TIMEOUT)

    def post(self, body, timestamp=None, signature=None, delivery="dlv_1", secret=WEBHOOK_SECRET):
        timestamp = int(time.time()) if timestamp is None else timestamp
        headers = {"Content-Type": "application/json", "X-Countersign-Event": "request.resolved",
                   "X-Countersign-Delivery": delivery, "X-Countersign-Timestamp": str(timestamp),
                   "X-Countersign-Signature": signature or sign(secret, timestamp, body)}
        conn = harness.http.client.HTTPConnection("127.0.0.1", self.port, timeout=RUN_TIMEOUT)
        try:
            conn.request("POST", "/countersign", body=body, headers=headers)
            return conn.getresponse().status
        finally:
            conn.close()

    @staticmethod
    def event(request_id, status="approved", delivery="dlv_1"):
        return json.dumps({"delivery": delivery, "event": "request.resolved", "seq": 3,
                           "request": {"id": request_id, "status": status}}).encode()

    def test_it_handles_a_signed_delivery_once(self):
        body = self.event("req_1")
        self.assertEqual(self.post(body), 204)
        self.assertEqual(self.output.next(), "request.resolved req_1 approved")
        self.assertEqual(self.post(body), 204)  # delivered again: acknowledged, not handled
        self.assertEqual(self.post(self.event("req_2", "denied", "dlv_2"), delivery="dlv_2"), 204)
        self.assertEqual(self.output.next(), "request.resolved req_2 denied")

    def test_it_handles_what_a_real_server_sends(self):
        data_dir = tempfile.mkdtemp(prefix="countersign-examples-")
        self.addCleanup(shutil.rmtree, data_dir, ignore_errors=True)
        config = os.path.join(data_dir, "countersign.toml")
        with open(config, "w") as f:
            f.write(f"""
[outbound]
allow = ["127.0.0.1/32"]   # the receiver is on loopback over plain http

[[webhook]]
name = "example"
url = "http://127.0.0.1:{self.port}/countersign"
secret = "env:WEBHOOK_SECRET"
events = ["request.created", "request.resolved"]
""")
        server = harness.Server(data_dir=data_dir, extra_args=["--config", config],
                                env={"WEBHOOK_SECRET": WEBHOOK_SECRET})
        self.addCleanup(server.cleanup)
        server.start()
        bob = server.create_token("bob", "approver")
        req = server.create_request()
        self.assertEqual(self.output.next(), f"request.created {req['id']} pending")
        r = server.call("POST", f"/v1/requests/{req['id']}/decisions", {"choice": "approve"},
                        token=bob)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.output.next(), f"request.resolved {req['id']} approved")

    def test_it_refuses_forged_replayed_and_stale_deliveries(self):
        body = self.event("req_1")
        now = int(time.time())
        self.assertEqual(self.post(body, secret="another-secret"), 401)
        # A captured delivery sent again later, with a fresh timestamp but the old signature.
        self.assertEqual(self.post(body, timestamp=now, signature=sign(WEBHOOK_SECRET, now - 1,
                                                                       body)), 401)
        self.assertEqual(self.post(body, timestamp=now - 600), 401)  # outside the 5 minutes
        self.assertEqual(self.post(body, timestamp=now + 600), 401)
        self.assertEqual(self.post(body + b" ", timestamp=now,
                                   signature=sign(WEBHOOK_SECRET, now, body)), 401)
        # Still nothing handled: the next line printed is this authentic delivery's.
        self.assertEqual(self.post(self.event("req_3", delivery="dlv_3"), delivery="dlv_3"), 204)
        self.assertEqual(self.output.next(), "request.resolved req_3 approved")


if __name__ == "__main__":
    unittest.main()
