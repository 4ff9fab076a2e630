"""One-click links (GET/POST /l/{token}) against the real server.

Links are minted with `countersign link` against the server's own data directory, exactly as
an admin would. A GET only renders; the form's POST (with the anti-CSRF cookie and field)
decides, as the link's recipient, under the same rules as the API.
"""

import html
import os
import re
import subprocess
import tempfile
import unittest
import urllib.parse

import harness

CLI_TIMEOUT = 60  # seconds; a safety net so a hung CLI fails the test instead of the run
FORM = "application/x-www-form-urlencoded"
CSRF_FIELD = re.compile(r'name="csrf" value="([A-Za-z0-9_-]+)"')


def clean_env():
    """The caller's environment without any COUNTERSIGN_* variable."""
    return {k: v for k, v in os.environ.items() if not k.startswith("COUNTERSIGN_")}


def run_cli(*args):
    return subprocess.run([harness.BIN] + list(args), env=clean_env(), capture_output=True,
                          text=True, timeout=CLI_TIMEOUT)


class LinkTestCase(harness.ServerTestCase):
    extra_args = ()

    def setUp(self):
        super().setUp()
        s = self.server
        self.agent = s.create_token("ci-bot", "agent")
        self.alice = s.create_token("alice", "approver", groups=["sre"])
        self.bob = s.create_token("bob", "approver")

    # -- helpers -----------------------------------------------------------------------------
    def create(self, **fields):
        return self.server.create_request(token=self.agent, **fields)

    def mint(self, request_id, choice="approve", recipient="alice", *extra):
        r = run_cli("link", "--data-dir", self.server.data_dir, "--request", request_id,
                    "--choice", choice, "--as", recipient, "--public-url", self.server.url,
                    *extra)
        self.assertEqual(r.returncode, 0, r.stderr)
        url = r.stdout.strip()
        self.assertTrue(url.startswith(self.server.url + "/l/"), url)
        return urllib.parse.urlsplit(url).path

    def get(self, path, cookie=None):
        headers = {"Cookie": cookie} if cookie else {}
        return self.server.call("GET", path, token=None, headers=headers)

    def open_form(self, path):
        """GETs the confirm page; returns (cookie header to send back, csrf field value)."""
        page = self.get(path)
        self.assertEqual(page.status, 200, page)
        set_cookie = page.headers["Set-Cookie"]
        cookie = set_cookie.split(";", 1)[0]
        match = CSRF_FIELD.search(page.body)
        self.assertIsNotNone(match, page.body)
        return cookie, match.group(1)

    def post(self, path, fields, cookie=None, origin=None):
        headers = {}
        if cookie:
            headers["Cookie"] = cookie
        if origin:
            headers["Origin"] = origin
        return self.server.call("POST", path, token=None, headers=headers,
                                raw=urllib.parse.urlencode(fields).encode(), content_type=FORM)

    def submit(self, path, comment="", origin=None):
        """Opens the link and presses its button, as a browser would."""
        cookie, csrf = self.open_form(path)
        return self.post(path, {"csrf": csrf, "comment": comment}, cookie=cookie,
                         origin=origin or self.server.url)

    def assert_page(self, response, status, *phrases):
        self.assertEqual(response.status, status, response)
        self.assertTrue(response.headers["Content-Type"].startswith("text/html"), response)
        text = html.unescape(response.body)
        for phrase in phrases:
            self.assertIn(phrase, text)
        self.assertNotIn("Traceback", text)


