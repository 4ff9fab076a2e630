"""The email channel end to end: the real binary mails a real SMTP server (Debian's
python3-aiosmtpd, started by the test on loopback), the test parses what arrived with the
stdlib email package (MIME parts, links, threading headers) and clicks a link through GET and
POST to decide. Also: STARTTLS-required against a server without STARTTLS, STARTTLS with AUTH
against one that has it, and the outbox rules over SMTP (a 4xx then success delivers once; a
5xx fails with a notification.failed audit event)."""

import html
import html.parser
import os
import re
import shutil
import subprocess
import sys
import ssl
import tempfile
import time
import unittest
import urllib.parse

from harness import Server

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testing"))
from fake_smtp import SmtpSink  # noqa: E402
from link_tokens import one_click_url  # noqa: E402

FORM = "application/x-www-form-urlencoded"
CSRF_FIELD = re.compile(r'name="csrf" value="([A-Za-z0-9_-]+)"')
SMTP_USER = "countersign"
SMTP_PASSWORD = "s3cret-smtp-password"

CONFIG = """
[outbox]
max_attempts = 4
retry_base = "100ms"
retry_max = "500ms"

[[channel]]
name = "email-ops"
type = "email"
smtp_url = "{plain_url}"
starttls = "off"
from = "Countersign <approvals@example.com>"
to = ["ops@example.com"]
addresses = {{ alice = "alice@example.com", bob = "bob@example.com" }}
allow_domains = ["partner.example.org"]

[[channel]]
name = "email-strict"
type = "email"
smtp_url = "{plain_url}"
from = "approvals@example.com"
to = "strict@example.com"

[[channel]]
name = "email-tls"
type = "email"
smtp_url = "{tls_url}"
ca_file = "{ca_file}"
username = "{user}"
password = "file:{password_file}"
from = "approvals@example.com"
to = "secure@example.com"
"""


