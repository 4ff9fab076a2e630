"""The web inbox (/ui/) over HTTP, as a browser without JavaScript uses it: sign-in with a
token, the session cookie, the inbox of what I may decide, a request's page and its decision
form, the anti-CSRF checks, sign-out, and a revoked token's session ending. (The same pages in
a real Chromium: tests/browser.)"""

import base64
import csv
import html
import io
import json
import re
import subprocess
import unittest
import urllib.parse

import harness
from test_receipts import arguments_sha256

FORM = "application/x-www-form-urlencoded"
CSRF_FIELD = re.compile(r'name="csrf" value="([A-Za-z0-9_-]+)"')


class Browser:
    """A cookie jar and the csrf value of the last page, over the harness's HTTP calls; never
    follows redirects, so each test sees the 303s."""

    def __init__(self, server):
        self.server = server
        self.cookies = {}
        self.csrf = None

    def _keep(self, response):
        cookie = response.headers.get("Set-Cookie")
        if cookie:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in cookie:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        found = CSRF_FIELD.search(response.body or "")
        if found:
            self.csrf = found.group(1)
        return response

    def headers(self, extra=None):
        hdrs = {"Accept": "text/html"}
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        hdrs.update(extra or {})
        return hdrs

    def get(self, path):
        return self._keep(self.server.call("GET", path, token=None, headers=self.headers()))

    def post(self, path, pairs, csrf=True, origin=None):
        fields = ([("csrf", self.csrf)] if csrf else []) + list(pairs)
        hdrs = self.headers({"Origin": origin or self.server.url})
        return self._keep(self.server.call("POST", path, token=None, headers=hdrs,
                                           raw=urllib.parse.urlencode(fields).encode(),
                                           content_type=FORM))

    def sign_in(self, token):
        self.get("/ui/login")
        r = self.post("/ui/login", [("token", token)])
        assert r.status == 303, r
        return r