class LinkPageTest(LinkTestCase):
    def test_get_renders_the_confirm_page_and_sets_the_csrf_cookie(self):
        req = self.create(title="Deploy v2.0", details={"env": "prod"},
                          arguments={"ref": "v2.0", "hosts": ["a", "b"]})
        page = self.get(self.mint(req["id"]))
        self.assert_page(page, 200, "Deploy v2.0", "deploy_production", "ci-bot", '"ref": "v2.0"',
                         "env", "prod", "Approve", "Comment", "alice")
        self.assertIn('<html lang="en">', page.body)
        self.assertIn('<form method="post">', page.body)
        self.assertNotIn("<script", page.body)
        self.assertEqual(page.headers["Cache-Control"], "no-store")
        self.assertEqual(page.headers["Referrer-Policy"], "no-referrer")
        self.assertEqual(page.headers["X-Content-Type-Options"], "nosniff")
        self.assertIn("default-src 'none'", page.headers["Content-Security-Policy"])
        self.assertIn("frame-ancestors 'none'", page.headers["Content-Security-Policy"])
        cookie = page.headers["Set-Cookie"]
        self.assertRegex(cookie, r"^cs_link_csrf=[A-Za-z0-9_-]{43}; Path=/l/; HttpOnly; "
                                 r"SameSite=Strict$")
        value = cookie.split(";")[0].split("=", 1)[1]
        self.assertEqual(CSRF_FIELD.search(page.body).group(1), value)

    def test_a_get_storm_leaves_the_request_pending_and_the_audit_log_unchanged(self):
        req = self.create()
        path = self.mint(req["id"])
        events = self.server.audit(req["id"])
        conn = self.server.connection()
        try:
            for _ in range(50):
                r = self.server.call("GET", path, token=None, conn=conn)
                self.assertEqual(r.status, 200)
        finally:
            conn.close()
        self.assertEqual(self.server.get_request(req["id"])["status"], "pending")
        self.assertEqual(self.server.audit(req["id"]), events)

    def test_html_in_the_request_is_escaped(self):
        req = self.create(title="<script>alert(1)</script>",
                          details={"<b>k</b>": "<img src=x onerror=alert(2)>"},
                          arguments={"cmd": "</pre><script>alert(3)</script>"})
        page = self.get(self.mint(req["id"]))
        self.assertEqual(page.status, 200, page)
        self.assertNotIn("<script", page.body)
        self.assertNotIn("<img", page.body)
        self.assertNotIn("<b>k", page.body)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", page.body)

    def test_high_risk_requests_carry_a_notice(self):
        normal = self.create(action="restart_service")
        self.assertEqual(normal["risk"], "normal")
        self.assertNotIn("High risk", self.get(self.mint(normal["id"])).body)
        high = self.create(action="restart_service", risk="high")
        self.assertEqual(high["risk"], "high")
        self.assert_page(self.get(self.mint(high["id"])), 200, "High risk")

    def test_a_question_link_asks_for_an_answer_and_records_it(self):
        req = self.create(kind="question", title="Which slot?")
        path = self.mint(req["id"], "answer")
        cookie, csrf = self.open_form(path)
        self.assertIn('name="answer"', self.get(path).body)
        r = self.post(path, {"csrf": csrf, "answer": "blue"}, cookie=cookie)
        self.assert_page(r, 200, "The request is answered")
        self.assertEqual(self.server.get_request(req["id"])["answer"], "blue")


