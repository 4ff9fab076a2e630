"""Sign-in to the web inbox with OpenID Connect ([ui.oidc]), against a fake identity provider
on loopback (tests/testing/fake_oidc.py) that checks PKCE and the client's credentials and
signs real ID tokens (RS256, ES256). The flow is driven as a browser would, by hand: each
redirect followed with http.client, the cookies carried. Every refused sign-in must leave the
browser with no session."""

import html
import http.client
import os
import re
import subprocess
import sys
import tempfile
import unittest
import urllib.parse

import harness

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testing"))
from fake_oidc import FakeIdentityProvider  # noqa: E402

FORM = "application/x-www-form-urlencoded"
CSRF_FIELD = re.compile(r'name="csrf" value="([A-Za-z0-9_-]+)"')

POLICY = """
[groups]
deployers = []   # carried by the identity provider's groups claim, not listed here

[[policy]]
name = "deploys"
match = { action = "deploy_*" }
approvers = ["group:deployers"]
"""


def config_for(idp, extra_oidc="", extra=""):
    return (f"""
[outbound]
allow = ["127.0.0.1"]

[ui.oidc]
issuer = "{idp.issuer}"
client_id = "{idp.client_id}"
client_secret = "{idp.client_secret}"
{extra_oidc}
""" + POLICY + extra)


def text_of(body):
    body = re.sub(r"<style>.*?</style>", " ", body, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


class Reply:
    def __init__(self, resp):
        self.status = resp.status
        self.location = resp.getheader("Location")
        self.cookies = resp.msg.get_all("Set-Cookie") or []
        self.body = resp.read().decode(errors="replace")

    def __repr__(self):
        return f"Reply({self.status}, {self.location!r}, {text_of(self.body)[:300]!r})"


class Browser:
    """Cookies for the countersign server, and hand-followed redirects; never follows one by
    itself, so each test sees every hop."""

    def __init__(self, server):
        self.server = server
        self.cookies = {}
        self.csrf = None

    def _keep(self, reply):
        for cookie in reply.cookies:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in cookie:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        found = CSRF_FIELD.search(reply.body)
        if found:
            self.csrf = found.group(1)
        return reply

    def request(self, method, path, body=None, headers=None):
        hdrs = {"Accept": "text/html"}
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        hdrs.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            return self._keep(Reply(conn.getresponse()))
        finally:
            conn.close()

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, pairs):
        fields = [("csrf", self.csrf)] + list(pairs)
        return self.request("POST", path, urllib.parse.urlencode(fields).encode(),
                            {"Content-Type": FORM, "Origin": self.server.url})

    @staticmethod
    def visit_idp(url):
        """GET `url` at the identity provider (no cookies: it signs in at once)."""
        parts = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            conn.request("GET", parts.path + "?" + parts.query)
            return Reply(conn.getresponse())
        finally:
            conn.close()

    def start(self):
        """/ui/oidc/start, then the provider's authorize endpoint: the callback path (with its
        query) the provider sends the browser back to."""
        r = self.get("/ui/oidc/start")
        assert r.status == 303, r
        assert "cs_oidc_state" in self.cookies, r.cookies
        at_idp = self.visit_idp(r.location)
        assert at_idp.status == 302, at_idp
        back = urllib.parse.urlsplit(at_idp.location)
        assert back.path == "/ui/oidc/callback", at_idp.location
        return back.path + "?" + back.query

    def sign_in(self):
        """The whole flow; the callback's reply."""
        return self.get(self.start())


class OidcCase(unittest.TestCase):
    """A fake provider and a server whose [ui.oidc] trusts it, fresh for each test."""

    extra_oidc = ""

    def setUp(self):
        self.idp = FakeIdentityProvider().start()
        self.addCleanup(self.idp.stop)
        self.server = self.start_server(config_for(self.idp, self.extra_oidc))

    def start_server(self, toml):
        config = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
        config.write(toml)
        config.close()
        self.addCleanup(os.unlink, config.name)
        server = harness.Server(extra_args=["--config", config.name])
        server.start()
        self.addCleanup(self._stop, server)
        return server

    def _stop(self, server):
        result = getattr(self._outcome, "result", None)
        if result is not None and any(t is self for t, _ in result.errors + result.failures):
            print(server.read_log()[-4000:])
        server.cleanup()

    def assert_signed_in_as(self, browser, reply, principal):
        self.assertEqual(reply.status, 303, reply)
        self.assertEqual(reply.location, "/ui/")
        self.assertIn("cs_ui_session", browser.cookies)
        self.assertNotIn("cs_oidc_state", browser.cookies, "the state cookie is cleared")
        inbox = browser.get("/ui/")
        self.assertEqual(inbox.status, 200, inbox)
        self.assertIn(f"Signed in as {principal}", text_of(inbox.body))
        return inbox

    def assert_refused(self, browser, reply, status, words):
        self.assertEqual(reply.status, status, reply)
        self.assertIn(words, text_of(reply.body))
        self.assertNotIn("cs_ui_session", browser.cookies)
        self.assertIn('<label for="token">', reply.body, "the sign-in form again")
        r = browser.get("/ui/")
        self.assertEqual((r.status, r.location), (303, "/ui/login"), "nobody is signed in")

    def refused_sign_in(self, status, words):
        browser = Browser(self.server)
        reply = browser.sign_in()
        self.assert_refused(browser, reply, status, words)
        return reply