def text_of(page):
    """The page's visible words, one space apart (no markup, no style sheet)."""
    body = re.sub(r"<style>.*?</style>", " ", page.body, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


class InboxTestCase(harness.ServerTestCase):
    """A server, and tokens and signed-in browsers made on it."""

    def token(self, name, role, tenant=None):
        """A new token as POST /v1/tokens answers it: {"id", "token", ...}."""
        body = {"name": name, "role": role}
        if tenant:
            body["tenant"] = tenant
        r = self.server.call("POST", "/v1/tokens", body)
        self.assertEqual(r.status, 201, r)
        return r.json

    def signed_in(self, who):
        browser = Browser(self.server)
        browser.sign_in(who["token"])
        return browser


class InboxTest(InboxTestCase):
    def setUp(self):
        super().setUp()
        self.agent_token = self.token("ci-bot", "agent")
        self.alice = self.token("alice", "approver")
        self.bob = self.token("bob", "approver")

    def create(self, **fields):
        return self.server.create_request(token=self.agent_token["token"], **fields)

    # -- / and signing in ----------------------------------------------------------------------
    def test_the_root_sends_a_browser_to_the_inbox_and_a_client_an_index(self):
        r = self.server.call("GET", "/", token=None, headers={"Accept": "text/html,*/*"})
        self.assertEqual(r.status, 303, r)
        self.assertEqual(r.headers["Location"], "/ui/")
        r = self.server.call("GET", "/", token=None, headers={"Accept": "application/json"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["api"], r.json["inbox"]), ("/v1", "/ui/"))
        r = self.server.call("GET", "/ui", token=None)
        self.assertEqual((r.status, r.headers["Location"]), (303, "/ui/"))

    def test_without_a_session_every_page_sends_you_to_sign_in(self):
        browser = Browser(self.server)
        for path in ("/ui/", "/ui/requests/req_01JD3Z6Q8W9K4M2N7P5R0S1T2V"):
            r = browser.get(path)
            self.assertEqual((r.status, r.headers["Location"]), (303, "/ui/login"), path)
        r = browser.get("/ui/login")
        self.assertEqual(r.status, 200, r)
        self.assertIn('<label for="token">', r.body)
        self.assertIn('type="password"', r.body)
        self.assertIn("frame-ancestors 'none'", r.headers["Content-Security-Policy"])

    def test_a_valid_token_signs_in_with_a_locked_down_session_cookie(self):
        browser = Browser(self.server)
        browser.get("/ui/login")
        r = browser.post("/ui/login", [("token", self.alice["token"])])
        self.assertEqual((r.status, r.headers["Location"]), (303, "/ui/"), r)
        cookie = r.headers["Set-Cookie"]
        self.assertTrue(cookie.startswith("cs_ui_session=ui_"), cookie)
        for flag in ("HttpOnly", "SameSite=Lax", "Path=/ui/"):
            self.assertIn(flag, cookie)
        self.assertNotIn("Secure", cookie, "plain http here; https adds Secure")
        self.assertNotIn(self.alice["token"], cookie, "the token never goes to the browser")
        inbox = browser.get("/ui/")
        self.assertEqual(inbox.status, 200, inbox)
        self.assertIn("Signed in as alice (approver)", text_of(inbox))

    def test_the_live_stream_needs_a_session(self):
        for cookie in (None, "cs_ui_session=ui_guess"):
            headers = {"Accept": "text/event-stream"}
            if cookie:
                headers["Cookie"] = cookie
            r = self.server.call("GET", "/ui/events", token=None, headers=headers)
            self.assertEqual(r.status, 401, (cookie, r))
        # A bearer token is not a session: the stream is the browser's, by its cookie.
        r = self.server.call("GET", "/ui/events", token=self.alice["token"],
                             headers={"Accept": "text/event-stream"})
        self.assertEqual(r.status, 401, r)

    def test_a_bad_token_is_refused_and_signs_nobody_in(self):
        browser = Browser(self.server)
        browser.get("/ui/login")
        for token in ("cs_not-a-real-token", "", "x" * 600):
            r = browser.post("/ui/login", [("token", token)])
            self.assertEqual(r.status, 401, (token[:20], r))
            self.assertNotIn("cs_ui_session", browser.cookies)
        self.assertIn("not valid", text_of(browser.post("/ui/login", [("token", "cs_bad")])))

    def test_refused_sign_ins_are_limited_per_address_and_good_ones_are_not(self):
        browser = Browser(self.server)
        browser.get("/ui/login")
        for _ in range(30):
            self.assertEqual(browser.post("/ui/login", [("token", self.alice["token"])]).status,
                             303, "good sign-ins never use up the quota")
        for i in range(20):
            r = browser.post("/ui/login", [("token", f"cs_guess-{i}")])
            self.assertEqual(r.status, 401, (i, r))
        r = browser.post("/ui/login", [("token", "cs_guess-21")])
        self.assertEqual(r.status, 429, r)
        self.assertGreaterEqual(int(r.headers["Retry-After"]), 1)
        self.assertIn("Too many sign-in attempts", text_of(r))
        r = browser.post("/ui/login", [("token", self.alice["token"])])
        self.assertEqual(r.status, 429, "the address waits, whatever it sends")
        r = self.server.call("GET", "/v1/requests", token=self.alice["token"])
        self.assertEqual(r.status, 200, "the API is not affected")

    def test_sign_in_and_sign_out_need_the_page_s_csrf_value(self):
        browser = Browser(self.server)
        browser.get("/ui/login")
        r = browser.post("/ui/login", [("token", self.alice["token"])], csrf=False)
        self.assertEqual(r.status, 403, r)
        r = browser.post("/ui/login", [("token", self.alice["token"])],
                         origin="https://evil.example")
        self.assertEqual(r.status, 403, r)
        self.assertNotIn("cs_ui_session", browser.cookies)

        browser.sign_in(self.alice["token"])
        r = browser.post("/ui/logout", [], csrf=False)
        self.assertEqual(r.status, 403, r)
        self.assertEqual(browser.get("/ui/").status, 200, "still signed in")
        r = browser.post("/ui/logout", [])
        self.assertEqual((r.status, r.headers["Location"]), (303, "/ui/login?out=1"))
        self.assertNotIn("cs_ui_session", browser.cookies)

    def test_a_signed_out_session_cannot_be_replayed(self):
        browser = self.signed_in(self.alice)
        stolen = dict(browser.cookies)
        browser.get("/ui/")
        browser.post("/ui/logout", [])
        thief = Browser(self.server)
        thief.cookies = stolen
        r = thief.get("/ui/")
        self.assertEqual((r.status, r.headers["Location"]), (303, "/ui/login?expired=1"))
        self.assertIn("Your session has ended", text_of(thief.get("/ui/login?expired=1")))

    def test_revoking_the_token_ends_its_sessions_at_their_next_request(self):
        browser = self.signed_in(self.alice)
        self.assertEqual(browser.get("/ui/").status, 200)
        r = self.server.call("DELETE", "/v1/tokens/" + self.alice["id"])
        self.assertIn(r.status, (200, 204), r)
        r = browser.get("/ui/")
        self.assertEqual((r.status, r.headers["Location"]), (303, "/ui/login?ended=1"))
        page = browser.get("/ui/login?ended=1")
        self.assertIn("Your session has ended", text_of(page))
        self.assertEqual(browser.get("/ui/").status, 303, "the session is gone for good")

    # -- the inbox ----------------------------------------------------------------------------
    def test_the_inbox_lists_what_i_may_decide_soonest_deadline_first(self):
        later = self.create(title="Deploy later", approvers=["alice"], timeout_seconds=240)
        sooner = self.create(title="Rotate keys", timeout_seconds=60)  # anyone may decide
        self.create(title="Bob's only", approvers=["bob"])
        browser = self.signed_in(self.alice)
        page = browser.get("/ui/")
        self.assertEqual(page.status, 200, page)
        self.assertIn("<title>(2) Waiting for your decision", page.body)
        rows = re.findall(r'<a href="/ui/requests/(req_[0-9A-Z]+)">', page.body)
        self.assertEqual(rows, [sooner["id"], later["id"]])
        self.assertNotIn("Bob", page.body)
        self.assertIn("0 of 1 approval", text_of(page))
        # Once alice has decided one, it leaves her inbox.
        r = self.server.call("POST", f"/v1/requests/{sooner['id']}/decisions",
                             {"choice": "approve"}, token=self.alice["token"])
        self.assertEqual(r.status, 200, r)
        rows = re.findall(r'/ui/requests/(req_[0-9A-Z]+)"', browser.get("/ui/").body)
        self.assertEqual(rows, [later["id"]])

    def test_an_agent_sees_its_own_pending_requests_and_no_decision_form(self):
        mine = self.create(title="Mine")
        browser = self.signed_in(self.agent_token)
        page = browser.get("/ui/")
        self.assertIn("Your pending requests", page.body)
        self.assertIn(mine["id"], page.body)
        page = browser.get("/ui/requests/" + mine["id"])
        self.assertEqual(page.status, 200, page)
        self.assertNotIn('name="choice"', page.body)
        self.assertIn("Agents cannot decide requests", text_of(page))
        r = browser.post("/ui/requests/" + mine["id"], [("choice", "approve")])
        self.assertEqual(r.status, 403, r)
        self.assertEqual(self.server.get_request(mine["id"])["status"], "pending")

    def test_another_tenant_s_request_is_not_found(self):
        other = self.token("erin", "approver", tenant="acme")
        mine = self.create(title="Default tenant")
        browser = self.signed_in(other)
        for method in ("GET", "POST"):
            r = (browser.get("/ui/requests/" + mine["id"]) if method == "GET" else
                 browser.post("/ui/requests/" + mine["id"], [("choice", "approve")]))
            self.assertEqual(r.status, 404, (method, r))
            self.assertNotIn("Default tenant", r.body)
        self.assertEqual(self.server.get_request(mine["id"])["status"], "pending")

    # -- deciding -----------------------------------------------------------------------------
    def test_approving_from_the_request_page_records_the_decision_and_comment(self):
        req = self.create(title="Deploy v2", arguments={"ref": "v2"}, quorum=2)
        browser = self.signed_in(self.alice)
        page = browser.get("/ui/requests/" + req["id"])
        self.assertEqual(page.status, 200, page)
        self.assertIn('name="choice" value="approve"', page.body)
        self.assertIn('name="choice" value="deny"', page.body)
        self.assertIn('<label for="comment">', page.body)
        self.assertIn("&quot;ref&quot;: &quot;v2&quot;", page.body)
        r = browser.post("/ui/requests/" + req["id"], [("choice", "approve"),
                                                        ("comment", "ship it")])
        self.assertEqual(r.status, 303, r)
        self.assertEqual(r.headers["Location"], f"/ui/requests/{req['id']}?recorded=approve")
        got = self.server.get_request(req["id"])
        self.assertEqual(got["status"], "pending", "quorum 2: one approval so far")
        [decision] = got["decisions"]
        self.assertEqual((decision["by"], decision["choice"], decision["comment"]),
                         ("alice", "approve", "ship it"))
        page = browser.get(r.headers["Location"])
        self.assertIn("Your decision was recorded: Approve.", text_of(page))
        self.assertIn("You have decided this request already.", text_of(page))
        self.assertNotIn('name="choice"', page.body)
        # Bob's approval resolves it.
        bob = self.signed_in(self.bob)
        bob.get("/ui/requests/" + req["id"])
        r = bob.post("/ui/requests/" + req["id"], [("choice", "approve")])
        self.assertEqual(r.status, 303, r)
        self.assertEqual(self.server.get_request(req["id"])["status"], "approved")

    def test_a_post_without_the_csrf_value_or_from_another_site_records_nothing(self):
        req = self.create(title="Guarded")
        browser = self.signed_in(self.alice)
        browser.get("/ui/requests/" + req["id"])
        for kwargs in ({"csrf": False}, {"origin": "https://evil.example"}):
            r = browser.post("/ui/requests/" + req["id"], [("choice", "approve")], **kwargs)
            self.assertEqual(r.status, 403, (kwargs, r))
            self.assertIn("Not recorded: this form has expired", text_of(r))
        cross = browser.headers({"Origin": self.server.url, "Sec-Fetch-Site": "cross-site"})
        r = self.server.call("POST", "/ui/requests/" + req["id"], token=None, headers=cross,
                             raw=urllib.parse.urlencode([("csrf", browser.csrf),
                                                         ("choice", "approve")]).encode(),
                             content_type=FORM)
        self.assertEqual(r.status, 403, r)
        self.assertEqual(self.server.get_request(req["id"])["decisions"], [])

    def test_a_refused_decision_shows_the_engine_s_reason(self):
        req = self.create(title="Not yours", approvers=["bob"])
        browser = self.signed_in(self.alice)
        page = browser.get("/ui/requests/" + req["id"])
        self.assertIn("You are not one of this request", text_of(page))
        self.assertNotIn('name="choice"', page.body)
        r = browser.post("/ui/requests/" + req["id"], [("choice", "approve")])
        self.assertEqual(r.status, 403, r)
        self.assertIn("Not recorded: ", text_of(r))
        r = browser.post("/ui/requests/" + req["id"], [("choice", "maybe")])
        self.assertEqual(r.status, 422, r)
        self.assertEqual(self.server.get_request(req["id"])["decisions"], [])

    def test_a_request_with_a_form_is_approved_with_the_response_and_denied_without(self):
        schema = {"type": "object", "required": ["ticket"],
                  "properties": {"ticket": {"type": "string", "title": "Change ticket",
                                            "minLength": 3}}}
        req = self.create(title="Needs a ticket", response_schema=schema)
        browser = self.signed_in(self.alice)
        page = browser.get("/ui/requests/" + req["id"])
        self.assertIn('name="r.0"', page.body)
        self.assertIn("Change ticket", page.body)
        # Deny skips the browser's checks of the form's fields; approve keeps them.
        self.assertRegex(page.body, r'value="deny"[^>]*formnovalidate')
        self.assertNotRegex(page.body, r'value="approve"[^>]*formnovalidate')
        r = browser.post("/ui/requests/" + req["id"], [("choice", "approve"), ("r.0", "x")])
        self.assertEqual(r.status, 422, r)
        self.assertIn("ticket", text_of(r))
        r = browser.post("/ui/requests/" + req["id"], [("choice", "approve"), ("r.0", "CHG-1")])
        self.assertEqual(r.status, 303, r)
        got = self.server.get_request(req["id"])
        self.assertEqual((got["status"], got["response"]), ("approved", {"ticket": "CHG-1"}))

        other = self.create(title="Deny me", response_schema=schema)
        browser.get("/ui/requests/" + other["id"])
        r = browser.post("/ui/requests/" + other["id"], [("choice", "deny"), ("r.0", "")])
        self.assertEqual(r.status, 303, r)
        self.assertEqual(self.server.get_request(other["id"])["status"], "denied")

    def test_the_page_shows_policy_audit_trail_and_once_approved_the_receipt_claims(self):
        req = self.create(title="Trail", arguments={"ref": "v2"})
        browser = self.signed_in(self.alice)
        page = browser.get("/ui/requests/" + req["id"])
        text = text_of(page)
        self.assertIn("Policy default", text)
        self.assertIn("Approvers anyone who may decide", text)
        self.assertRegex(text, r"Audit trail .* request\.created by ci-bot")
        self.assertNotIn("Receipt", text)
        browser.post("/ui/requests/" + req["id"], [("choice", "approve"), ("comment", "ok")])
        page = browser.get(f"/ui/requests/{req['id']}?recorded=approve")
        text = text_of(page)
        self.assertRegex(text, r"decision\.recorded by alice ?: ok")
        got = self.server.get_request(req["id"])
        self.assertIn(f'"arguments_sha256": "{got["arguments_sha256"]}"', html.unescape(page.body))
        self.assertIn(f'"request_id": "{req["id"]}"', html.unescape(page.body))

    def test_approving_with_edited_arguments_records_the_edit_and_shows_the_diff(self):
        req = self.create(title="Scale", arguments={"replicas": 3, "env": "prod"})
        browser = self.signed_in(self.alice)
        page = browser.get("/ui/requests/" + req["id"])
        self.assertIn('<textarea id="arguments" name="arguments"', page.body)
        self.assertIn("&quot;replicas&quot;: 3", page.body)
        # Not JSON, or not an object: refused, nothing recorded.
        for bad in ("{replicas: 2", "[1, 2]"):
            r = browser.post("/ui/requests/" + req["id"],
                             [("choice", "approve"), ("arguments", bad)])
            self.assertEqual(r.status, 422, (bad, r))
            self.assertIn("the arguments must be a JSON object", text_of(r))
        self.assertEqual(self.server.get_request(req["id"])["decisions"], [])
        edited = {"replicas": 2, "env": "prod", "reason": "cost"}
        r = browser.post("/ui/requests/" + req["id"],
                         [("choice", "approve"), ("arguments", json.dumps(edited))])
        self.assertEqual(r.status, 303, r)
        got = self.server.get_request(req["id"])
        self.assertEqual(got["status"], "approved")
        self.assertEqual(got["decisions"][0]["arguments"], edited)
        claims = json.loads(base64.urlsafe_b64decode(got["receipt"].split(".")[1] + "=="))
        self.assertEqual(claims["arguments_sha256"], arguments_sha256(edited))
        page = browser.get(r.headers["Location"])
        diff = re.search(r'<table class="diff">.*?</table>', page.body, re.S).group(0)
        self.assertIn('<tr class="changed"><th scope="row"><code>replicas</code>', diff)
        self.assertIn('<tr class="added"><th scope="row"><code>reason</code>', diff)
        self.assertNotIn("<code>env</code>", diff, "unchanged keys are left out")

    def test_unchanged_arguments_are_no_edit(self):
        req = self.create(title="Same", arguments={"a": 1})
        browser = self.signed_in(self.alice)
        browser.get("/ui/requests/" + req["id"])
        r = browser.post("/ui/requests/" + req["id"],
                         [("choice", "approve"), ("arguments", '{\n  "a": 1\n}')])
        self.assertEqual(r.status, 303, r)
        self.assertIsNone(self.server.get_request(req["id"])["decisions"][0].get("arguments"))

    def grant_options(self, page):
        """The (value, label) of each option of the request page's grant select."""
        select = re.search(r'<select id="grant" name="grant"[^>]*>(.*?)</select>', page.body,
                           re.S)
        if select is None:
            return []
        return [(v, html.unescape(label))
                for v, label in re.findall(r'<option value="([^"]*)">([^<]*)</option>',
                                           select.group(1))]

    def test_the_grant_select_offers_exactly_the_request_s_options(self):
        browser = self.signed_in(self.alice)
        req = self.create(title="Grant me", action="db.read", session="sess-1")
        self.assertEqual(self.grant_options(browser.get("/ui/requests/" + req["id"])), [
            ("", "Approve once"),
            ("session:3600", "Approve for this session (1 h)"),
            ("requester:2592000", "Always approve db.read for ci-bot (30 days)")])
        no_session = self.create(title="No session", action="db.read")
        self.assertEqual([v for v, _ in self.grant_options(
            browser.get("/ui/requests/" + no_session["id"]))], ["", "requester:2592000"])

    def test_approving_with_a_grant_lets_the_next_call_in_the_session_through(self):
        req = self.create(title="Grant me", action="db.read", session="sess-1")
        browser = self.signed_in(self.alice)
        page = browser.get("/ui/requests/" + req["id"])
        self.assertIn('<option value="session:3600">', page.body)
        r = browser.post("/ui/requests/" + req["id"],
                         [("choice", "approve"), ("grant", "session:3600")])
        self.assertEqual(r.status, 303, r)
        shown = browser.get(r.headers["Location"])
        self.assertIn("Your decision was recorded: Approve. Also granted: db.read is approved "
                      "without asking in session sess-1 until", text_of(shown))
        [grant] = self.server.call("GET", "/v1/grants").json["grants"]
        self.assertEqual((grant["scope"], grant["session"], grant["created_by"]),
                         ("session", "sess-1", "alice"))
        again = self.create(title="Grant me again", action="db.read", session="sess-1")
        self.assertEqual(again["status"], "approved", "the grant approved it at once")
        self.assertEqual(again["reason_code"], "approved_by_grant")
        # Only the request's own options: no ttl or scope of the form's choosing.
        for bad in ("forever:1", "session:", "session:12x", "tenant:99999999", "tenant:3600",
                    "session:28800", "requester:99"):
            other = self.create(title="Bad grant " + bad, action="db.write")
            browser.get("/ui/requests/" + other["id"])
            r = browser.post("/ui/requests/" + other["id"], [("choice", "approve"),
                                                              ("grant", bad)])
            self.assertEqual(r.status, 422, (bad, r))
            self.assertIn("does not offer the standing approval", text_of(r))
            self.assertEqual(self.server.get_request(other["id"])["status"], "pending")
        self.assertEqual(len(self.server.call("GET", "/v1/grants").json["grants"]), 1)

    def test_always_approve_from_the_inbox_approves_the_requester_s_next_call_anywhere(self):
        req = self.create(title="Always", action="db.read", session="sess-1")
        browser = self.signed_in(self.alice)
        browser.get("/ui/requests/" + req["id"])
        r = browser.post("/ui/requests/" + req["id"],
                         [("choice", "approve"), ("grant", "requester:2592000")])
        self.assertEqual(r.status, 303, r)
        elsewhere = self.create(title="Elsewhere", action="db.read", session="sess-2")
        self.assertEqual(elsewhere["reason_code"], "approved_by_grant")

    def test_denying_with_a_grant_selected_denies_and_grants_nothing(self):
        req = self.create(title="Deny me", action="db.read", session="sess-1")
        browser = self.signed_in(self.alice)
        browser.get("/ui/requests/" + req["id"])
        r = browser.post("/ui/requests/" + req["id"],
                         [("choice", "deny"), ("grant", "session:3600")])
        self.assertEqual(r.status, 303, r)
        self.assertEqual(self.server.get_request(req["id"])["status"], "denied")
        self.assertEqual(self.server.call("GET", "/v1/grants").json["grants"], [])

    def test_a_high_risk_request_offers_no_grant(self):
        req = self.create(title="Risky", risk="high")
        browser = self.signed_in(self.alice)
        page = browser.get("/ui/requests/" + req["id"])
        self.assertEqual(self.server.get_request(req["id"])["risk"], "high")
        self.assertNotIn('name="grant"', page.body)
        self.assertIn("High risk.", page.body)
        r = browser.post("/ui/requests/" + req["id"],
                         [("choice", "approve"), ("grant", "requester:2592000")])
        self.assertEqual(r.status, 422, r)
        self.assertEqual(self.server.get_request(req["id"])["status"], "pending")

    def test_a_one_click_link_page_offers_the_request_in_the_inbox(self):
        req = self.create(title="Linked")
        minted = subprocess.run(
            [harness.BIN, "link", "--data-dir", self.server.data_dir, "--request", req["id"],
             "--choice", "approve", "--as", "alice", "--public-url", self.server.url],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(minted.returncode, 0, minted.stderr)
        link = minted.stdout.strip()
        page = self.server.call("GET", urllib.parse.urlsplit(link).path, token=None)
        self.assertEqual(page.status, 200, page)
        href = re.search(r'<a href="([^"]+)">open this one in the inbox</a>', page.body).group(1)
        self.assertEqual(urllib.parse.urljoin(link, href),
                         f"{self.server.url}/ui/requests/{req['id']}")
        done = self.server.post_link_form(urllib.parse.urlsplit(link).path, [])
        href = re.search(r'<a href="([^"]+)">open this request in the inbox</a>',
                         done.body).group(1)
        self.assertEqual(urllib.parse.urljoin(link, href),
                         f"{self.server.url}/ui/requests/{req['id']}")

    # -- all requests and exports -------------------------------------------------------------
    def test_all_requests_filters_searches_and_pages_newest_first(self):
        made = [self.create(title=f"Deploy build {i}", action="deploy_staging",
                            session="s-a" if i % 2 else "s-b") for i in range(55)]
        other = self.create(title="Rotate keys", action="db.rotate")
        r = self.server.call("POST", f"/v1/requests/{other['id']}/decisions",
                             {"choice": "deny"}, token=self.alice["token"])
        self.assertEqual(r.status, 200, r)
        browser = self.signed_in(self.alice)

        def ids(page):
            return re.findall(r'<a href="/ui/requests/(req_[0-9A-Z]+)">', page.body)

        page = browser.get("/ui/requests")
        self.assertEqual(page.status, 200, page)
        newest_first = [other["id"]] + [m["id"] for m in reversed(made)]
        self.assertEqual(ids(page), newest_first[:50])
        older = re.search(r'<a href="([^"]+)" rel="next">Older requests</a>', page.body)
        page = browser.get(html.unescape(older.group(1)))
        self.assertEqual(ids(page), newest_first[50:])
        self.assertNotIn('rel="next"', page.body)

        page = browser.get("/ui/requests?status=denied")
        self.assertEqual(ids(page), [other["id"]])
        self.assertIn('<option value="denied" selected>', page.body)
        page = browser.get("/ui/requests?session=s-a&action=deploy_staging")
        self.assertEqual(len(ids(page)), 27)
        page = browser.get("/ui/requests?q=BUILD+7")
        self.assertEqual(ids(page), [made[7]["id"]], "the title's words, in any case")
        page = browser.get("/ui/requests?q=" + made[3]["id"])
        self.assertEqual(ids(page), [made[3]["id"]], "or an id")
        # Exactly a page's worth: no link to an empty page after it.
        for req in made[:5]:
            r = self.server.call("POST", f"/v1/requests/{req['id']}/decisions",
                                 {"choice": "deny"}, token=self.alice["token"])
            self.assertEqual(r.status, 200, r)
        page = browser.get("/ui/requests?status=pending")
        self.assertEqual(len(ids(page)), 50)
        self.assertNotIn('rel="next"', page.body, "no link to an empty page")
        for bad in ("status=sideways", "cursor=nonsense"):
            page = browser.get("/ui/requests?" + bad)
            self.assertEqual(page.status, 400, (bad, page))
            self.assertIn('class="notice error"', page.body)

    def test_the_export_is_csv_or_json_of_the_same_filters_and_defuses_formulas(self):
        evil = self.create(title="=HYPERLINK(\"http://evil.example\")", action="x.y")
        self.create(title="Plain, \"quoted\"", action="x.y")
        self.create(title="Elsewhere", action="other")
        browser = self.signed_in(self.alice)
        r = browser.get("/ui/requests.csv?action=x.y")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers["Content-Type"].startswith("text/csv"), r.headers)
        self.assertIn("attachment", r.headers["Content-Disposition"])
        rows = list(csv.reader(io.StringIO(r.body)))
        self.assertEqual(rows[0][:5], ["id", "created_at", "status", "action", "title"])
        self.assertEqual(len(rows), 3)
        self.assertEqual(rows[1][4], 'Plain, "quoted"')
        self.assertEqual(rows[2][4], "'=HYPERLINK(\"http://evil.example\")", "no formula runs")
        self.assertEqual(rows[2][0], evil["id"])
        r = browser.get("/ui/requests.json?action=x.y")
        self.assertEqual(r.status, 200, r)
        self.assertEqual([q["action"] for q in r.json["requests"]], ["x.y", "x.y"])
        self.assertEqual(Browser(self.server).get("/ui/requests.csv").status, 303,
                         "no session, no export")

    def test_an_agent_s_all_requests_are_its_own(self):
        mine = self.create(title="Mine")
        other_agent = self.token("other-bot", "agent")
        theirs = self.server.create_request(token=other_agent["token"], title="Theirs")
        browser = self.signed_in(self.agent_token)
        page = browser.get("/ui/requests")
        self.assertIn(mine["id"], page.body)
        self.assertNotIn(theirs["id"], page.body)

    # -- batch decisions ----------------------------------------------------------------------
    def test_a_batch_denies_the_selected_requests_with_one_comment(self):
        picked = [self.create(title=f"Batch {i}") for i in range(3)]
        left = self.create(title="Not picked")
        browser = self.signed_in(self.alice)
        page = browser.get("/ui/")
        for req in picked:
            self.assertIn(f'name="pick.{req["id"]}"', page.body)
        r = browser.post("/ui/batch", [("choice", "deny"), ("comment", "not today")] +
                         [(f"pick.{req['id']}", "1") for req in picked])
        self.assertEqual(r.status, 200, r)
        self.assertIn("Denied 3 requests.", text_of(r))
        for req in picked:
            got = self.server.get_request(req["id"])
            self.assertEqual(got["status"], "denied")
            self.assertEqual(got["decisions"][0]["comment"], "not today")
        self.assertEqual(self.server.get_request(left["id"])["status"], "pending")
        rows = re.findall(r'/ui/requests/(req_[0-9A-Z]+)"', r.body)
        self.assertEqual(rows, [left["id"]], "the inbox shown after is what is left")

    def test_a_batch_approval_leaves_out_high_risk_and_form_requests_and_says_why(self):
        plain = self.create(title="Plain", action="cache.flush")
        risky = self.create(title="Risky", risk="high")
        schema = {"type": "object", "required": ["t"], "properties": {"t": {"type": "string"}}}
        formed = self.create(title="Formed", action="cache.warm", response_schema=schema)
        foreign = self.server.create_request(token=self.token("acme-bot", "agent",
                                                              tenant="acme")["token"],
                                             title="Foreign")
        browser = self.signed_in(self.alice)
        browser.get("/ui/")
        r = browser.post("/ui/batch", [("choice", "approve")] +
                         [(f"pick.{req['id']}", "1") for req in (plain, risky, formed, foreign)])
        self.assertEqual(r.status, 200, r)
        text = text_of(r)
        self.assertIn("Approved 1 request.", text)
        self.assertIn("Risky (high risk: open it to decide)", text)
        self.assertIn("Formed (it asks for a form: open it to decide)", text)
        self.assertIn(f"{foreign['id']} (not found)", text)
        self.assertEqual(self.server.get_request(plain["id"])["status"], "approved")
        for req in (risky, formed):
            self.assertEqual(self.server.get_request(req["id"])["status"], "pending")

    def test_a_batch_approval_never_grants_even_when_a_grant_is_posted(self):
        picked = [self.create(title=f"Batch {i}", action="cache.flush", session="sess-1")
                  for i in range(2)]
        browser = self.signed_in(self.alice)
        browser.get("/ui/")
        r = browser.post("/ui/batch", [("choice", "approve"), ("grant", "session:3600")] +
                         [(f"pick.{req['id']}", "1") for req in picked])
        self.assertEqual(r.status, 200, r)
        self.assertIn("Approved 2 requests.", text_of(r))
        self.assertEqual(self.server.call("GET", "/v1/grants").json["grants"], [])
        self.assertEqual(self.create(action="cache.flush", session="sess-1")["status"],
                         "pending")

    def test_a_batch_without_a_choice_a_selection_or_the_csrf_value_decides_nothing(self):
        req = self.create(title="Keep")
        browser = self.signed_in(self.alice)
        browser.get("/ui/")
        pick = [(f"pick.{req['id']}", "1")]
        for pairs, status, says in (([("choice", "approve")], 422, "Select at least one"),
                                    ([("choice", "maybe")] + pick, 422, "Choose Approve or Deny"),
                                    ([] + pick, 422, "Choose Approve or Deny")):
            r = browser.post("/ui/batch", pairs)
            self.assertEqual(r.status, status, (pairs, r))
            self.assertIn(says, text_of(r))
        r = browser.post("/ui/batch", [("choice", "deny")] + pick, csrf=False)
        self.assertEqual(r.status, 403, r)
        self.assertEqual(self.server.get_request(req["id"])["status"], "pending")
        agent = self.signed_in(self.agent_token)
        page = agent.get("/ui/")
        self.assertNotIn('name="pick.', page.body, "an agent has no batch form")
        r = agent.post("/ui/batch", [("choice", "approve")] + pick)
        self.assertIn("Not decided", text_of(r))
        self.assertEqual(self.server.get_request(req["id"])["status"], "pending")

    def test_hostile_text_is_shown_escaped(self):
        hostile = '<script>window.__pwned=1</script>"><img src=x onerror=alert(1)>\u202egnp.exe'
        req = self.create(title=hostile, details={"why": hostile}, arguments={"x": hostile})
        browser = self.signed_in(self.alice)
        for page in (browser.get("/ui/"), browser.get("/ui/requests/" + req["id"])):
            self.assertEqual(page.status, 200, page)
            self.assertNotIn("<script>window", page.body)
            self.assertNotIn("<img src=x", page.body)
            self.assertIn("&lt;script&gt;window.__pwned=1&lt;/script&gt;", page.body)
            self.assertIn("<bdi>", page.body, "bidi text is isolated")

    def test_an_unknown_request_is_a_404_page(self):
        browser = self.signed_in(self.alice)
        r = browser.get("/ui/requests/req_01JD3Z6Q8W9K4M2N7P5R0S1T2V")
        self.assertEqual(r.status, 404, r)
        self.assertIn("No such request", text_of(r))


if __name__ == "__main__":
    unittest.main()
