"""The Hermes confirmation daemon's API (seeds/004) served by countersign, over real HTTP.

HermesSeedTest mirrors the daemon's own HTTP tests against the real binary (auth off, as the
daemon ran: the body names the decider). The other classes show the gaps the daemon left and
countersign closes: rate limits that grants do not use up, tokens for deciding, requests that
survive a restart and expire at their deadline without anyone asking.
"""

import datetime
import json
import os
import shutil
import tempfile
import time
import unittest

from harness import Server

SEED_COLUMNS = {"id", "action", "description", "details", "requester", "session_key", "status",
                "resolved_by", "created_at", "resolved_at", "resolved_at_iso", "created_at_iso"}
TO_DICT_FIELDS = {"id", "action", "description", "details", "requester", "session_key", "status",
                  "resolved_by", "resolved_at", "created_at", "timeout_seconds", "created_at_iso",
                  "resolved_at_iso"}

# The server's defaults: a request gets the timeout it asks for (a policy's timeout is only a
# default), so the daemon's whole 30-3600 s range goes through. "quick_*" is held to a 1 s
# deadline by its policy's max_timeout, the legitimate way to see an expiry without waiting
# the daemon's 30 s floor; "read_*" and "never_*" are decided by policy without asking anyone.
CONFIG = """
[[policy]]
name = "quick"
match = { action = "quick_*" }
timeout = "1s"
max_timeout = "1s"

[[policy]]
name = "reads"
match = { action = "read_*" }
decision = "approve"

[[policy]]
name = "never"
match = { action = "never_*" }
decision = "deny"

[compat.hermes]
enabled = true
"""


def write_config(directory, extra=""):
    path = os.path.join(directory, "countersign.toml")
    with open(path, "w") as f:
        f.write(CONFIG + extra)
    return path