class OidcSignInTest(OidcCase):
    # -- the login page ----------------------------------------------------------------------
    def test_the_login_page_offers_the_identity_provider_above_the_token_form(self):
        page = Browser(self.server).get("/ui/login")
        self.assertEqual(page.status, 200, page)
        self.assertIn("Sign in with your identity provider", page.body)
        self.assertIn('href="/ui/oidc/start"', page.body)
        self.assertLess(page.body.index("/ui/oidc/start"), page.body.index('<label for="token">'))

    # -- signing in --------------------------------------------------------------------------
    def test_signing_in_with_an_rs256_id_token_shows_the_inbox_of_the_principal(self):
        browser = Browser(self.server)
        r = browser.get("/ui/oidc/start")
        self.assertEqual(r.status, 303, r)
        [state_cookie] = [c for c in r.cookies if c.startswith("cs_oidc_state=")]
        for attribute in ("HttpOnly", "SameSite=Lax", "Path=/ui/oidc/", "Max-Age=600"):
            self.assertIn(attribute, state_cookie)
        authorize = urllib.parse.urlsplit(r.location)
        self.assertEqual(f"http://{authorize.netloc}{authorize.path}", self.idp.issuer + "/authorize")
        q = dict(urllib.parse.parse_qsl(authorize.query))
        self.assertEqual((q["response_type"], q["client_id"], q["code_challenge_method"]),
                         ("code", self.idp.client_id, "S256"))
        self.assertEqual(q["redirect_uri"], self.server.url + "/ui/oidc/callback")
        self.assertEqual(q["scope"], "openid profile email")
        self.assertGreaterEqual(len(q["state"]), 43)
        back = Browser.visit_idp(r.location)
        self.assertEqual(back.status, 302, back)
        parts = urllib.parse.urlsplit(back.location)
        reply = browser.get(parts.path + "?" + parts.query)
        inbox = self.assert_signed_in_as(browser, reply, "alice@example.com")
        self.assertIn("Signed in as alice@example.com (approver)", text_of(inbox.body))
        # The code went back with the verifier and the client's secret (HTTP Basic).
        [token_call] = [x for x in self.idp.requests if x["path"] == "/token"]
        self.assertEqual(token_call["fields"]["grant_type"], "authorization_code")
        self.assertEqual(len(token_call["fields"]["code_verifier"]), 43)
        self.assertEqual(self.idp.token_auth, ["basic"])
        self.assertNotIn("client_secret", token_call["fields"])

    def test_signing_in_with_an_es256_id_token_works_too(self):
        self.idp.alg = "ES256"
        self.idp.email = "erin@example.com"
        browser = Browser(self.server)
        self.assert_signed_in_as(browser, browser.sign_in(), "erin@example.com")

    def test_groups_from_the_claim_make_the_person_an_approver_who_decides_in_the_inbox(self):
        agent = self.server.create_token("ci-bot", "agent")
        req = self.server.create_request(token=agent, action="deploy_web", title="Deploy web")
        self.assertEqual(req["status"], "pending", req)
        # Not in the group: the request is not theirs to decide.
        self.idp.groups = ["readers"]
        outsider = Browser(self.server)
        self.assert_signed_in_as(outsider, outsider.sign_in(), "alice@example.com")
        page = outsider.get("/ui/requests/" + req["id"])
        self.assertEqual(page.status, 200, page)
        self.assertNotIn('name="choice" value="approve"', page.body)
        # In the group: the form is there, and the decision is recorded as them.
        self.idp.groups = ["readers", "deployers"]
        self.idp.email = "dana@example.com"
        browser = Browser(self.server)
        inbox = self.assert_signed_in_as(browser, browser.sign_in(), "dana@example.com")
        self.assertIn("Deploy web", text_of(inbox.body))
        page = browser.get("/ui/requests/" + req["id"])
        self.assertIn('name="choice" value="approve"', page.body)
        r = browser.post("/ui/requests/" + req["id"], [("choice", "approve"),
                                                        ("comment", "via the IdP")])
        self.assertEqual(r.status, 303, r)
        got = self.server.get_request(req["id"])
        self.assertEqual(got["status"], "approved", got)
        [decision] = got["decisions"]
        self.assertEqual((decision["by"], decision["choice"], decision["comment"]),
                         ("dana@example.com", "approve", "via the IdP"))

    def test_a_session_signed_in_by_the_provider_follows_the_live_stream_and_signs_out(self):
        browser = Browser(self.server)
        self.assert_signed_in_as(browser, browser.sign_in(), "alice@example.com")
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        conn.request("GET", "/ui/events", headers={
            "Accept": "text/event-stream",
            "Cookie": "cs_ui_session=" + browser.cookies["cs_ui_session"]})
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        self.assertIn("text/event-stream", resp.getheader("Content-Type"))
        conn.close()
        r = browser.post("/ui/logout", [])
        self.assertEqual(r.status, 303, r)
        self.assertEqual(browser.get("/ui/").status, 303)

    # -- refused, with no session ------------------------------------------------------------
    def test_an_id_token_signed_by_another_key_is_refused(self):
        self.idp.sign_with = "stranger"
        self.refused_sign_in(401, "did not pass countersign's checks")
        self.idp.alg = "ES256"
        self.refused_sign_in(401, "did not pass countersign's checks")
        self.assertIn("signature does not verify", self.server.read_log())

    def test_a_wrong_audience_is_refused(self):
        self.idp.claims = {"aud": "another-client"}
        self.refused_sign_in(401, "did not pass countersign's checks")
        self.assertIn("aud does not include", self.server.read_log())

    def test_an_expired_id_token_is_refused(self):
        self.idp.claims = {"exp": 1700000000, "iat": 1699999000}
        self.refused_sign_in(401, "did not pass countersign's checks")
        self.assertIn("has expired", self.server.read_log())

    def test_a_wrong_nonce_is_refused(self):
        self.idp.claims = {"nonce": "not-the-one-sent"}
        self.refused_sign_in(401, "did not pass countersign's checks")
        self.assertIn("nonce", self.server.read_log())

    def test_an_unsigned_alg_none_token_is_refused(self):
        self.idp.alg = "none"
        self.refused_sign_in(401, "did not pass countersign's checks")
        self.assertIn("alg 'none' is not accepted", self.server.read_log())

    def test_a_wrong_issuer_in_the_token_is_refused(self):
        self.idp.claims = {"iss": "https://evil.example.com"}
        self.refused_sign_in(401, "did not pass countersign's checks")
        self.assertIn("is not the issuer", self.server.read_log())

    def test_a_replayed_or_unknown_state_is_refused(self):
        browser = Browser(self.server)
        callback = browser.start()
        self.assert_signed_in_as(browser, browser.get(callback), "alice@example.com")
        # The same callback again, in a browser holding that state cookie: used up.
        replay = Browser(self.server)
        replay.cookies["cs_oidc_state"] = "x"
        self.assert_refused(replay, replay.get(callback), 401, "expired or was already used")
        # A state this server never made.
        stranger = Browser(self.server)
        stranger.start()
        self.assert_refused(stranger, stranger.get("/ui/oidc/callback?code=abc&state=made-up"),
                            401, "expired or was already used")
        self.assertEqual(self.idp.token_auth, ["basic"], "no code was exchanged for them")

    def test_a_missing_or_different_state_cookie_is_refused(self):
        browser = Browser(self.server)
        callback = browser.start()
        del browser.cookies["cs_oidc_state"]
        self.assert_refused(browser, browser.get(callback), 401, "not started in this browser")
        # Another browser's cookie: the attacker's sign-in, landed in the victim's browser.
        attacker = Browser(self.server)
        callback = attacker.start()
        victim = Browser(self.server)
        victim.start()
        self.assert_refused(victim, victim.get(callback), 401, "not started in this browser")
        self.assertEqual(self.idp.token_auth, [], "no code was exchanged")

    def test_the_provider_refusing_access_is_said_plainly(self):
        self.idp.authorize_error = "access_denied"
        self.refused_sign_in(401, "Your identity provider did not sign you in (access_denied)")

    def test_a_failing_token_endpoint_is_a_502(self):
        self.idp.token_status = 500
        self.refused_sign_in(502, "The identity provider did not complete the sign-in")
        self.assertIn("token endpoint answered HTTP 500", self.server.read_log())

    def test_an_unreachable_provider_is_a_503_and_is_tried_again_later(self):
        self.idp.discovery_status = 500
        browser = Browser(self.server)
        r = browser.get("/ui/oidc/start")
        self.assertEqual(r.status, 503, r)
        self.assertIn("cannot be reached right now", text_of(r.body))
        self.assertNotIn("cs_oidc_state", browser.cookies)
        self.idp.discovery_status = None
        self.assert_signed_in_as(browser, browser.sign_in(), "alice@example.com")

    def test_a_discovery_document_naming_another_issuer_is_refused(self):
        self.idp.discovery_issuer = "https://idp.example.com"
        r = Browser(self.server).get("/ui/oidc/start")
        self.assertEqual(r.status, 503, r)
        self.assertIn("names its issuer", self.server.read_log())