class LinkDecisionTest(LinkTestCase):
    def test_post_with_cookie_and_field_decides_as_the_recipient(self):
        req = self.create()
        r = self.submit(self.mint(req["id"]), comment="ship it & go")
        self.assert_page(r, 200, "Your decision was recorded", "Approve", "alice",
                         "The request is approved")
        got = self.server.get_request(req["id"])
        self.assertEqual(got["status"], "approved")
        self.assertEqual(got["resolved_by"], ["alice"])
        self.assertEqual(got["decisions"][0]["by"], "alice")
        self.assertEqual(got["decisions"][0]["comment"], "ship it & go")
        types = [e["type"] for e in self.server.audit(req["id"])]
        self.assertIn("decision.recorded", types)
        self.assertIn("request.resolved", types)

    def test_a_deny_link_denies(self):
        req = self.create()
        r = self.submit(self.mint(req["id"], "deny"))
        self.assert_page(r, 200, "Deny", "The request is denied")
        self.assertEqual(self.server.get_request(req["id"])["status"], "denied")

    def test_post_without_the_cookie_or_with_another_value_is_403(self):
        req = self.create()
        path = self.mint(req["id"])
        cookie, csrf = self.open_form(path)
        cases = [
            self.post(path, {"csrf": csrf}),                                  # no cookie
            self.post(path, {"comment": "x"}, cookie=cookie),                 # no field
            self.post(path, {"csrf": "A" * 43}, cookie=cookie),               # mismatch
            self.post(path, {"csrf": csrf}, cookie=cookie, origin="https://evil.example"),
        ]
        for r in cases:
            self.assert_page(r, 403, "This form has expired, open the link again")
        plain = self.server.call("POST", path, token=None, headers={"Cookie": cookie},
                                 raw=f"csrf={csrf}".encode(), content_type="text/plain")
        self.assert_page(plain, 403, "This form has expired")
        self.assertEqual(self.server.get_request(req["id"])["status"], "pending")
        self.assertEqual(self.server.get_request(req["id"])["decisions"], [])

    def test_a_tampered_token_is_400(self):
        req = self.create()
        path = self.mint(req["id"])
        token = path[len("/l/"):]
        payload, mac = token.split(".")
        flipped = payload[:-3] + ("A" if payload[-3] != "A" else "B") + payload[-2:]
        for bad in (flipped + "." + mac, payload + "." + mac[::-1], token[:-5], "not-a-token"):
            self.assert_page(self.get("/l/" + bad), 400, "This link is not valid")
        cookie, csrf = self.open_form(path)
        r = self.post("/l/" + flipped + "." + mac, {"csrf": csrf}, cookie=cookie)
        self.assert_page(r, 400, "This link is not valid")
        self.assertEqual(self.server.get_request(req["id"])["status"], "pending")

    def test_an_expired_link_is_410_and_shows_the_state(self):
        req = self.create()
        path = self.mint(req["id"], "approve", "alice", "--expires-at", "2020-01-01T00:00:00Z")
        self.assert_page(self.get(path), 410, "This link has expired", "still pending")
        cookie, csrf = self.open_form(self.mint(req["id"]))  # a cookie from a live link
        r = self.post(path, {"csrf": csrf}, cookie=cookie)
        self.assert_page(r, 410, "This link has expired")
        self.assertEqual(self.server.get_request(req["id"])["status"], "pending")

    def test_the_requester_cannot_decide_through_a_link(self):
        req = self.create()
        r = self.submit(self.mint(req["id"], "approve", "ci-bot"))
        self.assert_page(r, 403, "You cannot decide this request",
                         "the requester may not decide its own request")
        self.assertEqual(self.server.get_request(req["id"])["status"], "pending")

    def test_a_recipient_outside_the_approvers_is_403_and_a_group_member_decides(self):
        req = self.create(approvers=["group:sre"])
        r = self.submit(self.mint(req["id"], "approve", "bob"))
        self.assert_page(r, 403, "bob is not an approver of this request")
        self.assertEqual(self.server.get_request(req["id"])["status"], "pending")
        # alice is in group sre through her token: a link for her counts the same way.
        ok = self.submit(self.mint(req["id"], "approve", "alice"))
        self.assert_page(ok, 200, "The request is approved")

    def test_a_resolved_request_shows_its_state_on_get_and_refuses_post_with_409(self):
        req = self.create()
        decided = self.server.call("POST", f"/v1/requests/{req['id']}/decisions",
                                   {"choice": "approve"}, token=self.bob)
        self.assertEqual(decided.status, 200, decided)
        path = self.mint(req["id"], "deny", "alice")
        self.assert_page(self.get(path), 409, "already been decided", "approved", "bob")
        cookie, csrf = self.open_form(self.mint(self.create()["id"]))
        r = self.post(path, {"csrf": csrf}, cookie=cookie, origin=self.server.url)
        self.assert_page(r, 409, "already been decided", "decided by bob")
        self.assertEqual(self.server.get_request(req["id"])["status"], "approved")

    def test_an_unknown_request_is_404(self):
        path = self.mint("req_01JD3Z6Q8W9K4M2N7P5R0S1T2V")
        self.assert_page(self.get(path), 404, "Request not found")


def grant_buttons(page):
    """The (value, label) of each `grant` button of a confirm page, in order."""
    return [(value, html.unescape(label)) for value, label in re.findall(
        r'<button type="submit" name="grant" value="([^"]*)"[^>]*><bdi>([^<]*)</bdi></button>',
        page.body)]