def make_certificate(directory):
    """A self-signed certificate for 127.0.0.1 (the openssl command-line tool)."""
    cert = os.path.join(directory, "smtp.crt")
    key = os.path.join(directory, "smtp.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


class _Links(html.parser.HTMLParser):
    """The (text, href) of every <a> in an HTML part."""

    def __init__(self):
        super().__init__()
        self.links = []
        self._href = None

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._href = dict(attrs).get("href")
            self.links.append(["", self._href])

    def handle_data(self, data):
        if self._href is not None:
            self.links[-1][0] += data

    def handle_endtag(self, tag):
        if tag == "a":
            self._href = None


def html_links(received):
    parser = _Links()
    parser.feed(received.part("text/html"))
    return [(text.strip(), href) for text, href in parser.links]


class EmailTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="countersign-email-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.plain = SmtpSink().start()
        self.addCleanup(self.plain.stop)
        cert, key = make_certificate(self.dir)
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(cert, key)
        self.secure = SmtpSink(tls_context=tls, auth=(SMTP_USER, SMTP_PASSWORD)).start()
        self.addCleanup(self.secure.stop)
        password_file = os.path.join(self.dir, "smtp-password")
        with open(password_file, "w") as f:
            f.write(SMTP_PASSWORD + "\n")
        config = os.path.join(self.dir, "countersign.toml")
        with open(config, "w") as f:
            f.write(CONFIG.format(plain_url=self.plain.url, tls_url=self.secure.url, ca_file=cert,
                                  user=SMTP_USER, password_file=password_file))
        self.server = Server(data_dir=self.dir, extra_args=["--config", config])
        self.server.start()
        self.addCleanup(self._stop_server)
        self.agent = self.server.create_token("ci-bot", "agent")

    def _stop_server(self):
        result = getattr(self._outcome, "result", None)
        if result is not None and any(t is self for t, _ in result.errors + result.failures):
            print(self.server.read_log()[-6000:])
        self.server.stop()

    # -- helpers -------------------------------------------------------------------------------
    def create(self, notify, **fields):
        body = {"action": "deploy_staging", "title": "Deploy v2.0",
                "arguments": {"ref": "v2.0"}, "notify": list(notify)}
        body.update(fields)
        return self.server.create_request(token=self.agent, **body)

    def link(self, r, choice, recipient):
        return one_click_url(self.dir, self.server.url, r, choice, recipient)

    def get(self, url, cookie=None):
        headers = {"Cookie": cookie} if cookie else {}
        return self.server.call("GET", urllib.parse.urlsplit(url).path, token=None,
                                headers=headers)

    def post_form(self, url, fields, cookie):
        return self.server.call("POST", urllib.parse.urlsplit(url).path, token=None,
                                headers={"Cookie": cookie},
                                raw=urllib.parse.urlencode(fields).encode(), content_type=FORM)

    def status(self, r):
        return self.server.call("GET", "/v1/requests/" + r["id"]).json["status"]

    def rows(self, r):
        got = self.server.call("GET", "/v1/outbox?request=" + r["id"])
        self.assertEqual(got.status, 200, got)
        return got.json["outbox"]

    def wait_rows(self, r, predicate, timeout=30.0):
        deadline = time.monotonic() + timeout
        while True:
            rows = self.rows(r)
            if predicate(rows):
                return rows
            if time.monotonic() > deadline:
                self.fail(f"outbox never reached the expected state: {rows}")
            time.sleep(0.02)  # polling the server's state, not waiting for time to pass

    def failed_events(self, r):
        audit = self.server.call("GET", f"/v1/audit?request={r['id']}").json["events"]
        return [e for e in audit if e["type"] == "notification.failed"]

    # -- tests ---------------------------------------------------------------------------------
    def test_each_approver_gets_a_multipart_message_whose_links_decide_as_them(self):
        r = self.create(["email-ops"], approvers=["alice", "bob"], quorum=2)
        got = {m.rcpt_tos[0]: m for m in self.plain.wait_for(3)}
        self.assertEqual(sorted(got), ["alice@example.com", "bob@example.com", "ops@example.com"])

        alice = got["alice@example.com"]
        self.assertEqual(alice.mail_from, "approvals@example.com")
        self.assertEqual(alice.rcpt_tos, ["alice@example.com"])
        m = alice.message
        self.assertEqual(m["From"], "Countersign <approvals@example.com>")
        self.assertEqual(m["To"], "alice@example.com")
        self.assertEqual(m["Subject"], "Approval needed: Deploy v2.0")
        self.assertEqual(m["Auto-Submitted"], "auto-generated")
        self.assertEqual(m["X-Countersign-Request"], r["id"])
        self.assertRegex(m["Message-ID"], r"^<" + r["id"] + r"\.[0-9a-f]{16}@127\.0\.0\.1>$")
        self.assertIsNone(m["In-Reply-To"])
        self.assertTrue(m.is_multipart())
        self.assertEqual(m.get_content_type(), "multipart/alternative")
        self.assertEqual([p.get_content_type() for p in m.iter_parts()],
                         ["text/plain", "text/html"])

        text = alice.part("text/plain")
        for phrase in ("Approval needed", "Deploy v2.0", "Action:        deploy_staging",
                       "Requested by:  ci-bot",
                       "Deadline:      " + r["deadline_at"][:16].replace("T", " ") + " UTC",
                       '"ref": "v2.0"', "These links decide as alice."):
            self.assertIn(phrase, text)
        approve, deny = self.link(r, "approve", "alice"), self.link(r, "deny", "alice")
        self.assertIn("Approve: " + approve, text)
        self.assertIn("Deny: " + deny, text)
        # After the choices, the request's page in the web inbox, in both parts.
        inbox = self.server.url + "/ui/requests/" + r["id"]
        self.assertIn("Open in the inbox: " + inbox, text.splitlines())
        self.assertLess(text.index("Deny: " + deny), text.index("Open in the inbox: "))
        self.assertEqual(html_links(alice),
                         [("Approve", approve), ("Deny", deny), ("Open in the inbox", inbox)])

        # Each recipient's links are their own; the inbox link is the same for all.
        self.assertEqual(html_links(got["bob@example.com"]),
                         [("Approve", self.link(r, "approve", "bob")),
                          ("Deny", self.link(r, "deny", "bob")),
                          ("Open in the inbox", inbox)])
        self.assertEqual(html_links(got["ops@example.com"]),
                         [("Approve", self.link(r, "approve", "channel:email-ops")),
                          ("Deny", self.link(r, "deny", "channel:email-ops")),
                          ("Open in the inbox", inbox)])
        self.assertEqual(len({g.message["Message-ID"] for g in got.values()}), 3)
        rows = self.wait_rows(r, lambda rows: len(rows) == 3 and
                              all(x["state"] == "delivered" for x in rows))
        self.assertEqual({(x["destination"], x["kind"], x["attempts"]) for x in rows},
                         {("email-ops", "post", 1)})

    def test_a_link_decides_only_on_post_and_the_follow_up_replies_in_the_thread(self):
        r = self.create(["email-ops"], approvers=["alice"])
        [first] = self.plain.wait_for(1, to="alice@example.com")
        [(label, url)] = [link for link in html_links(first) if link[0] == "Approve"]

        # A mail scanner's GETs render the confirm page and decide nothing.
        for _ in range(3):
            page = self.get(url)
            self.assertEqual(page.status, 200, page)
            self.assertIn("Deploy v2.0", page.body)
        self.assertEqual(self.status(r), "pending")

        page = self.get(url)
        cookie = page.headers["Set-Cookie"].split(";", 1)[0]
        csrf = CSRF_FIELD.search(page.body).group(1)
        decided = self.post_form(url, {"csrf": csrf, "comment": "from my inbox"}, cookie)
        self.assertEqual(decided.status, 200, decided)
        self.assertEqual(self.status(r), "approved")
        request = self.server.call("GET", "/v1/requests/" + r["id"]).json
        self.assertEqual([(d["by"], d["choice"], d["comment"])
                          for d in request["decisions"]],
                         [("alice", "approve", "from my inbox")])

        first_id = first.message["Message-ID"]
        [_, follow_up] = self.plain.wait_for(2, to="alice@example.com")
        f = follow_up.message
        self.assertEqual(f["In-Reply-To"], first_id)
        self.assertEqual(f["References"], first_id)
        self.assertNotEqual(f["Message-ID"], first_id)
        self.assertEqual(f["Subject"], "Re: " + first.message["Subject"])
        text = follow_up.part("text/plain")
        self.assertTrue(text.startswith("Approved by alice"), text)
        self.assertIn("- alice: Approve \u2014 \u201cfrom my inbox\u201d", text)
        self.assertNotIn("/l/", text)
        inbox = self.server.url + "/ui/requests/" + r["id"]
        self.assertIn("Open in the inbox: " + inbox, text.splitlines())
        self.assertEqual(html_links(follow_up), [("Open in the inbox", inbox)])
        # ops@ is in the same thread of its own.
        [ops_first, ops_follow_up] = self.plain.wait_for(2, to="ops@example.com")
        self.assertEqual(ops_follow_up.message["In-Reply-To"], ops_first.message["Message-ID"])

    def test_the_approve_link_offers_standing_approvals_and_grants_the_one_chosen(self):
        r = self.create(["email-ops"], approvers=["alice"], session="run-7")
        [got] = self.plain.wait_for(1, to="alice@example.com")
        note = ("The approval page also lets you choose a standing approval instead of "
                "approving once: \u201cApprove for this session (1 h)\u201d or \u201cAlways "
                "approve deploy_staging for ci-bot (30 days)\u201d.")
        self.assertIn(note, got.part("text/plain"))
        self.assertIn(html.unescape(note), html.unescape(got.part("text/html")))
        [url] = [href for label, href in html_links(got) if label == "Approve"]

        page = self.get(url)
        self.assertEqual(page.status, 200, page)
        self.assertIn('name="grant" value="session:3600"', page.body)
        self.assertIn("Approve for this session (1 h)", page.body)
        cookie = page.headers["Set-Cookie"].split(";", 1)[0]
        csrf = CSRF_FIELD.search(page.body).group(1)
        decided = self.post_form(url, {"csrf": csrf, "grant": "session:3600"}, cookie)
        self.assertEqual(decided.status, 200, decided)
        self.assertIn("Also granted", decided.body)
        [grant] = self.server.call("GET", "/v1/grants").json["grants"]
        self.assertEqual((grant["scope"], grant["session"], grant["created_by"]),
                         ("session", "run-7", "alice"))
        again = self.create([], session="run-7")
        self.assertEqual((again["status"], again["reason_code"]),
                         ("approved", "approved_by_grant"))

    def test_a_high_risk_request_s_email_offers_no_standing_approval(self):
        self.create(["email-ops"], approvers=["alice"], session="run-7", risk="high")
        [got] = self.plain.wait_for(1, to="alice@example.com")
        self.assertIn("Approve: ", got.part("text/plain"))
        self.assertNotIn("standing approval", got.part("text/plain"))
        self.assertNotIn("standing approval", got.part("text/html"))

    def test_an_expiry_is_followed_up_too(self):
        r = self.create(["email-ops"], approvers=["bob"], timeout_seconds=1)
        [first] = self.plain.wait_for(1, to="bob@example.com")
        [_, follow_up] = self.plain.wait_for(2, to="bob@example.com")
        self.assertEqual(self.status(r), "expired")
        self.assertEqual(follow_up.message["In-Reply-To"], first.message["Message-ID"])
        self.assertTrue(follow_up.part("text/plain").startswith(
            "Expired: no decision before the deadline"))

    def test_starttls_required_refuses_a_server_that_does_not_offer_it(self):
        r = self.create(["email-strict"])
        [row] = self.wait_rows(r, lambda rows: rows and rows[0]["state"] == "failed")
        self.assertEqual(row["attempts"], 1)
        self.assertIn('the SMTP server does not offer STARTTLS and starttls = "required"',
                      row["last_error"])
        self.assertEqual(self.plain.answered, [])  # no DATA: nothing was sent
        [event] = self.failed_events(r)
        self.assertEqual(event["data"]["destination"], "email-strict")
        self.assertIn("STARTTLS", event["data"]["error"])

    def test_starttls_and_auth_deliver_to_a_server_that_offers_them(self):
        r = self.create(["email-tls"])
        [got] = self.secure.wait_for(1)
        self.assertEqual(got.rcpt_tos, ["secure@example.com"])
        self.assertEqual(got.message["Subject"], "Approval needed: Deploy v2.0")
        self.wait_rows(r, lambda rows: rows and rows[0]["state"] == "delivered")

    def test_a_transient_4xx_then_success_delivers_once(self):
        self.plain.script("451 4.3.0 Try again later")
        r = self.create(["email-ops"])
        [got] = self.plain.wait_for(1, to="ops@example.com")
        self.assertEqual(self.plain.answered, ["451 4.3.0 Try again later", "250 OK"])
        [row] = self.wait_rows(r, lambda rows: rows and rows[0]["state"] == "delivered")
        self.assertEqual(row["attempts"], 2)
        self.assertEqual(len(self.plain.messages(to="ops@example.com")), 1)
        self.assertEqual(self.failed_events(r), [])

    def test_a_permanent_5xx_fails_at_once_with_a_notification_failed_event(self):
        self.plain.script("550 5.7.1 Message rejected as spam")
        r = self.create(["email-ops"])
        [row] = self.wait_rows(r, lambda rows: rows and rows[0]["state"] == "failed")
        self.assertEqual(row["attempts"], 1)
        self.assertIn("550 5.7.1 Message rejected as spam", row["last_error"])
        self.assertEqual(self.plain.messages(), [])
        [event] = self.failed_events(r)
        self.assertEqual(event["data"]["delivery_id"], row["delivery_id"])
        self.assertEqual(event["data"]["destination"], "email-ops")

    def test_email_notify_entries_mail_that_address_with_links_only_when_it_is_trusted(self):
        r = self.create(["email:pat@partner.example.org", "email:bob@example.com",
                         "email:me@agent.example.net"], approvers=["bob"])
        pat = self.plain.wait_for(1, to="pat@partner.example.org")[0]
        # No decision links; the inbox asks who signs in, so its link is there.
        self.assertEqual(html_links(pat),
                         [("Open in the inbox", self.server.url + "/ui/requests/" + r["id"])])
        self.assertIn("This message carries no decision links", pat.part("text/plain"))
        bob = self.plain.wait_for(1, to="bob@example.com")[0]
        self.assertEqual(html_links(bob)[0], ("Approve", self.link(r, "approve", "bob")))
        # An address the config does not trust is never mailed.
        rows = self.wait_rows(r, lambda rows: len(rows) == 3 and
                              all(x["state"] != "pending" for x in rows))
        [refused] = [x for x in rows if x["state"] == "failed"]
        self.assertIn("'me@agent.example.net' is not a recipient", refused["last_error"])
        self.assertEqual(self.plain.messages(to="me@agent.example.net"), [])

    def test_request_text_cannot_add_headers_or_recipients(self):
        self.create(["email-ops"],
                    title="Deploy\r\nBcc: evil@example.net\r\n\r\nDéployer \U0001F680")
        [got] = self.plain.wait_for(1, to="ops@example.com")
        self.assertEqual(got.rcpt_tos, ["ops@example.com"])
        self.assertIsNone(got.message["Bcc"])
        self.assertEqual(got.message["Subject"],
                         "Approval needed: Deploy  Bcc: evil@example.net    Déployer \U0001F680")
        self.assertIn("=?UTF-8?B?", got.data.decode().split("\r\n\r\n", 1)[0])


if __name__ == "__main__":
    unittest.main()