class OidcAllowedGroupsTest(OidcCase):
    """[ui.oidc] allowed_groups, client_secret_post and the admin role."""

    extra_oidc = ('allowed_groups = ["deployers", "sre"]\n'
                  'client_auth = "client_secret_post"\nrole = "admin"')

    def test_a_person_in_none_of_the_allowed_groups_is_refused(self):
        self.idp.groups = ["readers"]
        self.refused_sign_in(403, "not in a group allowed to use countersign")
        self.idp.groups = None
        self.refused_sign_in(403, "not in a group allowed to use countersign")
        self.idp.groups = ["sre"]
        browser = Browser(self.server)
        inbox = self.assert_signed_in_as(browser, browser.sign_in(), "alice@example.com")
        self.assertIn("Signed in as alice@example.com (admin)", text_of(inbox.body))
        self.assertEqual(self.idp.token_auth[-1], "post")


class OidcConfigTest(unittest.TestCase):
    """Config errors stop the server before it listens, naming the key."""

    def refused(self, toml, env=None):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "countersign.toml")
            with open(path, "w") as f:
                f.write(toml)
            run_env = dict(os.environ)
            run_env.pop("COUNTERSIGN_OIDC_CLIENT_SECRET", None)
            run_env.update(env or {})
            r = subprocess.run([harness.BIN, "serve", "--listen", "127.0.0.1:0",
                                "--store", f"sqlite:{d}/cs.db", "--config", path],
                               capture_output=True, text=True, timeout=30, env=run_env)
        self.assertNotEqual(r.returncode, 0)
        return r.stdout + r.stderr

    def test_a_missing_client_id_names_the_key(self):
        out = self.refused('[ui.oidc]\nissuer = "https://idp.example.com"\n'
                           'client_secret = "x"\n')
        self.assertIn("ui.oidc.client_id is required", out)

    def test_a_bad_issuer_url_names_the_key(self):
        for issuer in ("idp.example.com", "http://idp.example.com", "https://idp.example.com?x=1"):
            out = self.refused(f'[ui.oidc]\nissuer = "{issuer}"\nclient_id = "c"\n'
                               'client_secret = "x"\n')
            self.assertIn("ui.oidc.issuer must be an https URL", out, issuer)

    def test_a_missing_secret_an_agent_role_and_a_scope_without_openid_are_refused(self):
        base = '[ui.oidc]\nissuer = "https://idp.example.com"\nclient_id = "c"\n'
        self.assertIn("ui.oidc.client_secret is required (or set COUNTERSIGN_OIDC_CLIENT_SECRET)",
                      self.refused(base))
        self.assertIn('ui.oidc.role must be "approver" or "admin"',
                      self.refused(base + 'client_secret = "x"\nrole = "agent"\n'))
        self.assertIn('ui.oidc.scopes must include "openid"',
                      self.refused(base + 'client_secret = "x"\nscopes = ["email"]\n'))
        self.assertIn("ui.oidc.colour: unknown key",
                      self.refused(base + 'client_secret = "x"\ncolour = "blue"\n'))

    def test_the_secret_may_come_from_the_environment_and_a_loopback_issuer_needs_outbound(self):
        # The variable supplies the secret; the loopback issuer then fails the [outbound] rule.
        out = self.refused('[ui.oidc]\nissuer = "http://127.0.0.1:9"\nclient_id = "c"\n',
                           env={"COUNTERSIGN_OIDC_CLIENT_SECRET": "from-env"})
        self.assertNotIn("client_secret", out)
        self.assertIn("[ui.oidc] issuer", out)


if __name__ == "__main__":
    unittest.main()