class HermesServerCase(unittest.TestCase):
    """One server for the whole class, started with CONFIG plus `extra_config`."""

    auth = True
    extra_config = ""
    extra_args = ()

    @classmethod
    def setUpClass(cls):
        cls.config_dir = tempfile.mkdtemp(prefix="countersign-hermes-")
        config = write_config(cls.config_dir, cls.extra_config)
        cls.server = Server(auth=cls.auth, extra_args=["--config", config, *cls.extra_args])
        try:
            cls.server.start()
        except Exception:
            shutil.rmtree(cls.config_dir, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        shutil.rmtree(cls.config_dir, ignore_errors=True)

    def call(self, method, path, body=None, token=None, **kw):
        return self.server.call(method, path, body, token=token, **kw)

    def submit(self, token=None, expect=202, **fields):
        # An action of each test's own, so the per-action limit (10 an hour) is the test's.
        body = {"action": "act_" + self._testMethodName, "description": "Deploy v2.0"}
        body.update(fields)
        r = self.call("POST", "/confirm", body, token=token)
        self.assertEqual(r.status, expect, r)
        return r.json


class HermesSeedTest(HermesServerCase):
    """The daemon's TestConfirmationHTTP, test for test, plus its shapes in detail."""

    auth = False

    def test_health(self):
        before = self.call("GET", "/health")
        self.assertEqual(before.status, 200, before)
        self.assertEqual(before.json["status"], "ok")
        self.assertIsInstance(before.json["timestamp"], float)
        self.assertLess(abs(before.json["timestamp"] - time.time()), 60)
        self.submit(action="health_check_probe")
        after = self.call("GET", "/health").json
        self.assertEqual(after["pending_count"], before.json["pending_count"] + 1)

    def test_submit_confirmation(self):
        data = self.submit(action="deploy_service", description="Deploy v2.0 to production",
                           requester="timmy", session_key="test-session")
        self.assertEqual(data["status"], "pending")
        self.assertEqual(data["action"], "deploy_service")
        self.assertEqual(data["timeout_seconds"], 300)
        self.assertEqual(data["message"], "Confirmation pending. Awaiting human review.")
        self.assertEqual(data["approve_url"], f"/confirm/{data['id']}/approve")
        self.assertEqual(data["deny_url"], f"/confirm/{data['id']}/deny")
        shown = self.call("GET", f"/confirm/{data['id']}").json
        self.assertEqual(shown["requester"], "timmy")
        self.assertEqual(shown["session_key"], "test-session")
        self.assertEqual(shown["description"], "Deploy v2.0 to production")

    def test_submit_missing_action(self):
        for body in ({"description": "Something"}, {"action": "   ", "description": "x"}):
            r = self.call("POST", "/confirm", body)
            self.assertEqual(r.status, 400, r)
            self.assertEqual(r.json, {"error": "Field 'action' is required"})

    def test_submit_missing_description(self):
        r = self.call("POST", "/confirm", {"action": "deploy_service"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json, {"error": "Field 'description' is required"})

    def test_submit_invalid_json(self):
        for raw in (b"{not json", b"", b"[1, 2]"):
            r = self.call("POST", "/confirm", raw=raw)
            self.assertEqual(r.status, 400, r)
            self.assertEqual(r.json, {"error": "Invalid JSON body"})

    def test_submit_wrong_types_and_refused_action_names_are_400(self):
        r = self.call("POST", "/confirm", {"action": 5, "description": "x"})
        self.assertEqual((r.status, r.json), (400, {"error": "Field 'action' must be a string"}))
        r = self.call("POST", "/confirm", {"action": "a", "description": "x", "details": [1]})
        self.assertEqual((r.status, r.json), (400, {"error": "Field 'details' must be an object"}))
        r = self.call("POST", "/confirm", {"action": "rm -rf /", "description": "x"})
        self.assertEqual(r.status, 400, r)
        self.assertIn("action must match", r.json["error"])

    def test_submit_with_another_content_type_is_415_with_the_reason(self):
        body = json.dumps({"action": "a", "description": "b"}).encode()
        r = self.call("POST", "/confirm", raw=body, content_type="text/plain")
        self.assertEqual(r.status, 415, r)
        self.assertIn("Content-Type", r.json["error"])

    def test_approve_flow(self):
        req_id = self.submit(action="deploy_service", description="Ship it")["id"]
        approved = self.call("POST", f"/confirm/{req_id}/approve", {"approver": "alexander"})
        self.assertEqual(approved.status, 200, approved)
        self.assertEqual(approved.json["status"], "approved")
        self.assertEqual(approved.json["resolved_by"], "alexander")
        self.assertEqual(approved.json["id"], req_id)
        self.assertIsInstance(approved.json["resolved_at"], float)
        status = self.call("GET", f"/confirm/{req_id}")
        self.assertEqual(status.status, 200, status)
        self.assertEqual(status.json["status"], "approved")
        self.assertEqual(status.json["resolved_by"], "alexander")
        self.assertIsNotNone(status.json["resolved_at_iso"])

    def test_deny_flow(self):
        req_id = self.submit(action="delete_data", description="Wipe everything")["id"]
        denied = self.call("POST", f"/confirm/{req_id}/deny",
                           {"denier": "alexander", "reason": "Too risky"})
        self.assertEqual(denied.status, 200, denied)
        self.assertEqual(denied.json["status"], "denied")
        self.assertEqual(denied.json["reason"], "Too risky")
        self.assertEqual(denied.json["resolved_by"], "alexander")
        # The reason is the decision's comment on the one record countersign keeps.
        native = self.call("GET", f"/v1/requests/{req_id}").json
        self.assertEqual(native["status"], "denied")
        self.assertEqual(native["decisions"][0]["comment"], "Too risky")
        self.assertEqual(native["decisions"][0]["by"], "alexander")

    def test_deny_reads_its_body_whatever_the_content_type(self):
        req_id = self.submit()["id"]
        denied = self.call("POST", f"/confirm/{req_id}/deny",
                           raw=b'{"denier": "dora", "reason": "not today"}',
                           content_type="application/x-www-form-urlencoded")
        self.assertEqual(denied.status, 200, denied)
        self.assertEqual((denied.json["resolved_by"], denied.json["reason"]), ("dora", "not today"))

    def test_a_resolution_naming_a_key_twice_is_400_and_decides_nothing(self):
        req_id = self.submit()["id"]
        r = self.call("POST", f"/confirm/{req_id}/deny",
                      raw=b'{"denier": "dora", "denier": "the CEO", "reason": "no"}')
        self.assertEqual(r.status, 400, r)
        self.assertIn("'denier' twice", r.json["error"])
        self.assertEqual(self.call("GET", f"/confirm/{req_id}").json["status"], "pending")

    def test_double_approve_returns_409(self):
        req_id = self.submit(description="Ship it")["id"]
        first = self.call("POST", f"/confirm/{req_id}/approve")
        self.assertEqual(first.status, 200, first)
        self.assertEqual(first.json["resolved_by"], "api")
        second = self.call("POST", f"/confirm/{req_id}/approve")
        self.assertEqual(second.status, 409, second)
        self.assertEqual(second.json, {"error": f"Confirmation '{req_id}' already resolved",
                                       "status": "approved"})
        deny = self.call("POST", f"/confirm/{req_id}/deny", {"reason": "late"})
        self.assertEqual(deny.status, 409, deny)

    def test_not_found(self):
        r = self.call("GET", "/confirm/nonexistent")
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.json, {"error": "Confirmation 'nonexistent' not found"})
        for verb in ("approve", "deny"):
            r = self.call("POST", f"/confirm/nonexistent/{verb}")
            self.assertEqual(r.status, 404, r)
            self.assertEqual(r.json, {"error": "Confirmation 'nonexistent' not found"})

    def test_audit_log(self):
        req_id = self.submit(description="Ship it", details={"version": "2.0"},
                             session_key="s-audit")["id"]
        r = self.call("GET", "/audit")
        self.assertEqual(r.status, 200, r)
        self.assertGreaterEqual(r.json["count"], 1)
        self.assertEqual(r.json["count"], len(r.json["entries"]))
        newest = r.json["entries"][0]
        self.assertEqual(newest["id"], req_id, "newest first")
        self.assertEqual(set(newest), SEED_COLUMNS)
        self.assertIsInstance(newest["details"], str, "the daemon stores details as JSON text")
        self.assertEqual(json.loads(newest["details"]), {"version": "2.0"})
        self.assertEqual(newest["status"], "pending")
        self.assertEqual(newest["session_key"], "s-audit")
        self.assertIsNone(newest["resolved_at"])
        self.assertIsInstance(newest["created_at"], float)

    def test_audit_limit_is_clamped_like_the_daemon(self):
        self.submit()
        self.submit()
        self.assertEqual(self.call("GET", "/audit?limit=1").json["count"], 1)
        self.assertEqual(self.call("GET", "/audit?limit=0").json["count"], 1)
        self.assertGreaterEqual(self.call("GET", "/audit?limit=abc").json["count"], 2)
        self.assertGreaterEqual(self.call("GET", "/audit?limit=99999").json["count"], 2)

    def test_status_has_every_to_dict_field(self):
        req_id = self.submit(details={"version": "2.0"}, requester="timmy")["id"]
        d = self.call("GET", f"/confirm/{req_id}").json
        self.assertLessEqual(TO_DICT_FIELDS, set(d))
        self.assertEqual(d["details"], {"version": "2.0"})
        self.assertEqual(d["status"], "pending")
        self.assertEqual(d["resolved_by"], "")
        self.assertIsNone(d["resolved_at"])
        self.assertIsNone(d["resolved_at_iso"])
        self.assertEqual(d["timeout_seconds"], 300)
        # isoformat() in UTC, which datetime.fromisoformat() reads back even before 3.11.
        created = datetime.datetime.fromisoformat(d["created_at_iso"])
        self.assertEqual(created.utcoffset(), datetime.timedelta(0))
        self.assertAlmostEqual(created.timestamp(), d["created_at"], places=2)

    def test_timeout_is_clamped_like_the_daemon(self):
        for given, expected in ((10, 30), (99999, 3600), ("abc", 300), ("45", 45), (None, 300),
                                (120.9, 120)):
            data = self.submit(timeout_seconds=given)
            self.assertEqual(data["timeout_seconds"], expected, given)
            shown = self.call("GET", f"/confirm/{data['id']}").json
            self.assertEqual(shown["timeout_seconds"], expected, given)

    def test_expiry_happens_at_the_deadline_without_anyone_asking(self):
        data = self.submit(action="quick_restart", description="Restart the cache")
        self.assertEqual(data["timeout_seconds"], 1, "the quick policy's deadline applies")
        started = time.monotonic()
        # Only the native long-poll waits: it answers when the scheduler expires the request,
        # and nothing reads /confirm/{id} before then (the daemon only expired on a read).
        waited = self.call("GET", f"/v1/requests/{data['id']}/wait?timeout=30")
        self.assertEqual(waited.json["status"], "expired", waited)
        self.assertLess(time.monotonic() - started, 25, "expired at its deadline")
        shown = self.call("GET", f"/confirm/{data['id']}").json
        self.assertEqual((shown["status"], shown["resolved_by"]), ("expired", "system:timeout"))
        events = self.call("GET", f"/v1/audit?request={data['id']}").json["events"]
        self.assertIn("request.expired", [e["type"] for e in events])
        late = self.call("POST", f"/confirm/{data['id']}/approve")
        self.assertEqual(late.status, 409, late)
        self.assertEqual(late.json["status"], "expired")

    def test_a_policy_decides_at_once_and_the_answer_says_so(self):
        r = self.call("POST", "/confirm", {"action": "read_logs", "description": "Read logs"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["status"], r.json["resolved_by"]),
                         ("auto_approved", "policy:reads"))
        self.assertEqual(self.call("GET", f"/confirm/{r.json['id']}").json["status"],
                         "auto_approved")
        r = self.call("POST", "/confirm", {"action": "never_do_this", "description": "No"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["status"], r.json["resolved_by"]), ("denied", "policy:never"))
        shown = self.call("GET", f"/confirm/{r.json['id']}").json
        self.assertEqual((shown["status"], shown["countersign_status"]), ("denied", "denied"))
        # The exact reason, beside the daemon's fields.
        self.assertEqual(shown["countersign_reason_code"], "denied_by_policy")

    def test_a_cancelled_request_reads_denied(self):
        req_id = self.submit()["id"]
        cancelled = self.call("POST", f"/v1/requests/{req_id}/cancel", {"by": "ops"})
        self.assertEqual(cancelled.status, 200, cancelled)
        shown = self.call("GET", f"/confirm/{req_id}").json
        self.assertEqual((shown["status"], shown["countersign_status"], shown["resolved_by"]),
                         ("denied", "cancelled", "ops"))

    def test_a_browser_post_from_another_site_is_refused(self):
        req_id = self.submit()["id"]
        for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"},
                        {"Sec-Fetch-Site": "cross-site"}):
            r = self.call("POST", f"/confirm/{req_id}/approve", headers=headers)
            self.assertEqual(r.status, 403, (headers, r))
        self.assertEqual(self.call("GET", f"/confirm/{req_id}").json["status"], "pending")

    def test_separation_of_duties_still_applies(self):
        req_id = self.submit(requester="timmy")["id"]
        r = self.call("POST", f"/confirm/{req_id}/approve", {"approver": "timmy"})
        self.assertEqual(r.status, 403, r)
        self.assertIn("requester", r.json["error"])


