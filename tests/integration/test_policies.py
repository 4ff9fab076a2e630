"""Policies, approver rules, grants, rate limits and SIGHUP reload, over HTTP."""

import datetime
import os
import signal
import tempfile
import unittest

from harness import Server

CONFIG = """
[groups]
sre = ["alice", "carol"]
leads = ["lena"]

[[policy]]
name = "prod-deploys"
match = { action = "deploy_prod*" }
quorum = 2
approvers = ["group:sre"]
timeout = "15m"

[[policy]]
name = "reads"
match = { action = "read_*" }
decision = "approve"

[[policy]]
name = "verify"
match = { action = "verify_*" }
approvers = ["alice"]
escalate_to = [{ approvers = ["group:leads"], timeout = "10m" }]

[[policy]]
name = "db"
match = { action = "db_*" }
timeout = "10m"
max_timeout = "1h"

[limits]
rate_per_principal = "{rate}"
"""


def write_config(path, rate="1000/1m", extra=""):
    with open(path, "w") as f:
        f.write(CONFIG.replace("{rate}", rate) + extra)


class PolicyTest(unittest.TestCase):
    rate = "1000/1m"

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="countersign-policy-")
        self.config = os.path.join(self.dir, "countersign.toml")
        write_config(self.config, self.rate)
        self.server = Server(data_dir=self.dir, extra_args=["--config", self.config])
        self.server.start()
        self.addCleanup(self.server.cleanup)
        s = self.server
        self.agent = s.create_token("ci-bot", "agent")
        self.alice = s.create_token("alice", "approver")
        self.bob = s.create_token("bob", "approver")
        self.carol = s.create_token("carol", "approver")
        self.lena = s.create_token("lena", "approver")

    def decide(self, rid, token, choice="approve", **extra):
        return self.server.call("POST", f"/v1/requests/{rid}/decisions",
                                dict(choice=choice, **extra), token=token)


class ApproverRulesTest(PolicyTest):
    def test_policy_quorum_and_approvers_apply_and_rejections_are_audited(self):
        req = self.server.create_request(token=self.agent, action="deploy_prod_api", quorum=1)
        self.assertEqual(req["policy"], "prod-deploys")
        self.assertIn("prod-deploys", req["policy_reason"])
        self.assertEqual(req["quorum"], 2, "a request may not loosen its policy")
        self.assertEqual(req["approvers"], ["group:sre"])

        outsider = self.decide(req["id"], self.bob)
        self.assertEqual(outsider.status, 403, outsider)
        audit = self.server.call("GET", f"/v1/audit?request={req['id']}").json["events"]
        rejected = [e for e in audit if e["type"] == "decision.rejected"]
        self.assertEqual(len(rejected), 1)
        self.assertEqual(rejected[0]["actor"], "bob")

        self.assertEqual(self.decide(req["id"], self.alice).json["status"], "pending")
        self.assertEqual(self.decide(req["id"], self.alice).status, 409)
        done = self.decide(req["id"], self.carol)
        self.assertEqual(done.json["status"], "approved")
        self.assertTrue(done.json["receipt"])

    def test_auto_approval_policy_resolves_at_once_unless_high_risk(self):
        req = self.server.create_request(token=self.agent, action="read_logs")
        self.assertEqual(req["status"], "approved")
        self.assertEqual(req["resolved_by"], ["policy:reads"])
        high = self.server.create_request(token=self.agent, action="read_logs", risk="high")
        self.assertEqual(high["status"], "pending")

    def test_an_escalate_choice_makes_the_next_tier_eligible(self):
        req = self.server.create_request(token=self.agent, action="verify_login",
                                         kind="verification")
        self.assertEqual(self.decide(req["id"], self.lena, "acknowledge").status, 403)
        escalated = self.decide(req["id"], self.alice, "escalate")
        self.assertEqual(escalated.json["escalation_level"], 1)
        self.assertIn("group:leads", escalated.json["approvers"])
        self.assertGreater(escalated.json["deadline_at"], req["deadline_at"])
        done = self.decide(req["id"], self.lena, "acknowledge")
        self.assertEqual(done.json["status"], "approved", done)