class LinkGrantTest(LinkTestCase):
    """Standing approvals from the link page: the approve link's page offers the request's
    grant_options (the default policy's: this session for 1 h, this requester for 30 days),
    the POST sends the chosen option's value, and the server takes the scope and ttl from the
    stored request."""

    SESSION_OPTION = "session:3600"
    ALWAYS_OPTION = "requester:2592000"

    def create(self, **fields):
        # deploy_production would be high risk (the built-in list matches *production*).
        fields.setdefault("action", "deploy_staging")
        return super().create(**fields)

    def grants(self):
        got = self.server.call("GET", "/v1/grants", token=self.alice)
        self.assertEqual(got.status, 200, got)
        return got.json["grants"]

    def press(self, path, grant):
        cookie, csrf = self.open_form(path)
        return self.post(path, {"csrf": csrf, "grant": grant}, cookie=cookie,
                         origin=self.server.url)

    def test_the_approve_page_offers_three_ways_and_a_high_risk_request_none(self):
        req = self.create(session="run-7")
        self.assertEqual(req["grant_options"], [{"scope": "session", "ttl_seconds": 3600},
                                                {"scope": "requester", "ttl_seconds": 2592000}])
        page = self.get(self.mint(req["id"]))
        self.assertEqual(page.status, 200, page)
        self.assertEqual(grant_buttons(page), [
            ("", "Approve once"),
            (self.SESSION_OPTION, "Approve for this session (1 h)"),
            (self.ALWAYS_OPTION, "Always approve deploy_staging for ci-bot (30 days)")])
        self.assertNotIn("<script", page.body)
        # A deny link has its one button; a request without a session has no session option.
        self.assertEqual(grant_buttons(self.get(self.mint(req["id"], "deny"))), [])
        no_session = self.create()
        self.assertEqual([v for v, _ in grant_buttons(self.get(self.mint(no_session["id"])))],
                         ["", self.ALWAYS_OPTION])
        high = self.create(session="run-7", risk="high")
        self.assertEqual(high["grant_options"], [])
        page = self.get(self.mint(high["id"]))
        self.assert_page(page, 200, "High risk")
        self.assertEqual(grant_buttons(page), [])
        self.assertNotIn('name="grant"', page.body)

    def test_approve_for_this_session_grants_and_the_next_request_there_is_approved_by_it(self):
        req = self.create(session="run-7")
        r = self.press(self.mint(req["id"]), self.SESSION_OPTION)
        self.assert_page(r, 200, "Your decision was recorded", "The request is approved",
                         "Also granted: deploy_staging is approved without asking in "
                         "session run-7 until")
        [grant] = self.grants()
        self.assertEqual((grant["scope"], grant["session"], grant["action"], grant["created_by"],
                          grant["request_id"]),
                         ("session", "run-7", "deploy_staging", "alice", req["id"]))
        self.assertEqual(grant["revoked_at"], None)
        got = self.server.get_request(req["id"])
        self.assertEqual((got["status"], got["reason_code"]), ("approved", "approved"))

        again = self.create(session="run-7")
        self.assertEqual((again["status"], again["reason_code"]), ("approved", "approved_by_grant"))
        self.assertEqual(again["resolved_by"], ["grant:" + grant["id"]])
        elsewhere = self.create(session="run-8")
        self.assertEqual(elsewhere["status"], "pending")

    def test_always_approve_grants_the_requester_in_every_session_and_no_one_else(self):
        req = self.create(session="run-7")
        r = self.press(self.mint(req["id"]), self.ALWAYS_OPTION)
        self.assert_page(r, 200, "The request is approved", "Also granted: deploy_staging is "
                         "approved without asking whenever ci-bot asks for it until")
        [grant] = self.grants()
        self.assertEqual((grant["scope"], grant["requester"], grant["session"]),
                         ("requester", "ci-bot", ""))
        another_session = self.create(session="run-99")
        self.assertEqual((another_session["status"], another_session["reason_code"]),
                         ("approved", "approved_by_grant"))
        no_session = self.create()
        self.assertEqual(no_session["reason_code"], "approved_by_grant")
        other_bot = self.server.create_token("other-bot", "agent")
        theirs = self.server.create_request(token=other_bot, action="deploy_staging",
                                            session="run-7")
        self.assertEqual(theirs["status"], "pending")
        other_action = self.create(session="run-7", action="restart_service")
        self.assertEqual(other_action["status"], "pending")

    def test_a_forged_or_misplaced_option_is_refused_and_decides_and_grants_nothing(self):
        req = self.create(session="run-7")
        path = self.mint(req["id"])
        for forged in ("session:7200", "requester:99999999", "tenant:3600", "session",
                       "forever:1", "session:3600 "):
            r = self.press(path, forged)
            self.assert_page(r, 422, "This choice is not offered", "Nothing was recorded",
                             "does not offer the standing approval")
        # A grant never goes with a deny, nor with a high-risk approval.
        self.assert_page(self.press(self.mint(req["id"], "deny"), self.SESSION_OPTION), 422,
                         "This choice is not offered")
        high = self.create(session="run-7", risk="high")
        self.assert_page(self.press(self.mint(high["id"]), self.SESSION_OPTION), 422,
                         "This choice is not offered")
        for r in (req, high):
            got = self.server.get_request(r["id"])
            self.assertEqual((got["status"], got["decisions"]), ("pending", []))
        self.assertEqual(self.grants(), [])
        types = {e["type"] for e in self.server.audit(req["id"])}
        self.assertNotIn("grant.created", types)
        self.assertNotIn("decision.recorded", types)

    def test_approve_once_grants_nothing(self):
        req = self.create(session="run-7")
        r = self.press(self.mint(req["id"]), "")
        self.assert_page(r, 200, "The request is approved")
        self.assertNotIn("Also granted", html.unescape(r.body))
        self.assertEqual(self.grants(), [])
        self.assertEqual(self.create(session="run-7")["status"], "pending")

    def test_an_approval_that_does_not_complete_the_request_says_no_grant_was_given(self):
        req = self.create(session="run-7", approvers=["alice", "bob"], quorum=2)
        # Only the approval that completes the request gives a grant: the first of two is
        # offered none, and bob, who would complete it, is offered them.
        self.assertEqual(grant_buttons(self.get(self.mint(req["id"]))), [])
        r = self.press(self.mint(req["id"]), self.SESSION_OPTION)
        self.assert_page(r, 200, "Your decision was recorded",
                         "No standing approval was given: only the approval that completes the "
                         "request gives one, and this request is still waiting for other "
                         "approvals.")
        self.assertEqual(self.grants(), [])
        self.assertEqual(len(grant_buttons(self.get(self.mint(req["id"], "approve", "bob")))), 3)