class HermesRateLimitTest(HermesServerCase):
    auth = True
    extra_args = ("--hermes-rate-limit", "3")

    def test_rate_limit(self):
        for _ in range(3):
            self.submit(action="test_rate_action")
        r = self.call("POST", "/confirm", {"action": "test_rate_action", "description": "Over"})
        self.assertEqual(r.status, 429, r)
        self.assertEqual(r.json, {"error": "Rate limit exceeded for action 'test_rate_action'",
                                  "remaining": 0, "window_seconds": 3600})
        self.assertGreater(int(r.headers["Retry-After"]), 0)
        self.submit(action="another_rate_action")

    def test_a_grant_auto_approves_without_using_up_the_limit(self):
        granted = self.server.call("POST", "/v1/grants", {
            "action": "safe_action", "scope": "session", "session": "s1", "ttl_seconds": 3600})
        self.assertEqual(granted.status, 201, granted)
        ids = []
        for _ in range(5):  # more than the limit of 3
            r = self.call("POST", "/confirm", {"action": "safe_action",
                                               "description": "This is whitelisted",
                                               "session_key": "s1"})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["status"], "auto_approved")
            self.assertEqual(r.json["message"],
                             "Action 'safe_action' is whitelisted for this session")
            ids.append(r.json["id"])
        # Stored like any other request, approved by the grant.
        shown = self.call("GET", f"/confirm/{ids[0]}").json
        self.assertEqual(shown["status"], "auto_approved")
        self.assertEqual(shown["resolved_by"], "grant:" + granted.json["id"])
        native = self.server.call("GET", f"/v1/requests/{ids[0]}").json
        self.assertEqual(native["status"], "approved")
        # Outside the granted session a person is asked, and the whole limit is still there.
        for _ in range(3):
            self.submit(action="safe_action", session_key="s2")
        r = self.call("POST", "/confirm", {"action": "safe_action", "description": "x",
                                           "session_key": "s2"})
        self.assertEqual(r.status, 429, r)


