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