class GrantTest(PolicyTest):
    def test_a_grant_approves_matching_requests_until_revoked(self):
        g = self.server.call("POST", "/v1/grants", {"action": "restart_worker",
                                                    "scope": "tenant", "ttl_seconds": 600},
                             token=self.alice)
        self.assertEqual(g.status, 201, g)
        req = self.server.create_request(token=self.agent, action="restart_worker")
        self.assertEqual(req["status"], "approved")
        self.assertEqual(req["resolved_by"], [f"grant:{g.json['id']}"])
        listed = self.server.call("GET", "/v1/grants", token=self.alice).json["grants"]
        self.assertEqual([x["id"] for x in listed], [g.json["id"]])
        self.assertEqual(self.server.call("DELETE", f"/v1/grants/{g.json['id']}",
                                          token=self.alice).status, 200)
        again = self.server.create_request(token=self.agent, action="restart_worker")
        self.assertEqual(again["status"], "pending")

    def test_grants_are_refused_for_high_risk_and_need_an_expiry(self):
        r = self.server.call("POST", "/v1/grants", {"action": "wipe_users", "scope": "tenant",
                                                    "ttl_seconds": 60}, token=self.alice)
        self.assertEqual(r.status, 422, r)
        r = self.server.call("POST", "/v1/grants", {"action": "restart_worker",
                                                    "scope": "tenant"}, token=self.alice)
        self.assertEqual(r.status, 422, r)
        r = self.server.call("POST", "/v1/grants", {"action": "restart_worker",
                                                    "scope": "tenant", "ttl_seconds": 60},
                             token=self.agent)
        self.assertEqual(r.status, 403, r)

    def test_an_approval_can_grant_the_session(self):
        req = self.server.create_request(token=self.agent, action="restart_worker",
                                         session="run-7")
        d = self.decide(req["id"], self.alice,
                        grant={"scope": "session", "ttl_seconds": 600})
        self.assertEqual(d.json["status"], "approved", d)
        same = self.server.create_request(token=self.agent, action="restart_worker",
                                          session="run-7")
        self.assertEqual(same["status"], "approved")
        other = self.server.create_request(token=self.agent, action="restart_worker",
                                           session="run-8")
        self.assertEqual(other["status"], "pending")


class GrantCliTest(PolicyTest):
    def cli(self, *args, token):
        import subprocess
        from harness import BIN
        env = dict(os.environ, COUNTERSIGN_URL=self.server.url, COUNTERSIGN_TOKEN=token)
        return subprocess.run([BIN, *args], capture_output=True, text=True, env=env, timeout=60)

    def test_grant_create_list_revoke_from_the_cli(self):
        made = self.cli("grant", "create", "--action", "restart_worker", "--ttl", "600",
                        "--json", token=self.alice)
        self.assertEqual(made.returncode, 0, made.stderr)
        grant_id = __import__("json").loads(made.stdout)["id"]
        self.assertEqual(self.server.create_request(token=self.agent,
                                                    action="restart_worker")["status"],
                         "approved")
        listed = self.cli("grant", "list", token=self.alice)
        self.assertIn(grant_id, listed.stdout)
        self.assertEqual(self.cli("grant", "revoke", grant_id, token=self.alice).returncode, 0)
        self.assertEqual(self.server.create_request(token=self.agent,
                                                    action="restart_worker")["status"],
                         "pending")
        refused = self.cli("grant", "create", "--action", "wipe_users", "--ttl", "60",
                           token=self.alice)
        self.assertEqual(refused.returncode, 1)
        self.assertIn("high-risk", refused.stderr)
        missing_ttl = self.cli("grant", "create", "--action", "x", token=self.alice)
        self.assertNotEqual(missing_ttl.returncode, 0)


    def test_a_requester_grant_approves_that_requester_in_any_session_and_nobody_else(self):
        made = self.cli("grant", "create", "--action", "restart_worker", "--scope", "requester",
                        "--requester", "ci-bot", "--ttl", "10m", "--json", token=self.alice)
        self.assertEqual(made.returncode, 0, made.stderr)
        grant = __import__("json").loads(made.stdout)
        self.assertEqual((grant["scope"], grant["requester"], grant["session"]),
                         ("requester", "ci-bot", ""))
        granted = self.server.create_request(token=self.agent, action="restart_worker",
                                             session="any-session")
        self.assertEqual((granted["status"], granted["reason_code"]),
                         ("approved", "approved_by_grant"))
        self.assertEqual(granted["resolved_by"], ["grant:" + grant["id"]])
        other_agent = self.server.create_token("other-bot", "agent")
        asked = self.server.create_request(token=other_agent, action="restart_worker")
        self.assertEqual((asked["status"], asked["reason_code"]), ("pending", None))
        listed = self.cli("grant", "list", token=self.alice)
        self.assertRegex(listed.stdout, grant["id"] + r"\s+restart_worker\s+requester\s+ci-bot")
        no_requester = self.cli("grant", "create", "--action", "x", "--scope", "requester",
                                "--ttl", "60", token=self.alice)
        self.assertEqual(no_requester.returncode, 1)
        self.assertIn("a requester grant needs a requester", no_requester.stderr)

    def test_grant_ttl_takes_a_duration(self):
        made = self.cli("grant", "create", "--action", "restart_worker", "--ttl", "1h30m",
                        "--json", token=self.alice)
        self.assertEqual(made.returncode, 0, made.stderr)
        grant = __import__("json").loads(made.stdout)
        from datetime import datetime
        parse = lambda t: datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ")
        self.assertEqual((parse(grant["expires_at"]) - parse(grant["created_at"])).total_seconds(),
                         5400)
        refused = self.cli("grant", "create", "--action", "x", "--ttl", "soon", token=self.alice)
        self.assertEqual(refused.returncode, 3, refused.stderr)
        self.assertIn("--ttl: must be a duration such as 90s, 15m or 1h", refused.stderr)