class HermesAuthTest(HermesServerCase):
    auth = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = cls.server.create_token("alice", "approver")
        cls.bot = cls.server.create_token("bot", "agent")
        cls.outsider = cls.server.create_token("olga", "approver", tenant="other")

    def test_anonymous_approve_is_401(self):
        req_id = self.submit()["id"]
        r = self.call("POST", f"/confirm/{req_id}/approve", {"approver": "alexander"})
        self.assertEqual(r.status, 401, r)
        self.assertIn("approver's token", r.json["error"])
        self.assertEqual(self.call("GET", f"/confirm/{req_id}").json["status"], "pending")

    def test_agent_token_approve_is_403(self):
        req_id = self.submit()["id"]
        r = self.call("POST", f"/confirm/{req_id}/deny", token=self.bot)
        self.assertEqual(r.status, 403, r)
        self.assertIn("error", r.json)

    def test_approver_token_decides_and_is_resolved_by(self):
        req_id = self.submit()["id"]
        r = self.call("POST", f"/confirm/{req_id}/approve", {"approver": "mallory"},
                      token=self.alice)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["status"], r.json["resolved_by"]), ("approved", "alice"))
        shown = self.call("GET", f"/confirm/{req_id}").json
        self.assertEqual((shown["status"], shown["resolved_by"]), ("approved", "alice"))
        self.assertEqual(shown["requester"], "hermes", "anonymous calls act as the agent hermes")

    def test_a_bad_token_is_401_even_with_anonymous_calls_on(self):
        r = self.call("POST", "/confirm", {"action": "a", "description": "b"}, token="cs_wrong")
        self.assertEqual(r.status, 401, r)

    def test_another_tenant_and_another_agent_see_nothing(self):
        req_id = self.submit()["id"]
        self.assertEqual(self.call("GET", f"/confirm/{req_id}", token=self.outsider).status, 404)
        r = self.call("POST", f"/confirm/{req_id}/approve", token=self.outsider)
        self.assertEqual(r.status, 404, r)
        # An agent sees only its own requests: the bot's is not the anonymous agent's.
        bots = self.submit(token=self.bot)["id"]
        self.assertEqual(self.call("GET", f"/confirm/{bots}").status, 404)
        self.assertEqual(self.call("GET", f"/confirm/{bots}", token=self.bot).status, 200)
        self.assertNotIn(bots, [e["id"] for e in self.call("GET", "/audit").json["entries"]])