class PublicUrlTest(LinkTestCase):
    extra_args = ("--public-url", "https://approvals.example.com/cs")

    def test_the_cookie_and_the_origin_check_follow_public_url(self):
        req = self.create()
        path = self.mint(req["id"])
        page = self.get(path)
        self.assertEqual(page.status, 200, page)
        self.assertIn("Path=/cs/l/;", page.headers["Set-Cookie"])
        self.assertTrue(page.headers["Set-Cookie"].endswith("; Secure"))
        cookie, csrf = self.open_form(path)
        wrong = self.post(path, {"csrf": csrf}, cookie=cookie, origin=self.server.url)
        self.assert_page(wrong, 403, "This form has expired")
        right = self.post(path, {"csrf": csrf}, cookie=cookie,
                          origin="https://approvals.example.com")
        self.assert_page(right, 200, "The request is approved")


class LinkCommandTest(unittest.TestCase):
    def test_help_explains_the_options(self):
        r = run_cli("link", "--help")
        self.assertEqual(r.returncode, 0, r.stderr)
        for word in ("--request", "--choice", "--as", "--tenant", "--data-dir", "--public-url",
                     "--expires-at", "--ttl", "GET", "POST", "--url", "--token", "--json",
                     "/v1/requests/ID/links"):
            self.assertIn(word, r.stdout)

    def test_without_a_link_key_it_fails_and_creates_nothing(self):
        with tempfile.TemporaryDirectory() as empty:
            r = run_cli("link", "--data-dir", empty, "--request",
                        "req_01JD3Z6Q8W9K4M2N7P5R0S1T2V", "--choice", "approve", "--as", "alice",
                        "--public-url", "http://127.0.0.1:7400")
            self.assertEqual(r.returncode, 3, r)
            self.assertIn("link_key", r.stderr)
            self.assertEqual(os.listdir(empty), [])

    def test_bad_input_is_refused_with_exit_1(self):
        base = ["link", "--data-dir", "/nonexistent", "--choice", "approve", "--as", "alice"]
        r = run_cli(*base, "--request", "not-an-id")
        self.assertEqual(r.returncode, 1, r)
        r = run_cli(*base, "--request", "req_01JD3Z6Q8W9K4M2N7P5R0S1T2V", "--public-url",
                    "ftp://x")
        self.assertEqual(r.returncode, 3, r)
        self.assertIn("--public-url", r.stderr)
        r = run_cli(*base, "--request", "req_01JD3Z6Q8W9K4M2N7P5R0S1T2V", "--ttl", "soon")
        self.assertNotEqual(r.returncode, 0, r)


if __name__ == "__main__":
    unittest.main()
