"""The web inbox's Admin pages (/ui/admin) over HTTP, as a browser without JavaScript uses
them: admins only; tokens created (the secret shown once) and revoked; grants revoked; the
outbox's "retry now" (and its API form, POST /v1/outbox/{id}/retry); the policies and the
test form, compared with `countersign policy test`; the anti-CSRF checks; escaping.

Deliveries go to tests/testing/fake_chat.py's webhook route on loopback; it fails them when a
test scripts it to. Retries are configured fast ([outbox] retry_base) and the tests poll the
server's state with a deadline, never waiting a fixed time.
"""

import html
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest

import harness
from test_inbox import Browser, text_of

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testing"))
from fake_chat import Answer, FakeChat  # noqa: E402

WEBHOOK_SECRET = "whsec-0123456789abcdef"
DEADLINE = 30.0  # seconds a polled state may take
HOSTILE = "<script>alert(1)</script>"

CONFIG = """
[outbound]
allow = ["127.0.0.1/32"]

[outbox]
max_attempts = 2
retry_base = "50ms"
retry_max = "100ms"

[[webhook]]
name = "audit-sink"
url = "{url}/hooks/audit"
secret = "env:TEST_WEBHOOK_SECRET"
events = ["request.created"]

[groups]
sre = ["alice", "bob"]

[[policy]]
name = "prod-deploys"
match = {{ action = "deploy_*" }}
quorum = 2
approvers = ["group:sre"]
timeout = "15m"
on_timeout = "deny"

[[policy]]
name = "ci-reads"
match = {{ action = "read_*", requester = "ci-*" }}
decision = "approve"
"""

# Every admin page, and every admin POST with a well-formed body (ids filled in by the test).
PAGES = ["/ui/admin", "/ui/admin/tokens", "/ui/admin/grants", "/ui/admin/outbox",
         "/ui/admin/outbox?state=failed", "/ui/admin/policies"]


def report_of(page):
    """The policy test's result on `page` as {label: value}."""
    section = page.body.split('id="report-heading"', 1)[1]
    pairs = re.findall(r"<dt>(.*?)</dt><dd><bdi>(.*?)</bdi></dd>", section)
    return {html.unescape(k): html.unescape(v) for k, v in pairs}