class HermesRestartTest(unittest.TestCase):
    def test_a_confirmation_survives_a_restart(self):
        config_dir = tempfile.mkdtemp(prefix="countersign-hermes-")
        self.addCleanup(shutil.rmtree, config_dir, True)
        data_dir = tempfile.mkdtemp(prefix="countersign-hermes-data-")
        self.addCleanup(shutil.rmtree, data_dir, True)
        args = ["--config", write_config(config_dir)]
        first = Server(auth=False, data_dir=data_dir, extra_args=args).start()
        try:
            r = first.call("POST", "/confirm", {"action": "deploy_service",
                                                "description": "Ship it"}, token=None)
            self.assertEqual(r.status, 202, r)
            req_id = r.json["id"]
        finally:
            first.stop()
        second = Server(auth=False, data_dir=data_dir, extra_args=args).start()
        self.addCleanup(second.stop)
        shown = second.call("GET", f"/confirm/{req_id}", token=None)
        self.assertEqual(shown.status, 200, shown)
        self.assertEqual(shown.json["status"], "pending")
        self.assertEqual(second.call("GET", "/health", token=None).json["pending_count"], 1)
        r = second.call("POST", f"/confirm/{req_id}/approve", {"approver": "alexander"},
                        token=None)
        self.assertEqual((r.status, r.json["status"]), (200, "approved"), r)
        self.assertEqual(second.call("GET", f"/confirm/{req_id}", token=None).json["status"],
                         "approved")


class HermesOffTest(unittest.TestCase):
    def test_every_route_says_how_to_enable_the_adapter(self):
        with Server(auth=True) as s:
            for method, path in (("POST", "/confirm"), ("POST", "/confirm/x/approve"),
                                 ("POST", "/confirm/x/deny"), ("GET", "/confirm/x"),
                                 ("GET", "/audit"), ("GET", "/health")):
                r = s.call(method, path, {"action": "a", "description": "b"}
                           if method == "POST" else None, token=None)
                self.assertEqual(r.status, 404, (method, path, r))
                self.assertIn("[compat.hermes] enabled = true", r.json["error"])


class HermesTokenRequiredTest(HermesServerCase):
    auth = True
    extra_config = "anonymous = false\n"

    def test_a_call_without_a_token_is_401(self):
        for method, path in (("POST", "/confirm"), ("GET", "/health"), ("GET", "/audit")):
            r = self.call(method, path, {"action": "a", "description": "b"}
                          if method == "POST" else None)
            self.assertEqual(r.status, 401, (path, r))
            self.assertIn("anonymous", r.json["error"])
        bot = self.server.create_token("bot", "agent")
        data = self.submit(token=bot)
        self.assertEqual(self.call("GET", f"/confirm/{data['id']}", token=bot).json["requester"],
                         "bot")


if __name__ == "__main__":
    unittest.main()
