"""`countersign policy test`: the offline policy check, run as the real binary.

No server is started: the command only reads the config file. The example file of
docs/configuration.md is taken from the page itself, so the documentation can not drift
from what the loader accepts.
"""

import json
import os
import re
import subprocess
import tempfile
import unittest

import harness

CLI_TIMEOUT = 60  # seconds; a safety net so a hung CLI fails the test instead of the run
DOCS = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "configuration.md")


def clean_env():
    """The caller's environment without any COUNTERSIGN_* variable, with the secrets the
    documented example's channels read from the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COUNTERSIGN_")}
    env.update(SLACK_BOT_TOKEN="xoxb-example", SLACK_SIGNING_SECRET="example-signing-secret",
               PAGER_WEBHOOK_SECRET="example-pager-secret-0123456789")
    return env


def documented_example():
    """The toml block that follows the policy-example marker in docs/configuration.md."""
    with open(DOCS, encoding="utf-8") as f:
        text = f.read()
    match = re.search(r"<!-- policy-example:[^>]*-->\s*```toml\n(.*?)```", text, re.S)
    if match is None:
        raise AssertionError("docs/configuration.md has no policy-example block")
    return match.group(1)


class PolicyTestCommand(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="countersign-policy-")
        self.addCleanup(self.dir.cleanup)
        self.config = self.write("countersign.toml", documented_example())

    def write(self, name, text):
        path = os.path.join(self.dir.name, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def run_cli(self, *args, env=None):
        return subprocess.run([harness.BIN, "policy", "test"] + list(args),
                              env=env if env is not None else clean_env(),
                              capture_output=True, text=True, timeout=CLI_TIMEOUT)

    def report(self, *args, config=None):
        r = self.run_cli("--config", config or self.config, "--json", *args)
        self.assertEqual(r.returncode, 0, f"stdout={r.stdout}\nstderr={r.stderr}")
        return json.loads(r.stdout)

    def test_documented_example_gives_each_request_its_policy(self):
        # (action, requester, tenant, risk) -> policy, quorum, decision, high_risk
        table = [
            (("deploy_production", "ci-bot", "default", None), ("prod-deploys", 2, "none", True)),
            (("deploy_staging", "ci-bot", "frozen", None), ("freeze", 1, "deny", False)),
            (("read_logs", "ci-bot", "default", None), ("ci-reads", 1, "approve", False)),
            (("read_production_db", "ci-bot", "default", None), ("ci-reads", 1, "none", True)),
            (("read_logs", "ci-bot", "default", "high"), ("ci-reads", 1, "none", True)),
            (("read_logs", "alice", "default", None), ("default", 1, "none", False)),
            (("db_migrate_users", "ci-bot", "acme", None), ("acme-migrations", 2, "none", False)),
            (("db_migrate_users", "ci-bot", "other", None), ("default", 1, "none", False)),
            (("wipe_cache", "ci-bot", "default", None), ("default", 1, "none", True)),
        ]
        for (action, requester, tenant, risk), expected in table:
            with self.subTest(action=action, requester=requester, tenant=tenant, risk=risk):
                args = ["--action", action, "--requester", requester, "--tenant", tenant]
                if risk:
                    args += ["--risk", risk]
                report = self.report(*args)
                got = (report["policy"], report["quorum"], report["decision"],
                       report["high_risk"])
                self.assertEqual(got, expected, report["reason"])

    def test_json_report_spells_out_what_would_happen(self):
        report = self.report("--action", "deploy_production", "--requester", "ci-bot")
        self.assertEqual(report["policy"], "prod-deploys")
        self.assertTrue(report["source"].startswith(self.config + ":"))
        self.assertEqual(report["reason"],
                         "matched prod-deploys: action deploy_* ~ deploy_production; "
                         "high risk: policy prod-deploys has risk high")
        self.assertEqual(report["approvers"], ["group:sre"])
        self.assertEqual(report["approvers_expanded"], ["alice", "bob", "carol"])
        self.assertEqual(report["deny_threshold"], 1)
        self.assertEqual(report["timeout_seconds"], 900)
        self.assertEqual(report["on_timeout"], "escalate")
        self.assertEqual(report["notify"], ["slack-ops"])
        self.assertEqual(report["remind_every_seconds"], 300)
        self.assertEqual(report["escalate_to"], [
            {"level": 1, "approvers": ["group:sre-leads"], "approvers_expanded": ["dave", "erin"],
             "timeout_seconds": 600, "notify": ["pager"]},
            {"level": 2, "approvers": ["group:oncall"],
             "approvers_expanded": ["alice", "bob", "carol", "frank"],
             "timeout_seconds": 900, "notify": []},
        ])
        self.assertEqual(report["request"], {"action": "deploy_production",
                                              "requester": "ci-bot", "tenant": "default",
                                              "risk": ""})
        self.assertEqual(report["config"], self.config)

    def test_high_risk_withholds_an_automatic_approval(self):
        report = self.report("--action", "read_production_db", "--requester", "ci-bot")
        self.assertEqual(report["policy_decision"], "approve")
        self.assertEqual(report["decision"], "none")
        self.assertIn("automatic approval withheld", report["reason"])
        self.assertIn("(*production*)", report["reason"])

    def test_text_report_is_one_setting_per_line(self):
        r = self.run_cli("--config", self.config, "--action", "db_migrate_users",
                         "--requester", "ci-bot", "--tenant", "acme")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = dict(re.match(r"([a-z0-9 ]+):\s+(.*)", line).groups()
                     for line in r.stdout.splitlines())
        self.assertEqual(lines["policy"], f"acme-migrations ({self.config}:60)")
        self.assertEqual(lines["why"], "matched acme-migrations: action db_migrate_* ~ "
                                       "db_migrate_users, tenant acme ~ acme")
        self.assertEqual(lines["high risk"], "no")
        self.assertEqual(lines["decision"], "ask people")
        self.assertEqual(lines["quorum"], "2 approvals from distinct people (never the requester)")
        self.assertEqual(lines["approvers"],
                         "alice, bob, group:platform (no members listed; or a token in group "
                         "platform)")
        self.assertEqual(lines["timeout"], "1h, then deny")
        self.assertEqual(lines["notify"], "none")
        self.assertEqual(lines["reminders"], "none")

        r = self.run_cli("--config", self.config, "--action", "deploy_api")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("escalation 1:    group:sre-leads (dave, erin; or a token in group "
                      "sre-leads) for 10m; notify pager\n", r.stdout)
        self.assertIn("escalation 2:    group:oncall (alice, bob, carol, frank; or a token in "
                      "group oncall) for 15m\n", r.stdout)

    def test_without_a_config_the_built_in_policy_answers(self):
        r = self.run_cli("--action", "rm_rf_home", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        report = json.loads(r.stdout)
        self.assertEqual(report["policy"], "default")
        self.assertEqual(report["source"], "built-in")
        self.assertTrue(report["high_risk"])
        self.assertIsNone(report["config"])
        self.assertEqual(report["timeout_seconds"], 300)
        self.assertEqual(report["approvers"], [])

    def test_server_default_timeout_is_the_built_in_policys_deadline(self):
        config = self.write("short.toml", "[server]\ndefault_timeout_seconds = 120\n"
                                          "[[policy]]\nname = \"reads\"\n"
                                          "match = { action = \"read_*\" }\n")
        self.assertEqual(self.report("--action", "send_email", config=config)["timeout_seconds"],
                         120)
        self.assertEqual(self.report("--action", "read_logs", config=config)["timeout_seconds"],
                         120)

    def test_config_may_come_from_the_environment(self):
        env = clean_env()
        env["COUNTERSIGN_CONFIG"] = self.config
        r = self.run_cli("--action", "read_logs", "--requester", "ci-x", "--json", env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["policy"], "ci-reads")

    def test_invalid_file_exits_1_naming_the_line_and_key(self):
        bad = self.write("bad.toml", '[[policy]]\nname = "a"\n\n[[policy]]\nname = "b"\n'
                                     'risk = "high"\ndecision = "approve"\n')
        r = self.run_cli("--config", bad, "--action", "x")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "")
        self.assertIn(f"configuration error: {bad}:7: policy[1].decision: a high-risk policy "
                      "can never be auto-approved", r.stderr)

        missing = os.path.join(self.dir.name, "missing.toml")
        r = self.run_cli("--config", missing, "--action", "x")
        self.assertEqual(r.returncode, 1)
        self.assertIn(missing, r.stderr)

    def test_serve_refuses_the_same_file_with_the_same_message(self):
        bad = self.write("bad.toml", '[groups]\nsre = ["alice"]\n[[policy]]\nname = "a"\n'
                                     'approvers = ["group:sre-lead"]\n')
        r = self.run_cli("--config", bad, "--action", "x")
        self.assertEqual(r.returncode, 1)
        message = r.stderr.strip().split("configuration error: ", 1)[1]
        self.assertTrue(message.startswith(f"{bad}:5: policy[0].approvers[0]: group 'sre-lead'"),
                        message)
        serve = subprocess.run([harness.BIN, "serve", "--config", bad, "--listen", "127.0.0.1:0",
                                "--store", "sqlite:" + os.path.join(self.dir.name, "cs.db")],
                               env=clean_env(), capture_output=True, text=True,
                               timeout=CLI_TIMEOUT)
        self.assertEqual(serve.returncode, 1)
        self.assertIn(message, serve.stdout + serve.stderr)

    def test_a_misspelt_notify_channel_is_refused_by_policy_test_and_serve(self):
        text = documented_example().replace('notify = ["slack-ops"]', 'notify = ["slak-ops"]')
        self.assertNotEqual(text, documented_example())
        bad = self.write("misspelt.toml", text)
        line = text[:text.index('"slak-ops"')].count("\n") + 1
        r = self.run_cli("--config", bad, "--action", "deploy_x")
        self.assertEqual(r.returncode, 1, r.stdout)
        message = r.stderr.strip().split("configuration error: ", 1)[1]
        self.assertEqual(message, f"{bad}:{line}: policy[1].notify[0]: no [[channel]] is named "
                                  "'slak-ops' (the channels are slack-ops, pager)")
        serve = subprocess.run([harness.BIN, "serve", "--config", bad, "--listen", "127.0.0.1:0",
                                "--store", "sqlite:" + os.path.join(self.dir.name, "cs.db")],
                               env=clean_env(), capture_output=True, text=True,
                               timeout=CLI_TIMEOUT)
        self.assertEqual(serve.returncode, 1)
        self.assertIn(message, serve.stdout + serve.stderr)

        typed = self.write("typed.toml", documented_example().replace(
            'notify = ["pager"]', 'notify = ["pager", "email:dave@example.com"]'))
        r = self.run_cli("--config", typed, "--action", "x")
        self.assertEqual(r.returncode, 1)
        self.assertIn("policy[1].escalate_to[0].notify[1]: 'email:dave@example.com' needs a "
                      "[[channel]] of type 'email', and there is none", r.stderr)

    def test_bad_usage_exits_3(self):
        self.assertEqual(self.run_cli("--config", self.config).returncode, 3)  # no --action
        self.assertEqual(self.run_cli("--action", "x", "--risk", "extreme").returncode, 3)
        r = subprocess.run([harness.BIN, "policy"], env=clean_env(), capture_output=True,
                           text=True, timeout=CLI_TIMEOUT)
        self.assertEqual(r.returncode, 3)


if __name__ == "__main__":
    unittest.main()