class InboxAdminTest(unittest.TestCase):
    def setUp(self):
        self.fake = FakeChat().start()
        self.addCleanup(self.fake.stop)
        self.dir = tempfile.TemporaryDirectory(prefix="countersign-admin-")
        self.addCleanup(self.dir.cleanup)
        self.config = os.path.join(self.dir.name, "countersign.toml")
        with open(self.config, "w") as f:
            f.write(CONFIG.format(url=self.fake.url))
        self.env = {"TEST_WEBHOOK_SECRET": WEBHOOK_SECRET}
        self.server = harness.Server(extra_args=["--config", self.config], env=self.env)
        self.server.start()
        self.addCleanup(self.server.cleanup)
        self.agent = self.token("ci-bot", "agent")
        self.alice = self.token("alice", "approver")
        self.admin = Browser(self.server)
        self.admin.sign_in(self.server.admin_token)

    # -- helpers -------------------------------------------------------------------------------
    def token(self, name, role, groups=()):
        r = self.server.call("POST", "/v1/tokens", {"name": name, "role": role,
                                                    "groups": list(groups)})
        self.assertEqual(r.status, 201, r)
        return r.json

    def signed_in(self, who):
        browser = Browser(self.server)
        browser.sign_in(who["token"])
        return browser

    def tokens(self):
        r = self.server.call("GET", "/v1/tokens")
        self.assertEqual(r.status, 200, r)
        return {t["id"]: t for t in r.json["tokens"]}

    def grants(self):
        r = self.server.call("GET", "/v1/grants")
        self.assertEqual(r.status, 200, r)
        return {g["id"]: g for g in r.json["grants"]}

    def outbox(self, request_id):
        r = self.server.call("GET", "/v1/outbox?request=" + request_id)
        self.assertEqual(r.status, 200, r)
        return r.json["outbox"]

    def wait_row(self, request_id, predicate):
        deadline = time.monotonic() + DEADLINE
        while True:
            rows = self.outbox(request_id)
            if rows and predicate(rows[0]):
                return rows[0]
            if time.monotonic() > deadline:
                self.fail(f"the outbox row never reached the expected state: {rows}")
            time.sleep(0.02)  # polling the server's state, not waiting for time to pass

    def failed_delivery(self, title="Deploy v2.0"):
        """A request whose webhook delivery was given up (two 503s, max_attempts 2)."""
        self.fake.script("/hooks/audit", Answer(503, b"down"), Answer(503, b"down"))
        req = self.server.create_request(token=self.agent["token"], title=title,
                                         action="restart_worker")
        row = self.wait_row(req["id"], lambda r: r["state"] == "failed")
        self.assertEqual(row["attempts"], 2)
        return req, row

    def grant(self, action="restart_worker"):
        r = self.server.call("POST", "/v1/grants", {"action": action, "scope": "tenant",
                                                    "ttl_seconds": 3600},
                             token=self.alice["token"])
        self.assertEqual(r.status, 201, r)
        return r.json

    def posts(self, token_id, grant_id, delivery_id):
        return [("/ui/admin/tokens", [("name", "intruder"), ("role", "admin")]),
                (f"/ui/admin/tokens/{token_id}/revoke", [("confirm", "1")]),
                (f"/ui/admin/grants/{grant_id}/revoke", []),
                (f"/ui/admin/outbox/{delivery_id}/retry", []),
                ("/ui/admin/policies/test", [("action", "deploy_x")])]

    def assert_nothing_changed(self, tokens, grant, row):
        self.assertEqual(self.tokens(), tokens, "no token was created or revoked")
        self.assertIsNone(self.grants()[grant["id"]].get("revoked_at"), "the grant stands")
        [now] = self.outbox(row["request_id"])
        self.assertEqual((now["state"], now["attempts"]), ("failed", 2), "not retried")

    # -- who may ---------------------------------------------------------------------------------
    def test_approvers_and_agents_get_403_on_every_admin_page_and_post_and_nothing_changes(self):
        _, row = self.failed_delivery()
        grant = self.grant()
        before = self.tokens()
        for who in (self.alice, self.agent):
            browser = self.signed_in(who)
            for path in PAGES:
                r = browser.get(path)
                self.assertEqual(r.status, 403, (who["name"], path, r))
                self.assertIn("Admins only", text_of(r))
            browser.get("/ui/")  # a page with a csrf value of its own
            for path, fields in self.posts(self.alice["id"], grant["id"], row["delivery_id"]):
                r = browser.post(path, fields)
                self.assertEqual(r.status, 403, (who["name"], path, r))
                self.assertIn("Admins only", text_of(r))
        self.assert_nothing_changed(before, grant, row)
        # The header shows Admin to admins only.
        self.assertNotIn("/ui/admin", self.signed_in(self.alice).get("/ui/").body)
        self.assertIn('href="/ui/admin"', self.admin.get("/ui/").body)

    def test_without_a_session_the_admin_pages_send_you_to_sign_in(self):
        for path in PAGES:
            r = Browser(self.server).get(path)
            self.assertEqual((r.status, r.headers["Location"]), (303, "/ui/login"), path)

    def test_each_post_without_the_csrf_value_or_from_another_site_is_403_and_changes_nothing(self):
        _, row = self.failed_delivery()
        grant = self.grant()
        before = self.tokens()
        self.admin.get("/ui/admin")
        for path, fields in self.posts(self.alice["id"], grant["id"], row["delivery_id"]):
            for how in ("no csrf", "foreign origin"):
                if how == "no csrf":
                    r = self.admin.post(path, fields, csrf=False)
                else:
                    r = self.admin.post(path, fields, origin="https://evil.example")
                self.assertEqual(r.status, 403, (path, how, r))
                self.assertIn("Nothing was changed", text_of(r), (path, how))
        self.assert_nothing_changed(before, grant, row)
        r = self.server.call("GET", "/v1/requests?limit=1", token=self.alice["token"])
        self.assertEqual(r.status, 200, "alice's token still works")

    # -- the overview --------------------------------------------------------------------------
    def test_the_overview_counts_and_shows_each_channels_health_from_its_outbox_rows(self):
        page = self.admin.get("/ui/admin")
        self.assertEqual(page.status, 200, page)
        text = text_of(page)
        self.assertIn("Tokens 3 active, 0 revoked", text)  # admin, ci-bot, alice
        self.assertIn("audit-sink webhook no deliveries yet never never", text)

        ok = self.server.create_request(token=self.agent["token"], title="Fine")
        self.wait_row(ok["id"], lambda r: r["state"] == "delivered")
        self.assertIn("audit-sink webhook ok", text_of(self.admin.get("/ui/admin")))

        _, row = self.failed_delivery()
        self.grant()
        text = text_of(self.admin.get("/ui/admin"))
        self.assertIn("Active grants 1", text)
        self.assertIn("Outbox failed 1", text)
        self.assertIn("audit-sink webhook failing: a delivery was given up", text)
        self.assertIn("gave up after 2 attempts", text)

    # -- tokens --------------------------------------------------------------------------------
    def test_a_created_token_is_shown_once_works_and_revoking_it_locks_it_out(self):
        page = self.admin.get("/ui/admin/tokens")
        self.assertEqual(page.status, 200, page)
        for t in self.tokens().values():
            self.assertIn(t["id"], page.body)
        r = self.admin.post("/ui/admin/tokens", [("name", "deploy-bot"), ("role", "agent"),
                                                 ("groups", "ci, deployers")])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers["Cache-Control"], "no-store")
        self.assertIn("only time it is shown", text_of(r))
        secret = re.search(r'id="secret"[^>]*value="([^"]+)"', r.body).group(1)
        [created] = [t for t in self.tokens().values() if t["name"] == "deploy-bot"]
        self.assertEqual((created["role"], created["groups"]), ("agent", ["ci", "deployers"]))

        made = self.server.create_request(token=secret, title="From the new token")
        self.assertEqual(made["requester"], "deploy-bot", "the secret works against the API")
        listing = self.admin.get("/ui/admin/tokens")
        self.assertIn("deploy-bot", listing.body)
        self.assertNotIn(secret, listing.body, "the list never shows a secret")

        # Revoking needs the confirmation box.
        r = self.admin.post(f"/ui/admin/tokens/{created['id']}/revoke", [])
        self.assertEqual(r.status, 422, r)
        self.assertIn("tick the box", text_of(r))
        self.assertIsNone(self.tokens()[created["id"]].get("revoked_at"))
        r = self.admin.post(f"/ui/admin/tokens/{created['id']}/revoke", [("confirm", "1")])
        self.assertEqual((r.status, r.headers["Location"]),
                         (303, f"/ui/admin/tokens?revoked={created['id']}"), r)
        self.assertIn(f"Token {created['id']} was revoked", text_of(self.admin.get(
            r.headers["Location"])))
        r = self.server.call("POST", "/v1/requests", {"action": "x", "title": "y"}, token=secret)
        self.assertEqual(r.status, 401, "the API refuses the revoked token")

    def test_revoking_a_signed_in_token_signs_its_session_out(self):
        other = self.token("ops", "admin")
        session = self.signed_in(other)
        self.assertEqual(session.get("/ui/admin").status, 200)
        r = self.admin.post(f"/ui/admin/tokens/{other['id']}/revoke", [("confirm", "1")])
        self.assertEqual(r.status, 303, r)
        r = session.get("/ui/admin")
        self.assertEqual((r.status, r.headers["Location"]), (303, "/ui/login?ended=1"))
        # Revoking one's own token signs oneself out as well.
        me = self.token("me", "admin")
        mine = self.signed_in(me)
        page = mine.get("/ui/admin/tokens")
        self.assertIn("and sign me out", page.body)
        r = mine.post(f"/ui/admin/tokens/{me['id']}/revoke", [("confirm", "1")])
        self.assertEqual(r.status, 303, r)
        r = mine.get(r.headers["Location"])
        self.assertEqual((r.status, r.headers["Location"]), (303, "/ui/login?ended=1"))

    def test_a_refused_token_says_why_and_creates_nothing(self):
        before = self.tokens()
        cases = [([("name", ""), ("role", "agent")], "name of 1 to 128"),
                 ([("name", "x" * 129), ("role", "agent")], "name of 1 to 128"),
                 ([("name", "bot"), ("role", "root")], "Choose a role"),
                 ([("name", "bot"), ("role", "agent"),
                   ("groups", " ".join(f"g{i}" for i in range(21)))], "at most 20 groups"),
                 ([("name", "two words"), ("role", "agent")], "without spaces")]
        for fields, why in cases:
            r = self.admin.post("/ui/admin/tokens", fields)
            self.assertEqual(r.status, 422, (fields, r))
            self.assertIn(why, text_of(r), fields)
            self.assertNotIn('id="secret"', r.body)
        self.assertEqual(self.tokens(), before)

    def test_hostile_names_are_escaped(self):
        r = self.admin.post("/ui/admin/tokens", [("name", HOSTILE), ("role", "approver"),
                                                 ("groups", HOSTILE)])
        self.assertEqual(r.status, 200, r)
        for page in (r, self.admin.get("/ui/admin/tokens")):
            self.assertNotIn(HOSTILE, page.body)
            self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", page.body)
        r = self.admin.post("/ui/admin/policies/test", [("action", HOSTILE),
                                                        ("requester", HOSTILE)])
        self.assertEqual(r.status, 200, r)
        self.assertNotIn(HOSTILE, r.body)
        self.assertIn("&lt;script&gt;", r.body)

    # -- grants --------------------------------------------------------------------------------
    def test_a_revoked_grant_no_longer_approves_by_itself(self):
        grant = self.grant()
        first = self.server.create_request(token=self.agent["token"], action="restart_worker",
                                           title="Restart 1")
        self.assertEqual(first["status"], "approved", "the grant approves at once")
        page = self.admin.get("/ui/admin/grants")
        self.assertEqual(page.status, 200, page)
        self.assertIn(grant["id"], page.body)
        self.assertIn("restart_worker", text_of(page))
        self.assertIn("every requester", text_of(page))
        r = self.admin.post(f"/ui/admin/grants/{grant['id']}/revoke", [])
        self.assertEqual((r.status, r.headers["Location"]),
                         (303, f"/ui/admin/grants?revoked={grant['id']}"), r)
        page = self.admin.get(r.headers["Location"])
        self.assertIn("was revoked", text_of(page))
        self.assertIn("No grant is active", text_of(page))
        self.assertIsNotNone(self.grants()[grant["id"]].get("revoked_at"))
        second = self.server.create_request(token=self.agent["token"], action="restart_worker",
                                            title="Restart 2")
        self.assertEqual(second["status"], "pending", "asked again once the grant is revoked")
        r = self.admin.post(f"/ui/admin/grants/{grant['id']}/revoke", [])
        self.assertEqual(r.status, 404, "a revoked grant cannot be revoked again")

    def test_a_requester_grant_is_listed_with_its_requester(self):
        r = self.server.call("POST", "/v1/grants", {"action": "restart_worker",
                                                    "scope": "requester", "requester": "ci-bot",
                                                    "ttl_seconds": 3600})
        self.assertEqual(r.status, 201, r)
        text = text_of(self.admin.get("/ui/admin/grants"))
        self.assertIn("requester ci-bot", text)
        self.assertNotIn("every requester", text)

    # -- the outbox ----------------------------------------------------------------------------
    def test_retry_now_delivers_a_given_up_row_once_the_receiver_answers(self):
        req, row = self.failed_delivery()
        page = self.admin.get("/ui/admin/outbox?state=failed")
        self.assertEqual(page.status, 200, page)
        self.assertIn(row["delivery_id"], page.body)
        self.assertIn("gave up after 2 attempts", text_of(page))
        self.assertIn(f'/ui/admin/outbox/{row["delivery_id"]}/retry', page.body)
        self.assertEqual(len(self.fake.requests(path="/hooks/audit")), 2)

        # The fake's script is used up: it answers 200 from now on.
        r = self.admin.post(f"/ui/admin/outbox/{row['delivery_id']}/retry",
                            [("state", "failed")])
        self.assertEqual(r.status, 303, r)
        self.assertEqual(r.headers["Location"],
                         f"/ui/admin/outbox?state=failed&retried={row['delivery_id']}")
        got = self.fake.wait_for(3, path="/hooks/audit")
        self.assertEqual(got[2].header("X-Countersign-Delivery"), row["delivery_id"])
        done = self.wait_row(req["id"], lambda r: r["state"] == "delivered")
        self.assertEqual(done["attempts"], 1, "a given-up row starts its attempts over")
        audit = self.server.audit(req["id"])
        [retried] = [e for e in audit if e["type"] == "outbox.retried"]
        self.assertEqual(retried["actor"], "admin")
        self.assertEqual(retried["data"]["delivery_id"], row["delivery_id"])

        # A delivered row is not retried.
        r = self.admin.post(f"/ui/admin/outbox/{row['delivery_id']}/retry", [])
        self.assertEqual(r.status, 409, r)
        self.assertIn("delivered already", text_of(r))
        self.assertEqual(len(self.fake.requests(path="/hooks/audit")), 3)

    def test_the_outbox_page_filters_by_state_and_refuses_an_unknown_one(self):
        ok = self.server.create_request(token=self.agent["token"], title="Fine")
        self.wait_row(ok["id"], lambda r: r["state"] == "delivered")
        _, failed = self.failed_delivery()
        delivered = self.outbox(ok["id"])[0]["delivery_id"]
        page = self.admin.get("/ui/admin/outbox")
        self.assertIn(delivered, page.body)
        self.assertIn(failed["delivery_id"], page.body)
        page = self.admin.get("/ui/admin/outbox?state=failed")
        self.assertNotIn(delivered, page.body)
        self.assertIn(failed["delivery_id"], page.body)
        page = self.admin.get("/ui/admin/outbox?state=delivered")
        self.assertIn(delivered, page.body)
        self.assertNotIn(f'{delivered}/retry', page.body, "nothing to retry on a delivered row")
        r = self.admin.get("/ui/admin/outbox?state=" + "bogus")
        self.assertEqual(r.status, 400, r)
        self.assertIn("Unknown state", text_of(r))

    def test_the_api_retries_a_failed_delivery_for_admins_only(self):
        req, row = self.failed_delivery()
        path = f"/v1/outbox/{row['delivery_id']}/retry"
        for who in (self.agent, self.alice):
            r = self.server.call("POST", path, token=who["token"])
            self.assertEqual(r.status, 403, r)
        self.assertEqual(self.outbox(req["id"])[0]["state"], "failed")
        r = self.server.call("POST", "/v1/outbox/dlv_01JD3Z6Q8W9K4M2N7P5R0S1T2V/retry")
        self.assertEqual(r.status, 404, r)
        r = self.server.call("POST", path)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["delivery_id"], r.json["state"], r.json["attempts"]),
                         (row["delivery_id"], "pending", 0))
        done = self.wait_row(req["id"], lambda r: r["state"] == "delivered")
        self.assertEqual(done["attempts"], 1)
        r = self.server.call("POST", path)
        self.assertEqual(r.status, 409, r)

    # -- policies ------------------------------------------------------------------------------
    def test_the_policies_page_lists_the_config_and_tests_like_the_cli(self):
        page = self.admin.get("/ui/admin/policies")
        self.assertEqual(page.status, 200, page)
        text = text_of(page)
        for expected in ("prod-deploys", "ci-reads", "action deploy_*", "requester ci-*",
                         "group:sre (alice, bob; or a token in group sre)", "15m, then deny",
                         "approve automatically", "sre alice, bob", "default built-in"):
            self.assertIn(expected, text)

        cases = [("deploy_production", "ci-bot", ""), ("read_logs", "ci-bot", ""),
                 ("read_logs", "ci-bot", "high"), ("restart_worker", "alice", "")]
        for action, requester, risk in cases:
            with self.subTest(action=action, requester=requester, risk=risk):
                r = self.admin.post("/ui/admin/policies/test", [
                    ("action", action), ("requester", requester), ("tenant", "default"),
                    ("risk", risk)])
                self.assertEqual(r.status, 200, r)
                shown = report_of(r)
                printed = self.cli_report(action, requester, risk)
                for key in ("policy", "why", "high risk", "decision", "quorum",
                            "deny threshold", "approvers", "timeout", "notify", "reminders"):
                    self.assertEqual(shown.get(key), printed.get(key), key)

        r = self.admin.post("/ui/admin/policies/test", [("action", "")])
        self.assertEqual(r.status, 422, r)
        self.assertIn("Give an action", text_of(r))
        r = self.admin.post("/ui/admin/policies/test", [("action", "x"), ("risk", "extreme")])
        self.assertEqual(r.status, 422, r)
        self.assertIn("none, normal or high", text_of(r))

    def cli_report(self, action, requester, risk):
        args = [harness.BIN, "policy", "test", "--config", self.config, "--action", action,
                "--requester", requester, "--tenant", "default"]
        if risk:
            args += ["--risk", risk]
        env = {k: v for k, v in os.environ.items() if not k.startswith("COUNTERSIGN_")}
        env.update(self.env)
        run = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(run.returncode, 0, run.stderr)
        out = {}
        for line in run.stdout.splitlines():
            label, _, value = line.partition(":")
            out[label.strip()] = value.strip()
        return out


if __name__ == "__main__":
    unittest.main()