class RateLimitTest(PolicyTest):
    rate = "3/1m"

    def test_submitting_over_the_limit_is_429_with_retry_after(self):
        for _ in range(3):
            self.server.create_request(token=self.agent, action="restart_worker")
        r = self.server.call("POST", "/v1/requests", {"action": "restart_worker",
                                                      "title": "one too many"},
                             token=self.agent)
        self.assertEqual(r.status, 429, r)
        self.assertEqual(r.json["error"]["code"], "rate_limited")
        self.assertGreaterEqual(int(r.headers["Retry-After"]), 1)


def granted_seconds(req):
    """The time from creation to the deadline the server granted."""
    def parse(text):
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (parse(req["deadline_at"]) - parse(req["created_at"])).total_seconds()


class TimeoutTest(PolicyTest):
    def test_a_policy_timeout_is_a_default_not_a_ceiling(self):
        for action, asked in (("send_email", 900), ("deploy_prod_api", 3600),
                              ("send_email", 30 * 24 * 3600)):
            r = self.server.call("POST", "/v1/requests", {"action": action, "title": "t",
                                                          "timeout_seconds": asked},
                                 token=self.agent)
            self.assertEqual(r.status, 201, r)
            self.assertEqual(granted_seconds(r.json), asked, action)
            self.assertNotIn("warnings", r.json)
        unnamed = self.server.create_request(token=self.agent, action="deploy_prod_api")
        self.assertEqual(granted_seconds(unnamed), 15 * 60)
        beyond = self.server.call("POST", "/v1/requests",
                                  {"action": "x", "title": "t",
                                   "timeout_seconds": 30 * 24 * 3600 + 1}, token=self.agent)
        self.assertEqual(beyond.status, 422, beyond)
        self.assertIn("timeout_seconds must be between 1 and 2592000",
                      beyond.json["error"]["message"])

    def test_a_policy_max_timeout_cuts_the_request_and_the_answer_says_so(self):
        r = self.server.call("POST", "/v1/requests", {"action": "db_migrate", "title": "t",
                                                      "timeout_seconds": 7200},
                             token=self.agent)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(granted_seconds(r.json), 3600)
        self.assertEqual(r.json["warnings"], ["timeout_seconds 7200 was cut to 3600: policy db "
                                              "allows at most that (max_timeout)"])
        self.assertEqual(granted_seconds(
            self.server.create_request(token=self.agent, action="db_migrate")), 600)

        import subprocess
        from harness import BIN
        env = dict(os.environ, COUNTERSIGN_URL=self.server.url, COUNTERSIGN_TOKEN=self.agent)
        cli = subprocess.run([BIN, "request", "--action", "db_migrate", "--title", "t",
                              "--timeout", "2h"], capture_output=True, text=True, env=env,
                             timeout=60)
        self.assertEqual(cli.returncode, 0, cli.stderr)
        self.assertIn("countersign: warning: timeout_seconds 7200 was cut to 3600: policy db "
                      "allows at most that (max_timeout)\n", cli.stderr)


class ReloadTest(PolicyTest):
    def reload_and_wait_for(self, text):
        count = self.server.read_log().count(text)
        self.server.proc.send_signal(signal.SIGHUP)
        while self.server.read_log().count(text) <= count:
            self.assertIsNone(self.server.proc.poll(), "the server died on SIGHUP")

    def test_sighup_with_a_broken_file_keeps_the_old_policies(self):
        with open(self.config, "a") as f:
            f.write('\n[[policy]]\nname = "broken"\nquorum = "two"\n')
        self.reload_and_wait_for("keeping the current policies")
        self.assertIn("quorum", self.server.read_log().split("keeping the current policies")[-1])
        req = self.server.create_request(token=self.agent, action="deploy_prod_api")
        self.assertEqual(req["policy"], "prod-deploys")

        write_config(self.config, extra='\n[[policy]]\nname = "loud"\nnotify = ["slak-ops"]\n')
        self.reload_and_wait_for("keeping the current policies")
        self.assertIn("policy[4].notify[0]: no [[channel]] is named 'slak-ops' (no channels are "
                      "configured)",
                      self.server.read_log().split("keeping the current policies")[-1])

        write_config(self.config, extra='\n[[policy]]\nname = "everything-else"\n'
                                         'match = { action = "*" }\nquorum = 3\n')
        self.reload_and_wait_for("SIGHUP: reloaded")
        req = self.server.create_request(token=self.agent, action="restart_worker")
        self.assertEqual(req["policy"], "everything-else")
        self.assertEqual(req["quorum"], 3)


if __name__ == "__main__":
    unittest.main()
