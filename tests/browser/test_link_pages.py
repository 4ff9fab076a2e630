"""The one-click link pages (GET/POST /l/{token}) in a real headless Chromium.

The real server runs on port 0 (tests/integration/harness.py); links are minted with
`countersign link` against its data directory, as an admin would; Chromium opens them, and
Selenium reads, fills in and presses what a person would. What the browser did is then checked
over the API. The principals are an agent (ci-bot, the requester) and an approver, alice.

The screenshots of the form (desktop and phone) go to a temporary directory; to refresh the
ones the docs show, run with COUNTERSIGN_SCREENSHOT_DIR=docs/img (relative to the repository).
"""

import html
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import unittest

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select

import browser
from browser import harness

REPO_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
CLI_TIMEOUT = 60  # seconds; a safety net so a hung CLI fails the test instead of the run

# One property of each kind the form renders, in the order it shows them; control i is r-<i>.
SCHEMA = {
    "type": "object",
    "properties": {
        "reason": {"type": "string", "title": "Reason", "description": "Why now?",
                   "minLength": 3, "maxLength": 80},
        "replicas": {"type": "integer", "title": "Replicas", "minimum": 1, "maximum": 10,
                     "default": 3},
        "notify": {"type": "boolean", "title": "Page the on-call", "default": False},
        "env": {"type": "string", "title": "Environment", "enum": ["staging", "prod"],
                "enumNames": ["Staging", "Production"]},
        "checks": {"type": "array", "title": "Checks", "minItems": 1,
                   "items": {"anyOf": [{"const": "smoke", "title": "Smoke tests"},
                                       {"const": "load", "title": "Load tests"},
                                       {"const": "security", "title": "Security scan"}]}},
        "window": {"type": "string", "title": "Window", "format": "date"},
    },
    "required": ["reason", "replicas", "env", "window"],
}

# Text meant to run as script or to reorder what a reader sees, if a page let it through.
SCRIPT = "<script>window.__pwned=1</script>"
ATTRIBUTE_BREAKOUT = '"><img src=x onerror="window.__pwned=1">'
RIGHT_TO_LEFT_OVERRIDE = "\u202e"


def as_shown(text):
    """`text` as a page shows it: each bidi control named in brackets, so that none can
    reorder what the reader sees (core/bidi_controls.hpp)."""
    return text.replace(RIGHT_TO_LEFT_OVERRIDE, "[RLO]")


def clean_env():
    """The caller's environment without any COUNTERSIGN_* variable."""
    return {k: v for k, v in os.environ.items() if not k.startswith("COUNTERSIGN_")}


class ForeignSite:
    """A page on another origin (loopback, its own port) holding a form that posts itself to
    `target` as soon as it loads, with `fields`: what a hostile site would serve."""

    def __init__(self, target, fields):
        inputs = "".join(f'<input type="hidden" name="{html.escape(name)}" '
                         f'value="{html.escape(value)}">' for name, value in fields)
        page = ('<!DOCTYPE html><html><body>'
                f'<form method="post" action="{html.escape(target)}">{inputs}'
                '</form><script>document.forms[0].submit();</script></body></html>').encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


class LinkPageTestCase(harness.ServerTestCase):
    """A fresh server, with ci-bot and alice, and a fresh desktop Chromium per test."""

    def setUp(self):
        browser.require_browser()
        super().setUp()
        self.agent = self.server.create_token("ci-bot", "agent")
        self.server.create_token("alice", "approver")
        self.browser = self.start_browser()

    def start_browser(self, phone=False):
        b = browser.Browser(phone=phone)
        self.addCleanup(b.quit)
        return b

    # -- the server --------------------------------------------------------------------------
    def create(self, **fields):
        return self.server.create_request(token=self.agent, **fields)

    def mint(self, request_id, choice="approve", recipient="alice"):
        """The full URL of a link for `recipient` to make `choice` on the request."""
        r = subprocess.run([harness.BIN, "link", "--data-dir", self.server.data_dir,
                            "--request", request_id, "--choice", choice, "--as", recipient,
                            "--public-url", self.server.url],
                           env=clean_env(), capture_output=True, text=True, timeout=CLI_TIMEOUT)
        self.assertEqual(r.returncode, 0, r.stderr)
        url = r.stdout.strip()
        self.assertTrue(url.startswith(self.server.url + "/l/"), url)
        return url

    def assert_untouched(self, request_id):
        """The request is still pending with no decision at all."""
        got = self.server.get_request(request_id)
        self.assertEqual(got["status"], "pending", got)
        self.assertEqual(got["decisions"], [], got)
        types = [e["type"] for e in self.server.audit(request_id)]
        self.assertNotIn("decision.recorded", types)

    # -- the page ----------------------------------------------------------------------------
    def find(self, css):
        return self.browser.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css):
        return self.browser.driver.find_elements(By.CSS_SELECTOR, css)

    def text_content(self, css):
        """The DOM text of the element, exactly as parsed (not as laid out)."""
        return self.find(css).get_attribute("textContent")

    def detail_rows(self):
        """The rows of the request's Details list: (key, value, tag of the value's first
        child element), as DOM text."""
        return self.browser.js("""
            const list = document.querySelector('dl.details');
            return Array.from(list.querySelectorAll('dd'), dd => [
                dd.previousElementSibling.textContent, dd.textContent,
                dd.firstElementChild && dd.firstElementChild.tagName]);""")

    def heading(self):
        return self.find("h1").text

    def submit_button(self):
        buttons = self.find_all("form button")
        self.assertEqual(len(buttons), 1, "the link's one choice is the form's only button")
        return buttons[0]

    def press_and_wait_for_next_page(self, button):
        """Clicks `button` and waits until the browser has loaded the page the form posted to."""
        old_page = self.find("html")
        button.click()
        self.browser.wait_until(expected_conditions.staleness_of(old_page),
                                "pressing the button loaded no new page")
        self.browser.wait_for_load()

    def screenshot_dir(self):
        """Where screenshots go: COUNTERSIGN_SCREENSHOT_DIR, or a directory removed after."""
        wanted = os.environ.get("COUNTERSIGN_SCREENSHOT_DIR")
        if wanted:
            return os.path.join(REPO_ROOT, wanted)  # a relative path is from the repository
        made = tempfile.mkdtemp(prefix="countersign-screens-")
        self.addCleanup(shutil.rmtree, made, True)
        return made


class PlainRequestTest(LinkPageTestCase):
    def test_approving_in_the_browser_shows_the_request_and_records_the_approval(self):
        request = self.create(title="Deploy v2.0 to production",
                              details={"commit": "4f2a9c1", "ticket": "OPS-42"},
                              arguments={"ref": "v2.0", "replicas": 3})
        self.browser.open(self.mint(request["id"]))

        self.assertEqual(self.heading(), "Confirm your choice: Approve")
        self.assertEqual(self.find("#request-title").text, "Deploy v2.0 to production")
        self.assertEqual({key: value for key, value, _ in self.detail_rows()},
                         {"commit": "4f2a9c1", "ticket": "OPS-42"})
        self.assertEqual(json.loads(self.text_content("section pre")),
                         {"ref": "v2.0", "replicas": 3})
        button = self.submit_button()
        self.assertEqual(button.text, "Approve")
        self.assertTrue(button.is_displayed() and button.is_enabled())
        self.assert_untouched(request["id"])  # opening the page decides nothing

        self.find("#comment").send_keys("checked the diff")
        self.press_and_wait_for_next_page(button)

        self.assertEqual(self.heading(), "Your decision was recorded")
        self.assertIn("Recorded: Approve by alice.", self.find(".notice.ok").text)
        got = self.server.get_request(request["id"])
        self.assertEqual(got["status"], "approved", got)
        self.assertEqual([(d["by"], d["choice"], d["comment"]) for d in got["decisions"]],
                         [("alice", "approve", "checked the diff")])


class FirstScreenTest(LinkPageTestCase):
    """What `countersign exec` asks, opened from a link the API handed out, on a 1200x900
    screen: the decision is in the first screen, the command line shown once."""

    ARGV = ["./deploy.sh", "--env", "production", "--replicas", "3"]
    SCREENSHOT = "/tmp/h3-link.png"

    def api_link(self, request_id, choice):
        r = self.server.call("POST", f"/v1/requests/{request_id}/links", {}, token=self.agent)
        self.assertEqual(r.status, 200, r)
        return next(link["url"] for link in r.json["links"]
                    if link["recipient"] == "alice" and link["choice"] == choice)

    def test_the_button_time_left_and_other_choice_fit_the_first_screen(self):
        line = " ".join(self.ARGV)
        request = self.create(
            action="deploy_production", title="Run " + line, approvers=["alice"],
            timeout_seconds=900, arguments={"argv": self.ARGV},
            details={"command": line, "argv": self.ARGV, "cwd": "/srv/app",
                     "host": "ci-runner-7"})
        self.browser.set_viewport(1200, 900)
        self.assertEqual(self.browser.viewport_size(), (1200, 900))
        self.browser.open(self.api_link(request["id"], "approve"))

        self.assertEqual(self.heading(), "Confirm your choice: Approve")
        button = self.submit_button()
        bottom = self.browser.js(
            "return arguments[0].getBoundingClientRect().bottom;", button)
        self.assertLess(bottom, 900, "the decision button is below the first screen")
        self.assertRegex(self.find(".time-left").text, r"^\(in 1[45] min\)$")
        # argv once: in the arguments, not again among the details.
        page_text = self.browser.js("return document.body.textContent;")
        self.assertEqual(page_text.count('"--replicas"'), 1, page_text)
        self.assertEqual({key for key, _, _ in self.detail_rows()}, {"command", "cwd", "host"})
        other = self.find("p.others a")
        self.assertEqual(other.text, "or Deny instead")
        self.assertLess(self.browser.js("return arguments[0].getBoundingClientRect().bottom;",
                                        other), 900)
        self.browser.save_screenshot(self.SCREENSHOT)

        # The other choice is only another confirm page: it decides nothing.
        other.click()
        self.browser.wait_until(lambda d: self.heading() == "Confirm your choice: Deny",
                                "the other choice's link did not open its confirm page")
        self.assert_untouched(request["id"])
        self.assertEqual(self.submit_button().text, "Deny")
        self.assertEqual(self.find("p.others a").text, "or Approve instead")

        self.press_and_wait_for_next_page(self.submit_button())
        self.assertEqual(self.heading(), "Your decision was recorded")
        self.assertEqual(self.server.get_request(request["id"])["status"], "denied")
        # Once resolved, what was decided is headed "Decisions", not "Decisions so far".
        headings = [h.text for h in self.find_all("h3")]
        self.assertIn("Decisions", headings)
        self.assertNotIn("Decisions so far", headings)


class ResponseFormTest(LinkPageTestCase):
    def setUp(self):
        super().setUp()
        self.request = self.create(title="Deploy v2.0 to production",
                                   details={"commit": "4f2a9c1", "ticket": "OPS-42"},
                                   arguments={"ref": "v2.0"}, response_schema=SCHEMA)
        self.link = self.mint(self.request["id"])

    def control(self, control_id):
        return self.find("#" + control_id)

    def test_every_control_has_a_visible_label_and_the_type_its_property_asks_for(self):
        self.browser.open(self.link)
        controls = self.browser.js("""
            return Array.from(document.querySelectorAll(
                'form input:not([type=hidden]), form select, form textarea'), c => {
              const label = c.id ? document.querySelector('label[for="' + CSS.escape(c.id) + '"]')
                                 : null;
              return {id: c.id, tag: c.tagName.toLowerCase(), type: c.type,
                      label: label ? label.textContent.trim() : '',
                      aria: (c.getAttribute('aria-label') || '').trim()};
            });""")
        by_id = {c["id"]: c for c in controls}
        self.assertEqual(
            sorted(by_id),
            ["comment", "r-0", "r-1", "r-2", "r-3", "r-4-0", "r-4-1", "r-4-2", "r-5"])
        for c in controls:
            with self.subTest(control=c["id"]):
                self.assertTrue(c["label"] or c["aria"], f"{c} has no label")
                if c["label"]:
                    label = self.find(f'label[for="{c["id"]}"]')
                    self.assertTrue(label.is_displayed(), f"the label of {c['id']} is hidden")

        self.assertEqual({i: (c["tag"], c["type"], c["label"]) for i, c in by_id.items()}, {
            "r-0": ("input", "text", "Reason (required)"),
            "r-1": ("input", "number", "Replicas (required)"),
            "r-2": ("input", "checkbox", "Page the on-call"),
            "r-3": ("select", "select-one", "Environment (required)"),
            "r-4-0": ("input", "checkbox", "Smoke tests"),
            "r-4-1": ("input", "checkbox", "Load tests"),
            "r-4-2": ("input", "checkbox", "Security scan"),
            "r-5": ("input", "date", "Window (required)"),
            "comment": ("textarea", "textarea", "Comment (optional)"),
        })
        reason = self.control("r-0")
        self.assertEqual((reason.get_attribute("minLength"), reason.get_attribute("maxLength")),
                         ("3", "80"))
        self.assertEqual(self.find("#" + reason.get_attribute("aria-describedby")).text,
                         "Why now?")
        replicas = self.control("r-1")
        self.assertEqual((replicas.get_attribute("min"), replicas.get_attribute("max"),
                          replicas.get_attribute("value")), ("1", "10", "3"))
        self.assertFalse(self.control("r-2").is_selected())
        env = Select(self.control("r-3"))
        self.assertEqual([o.text for o in env.options], ["Choose one", "Staging", "Production"])
        self.assertEqual(env.first_selected_option.text, "Choose one")
        self.assertEqual(self.find("fieldset legend").text, "Checks (choose at least 1)")
        self.assertEqual(
            [e.get_attribute("id") for e in self.find("fieldset").find_elements(
                By.CSS_SELECTOR, "input[type=checkbox]")], ["r-4-0", "r-4-1", "r-4-2"])
        for required in ("r-0", "r-1", "r-3", "r-5"):
            self.assertEqual(self.control(required).get_attribute("required"), "true", required)

    def test_the_browser_holds_back_an_incomplete_form_and_sends_the_filled_one_typed(self):
        self.browser.open(self.link)
        button = self.submit_button()
        # Constraint validation fires `invalid` on each control it stops the submit for.
        self.browser.js("""
            window.__invalid = [];
            document.forms[0].addEventListener(
                'invalid', e => window.__invalid.push(e.target.id), true);""")

        def held_back(why):
            self.browser.js("window.__invalid = [];")
            button.click()
            return self.browser.wait_until(
                lambda _: self.browser.js("return window.__invalid.length ? window.__invalid "
                                          ": null;"),
                f"the browser sent the form with {why}")

        self.assertEqual(held_back("every required field empty"), ["r-0", "r-3", "r-5"])
        self.assertTrue(self.browser.js("return document.getElementById('r-0')"
                                        ".validity.valueMissing;"))

        self.control("r-1").clear()
        self.control("r-1").send_keys("4")
        self.control("r-2").click()
        Select(self.control("r-3")).select_by_visible_text("Production")
        self.find('label[for="r-4-0"]').click()
        self.find('label[for="r-4-1"]').click()
        self.control("r-5").send_keys("12242026")  # en-US: month, day, year
        self.assertEqual(self.control("r-5").get_attribute("value"), "2026-12-24")
        self.assertEqual(held_back("the required reason empty"), ["r-0"])

        self.control("r-0").send_keys("ab")
        self.assertEqual(held_back("a reason under its minLength"), ["r-0"])
        self.assertTrue(self.browser.js("return document.getElementById('r-0').validity.tooShort;"))

        self.control("r-0").send_keys("ove the limit")
        self.control("r-1").clear()
        self.control("r-1").send_keys("11")
        self.assertEqual(held_back("replicas over their maximum"), ["r-1"])
        self.assertTrue(self.browser.js(
            "return document.getElementById('r-1').validity.rangeOverflow;"))
        self.assertEqual(self.heading(), "Confirm your choice: Approve")
        self.assert_untouched(self.request["id"])

        self.control("r-1").clear()
        self.control("r-1").send_keys("4")
        self.press_and_wait_for_next_page(button)

        self.assertEqual(self.heading(), "Your decision was recorded")
        got = self.server.get_request(self.request["id"])
        self.assertEqual(got["status"], "approved", got)
        typed = {"reason": "above the limit", "replicas": 4, "notify": True, "env": "prod",
                 "checks": ["smoke", "load"], "window": "2026-12-24"}
        self.assertEqual(got["response"], typed)
        self.assertEqual([(d["by"], d["response"]) for d in got["decisions"]],
                         [("alice", typed)])

    def test_the_form_fits_a_phone_and_a_desktop_and_is_photographed_for_the_docs(self):
        out = self.screenshot_dir()
        for name, phone in (("link-form.png", False), ("link-form-mobile.png", True)):
            with self.subTest(screen=name):
                b = self.browser if not phone else self.start_browser(phone=True)
                b.open(self.link)
                viewport = browser.PHONE if phone else browser.DESKTOP
                self.assertEqual(b.viewport_size(), viewport)
                self.assertFalse(b.overflows_horizontally(),
                                 f"the form is wider than a {viewport[0]}px screen")
                # The picture is of the form: "Your response" at the top of the screen.
                b.js("""const top = document.querySelector('form h2').getBoundingClientRect().top;
                        window.scrollTo(0, window.scrollY + top - 16);""")
                self.assertGreater(b.js("return window.scrollY;"), 0)
                self.assertEqual(b.save_screenshot(os.path.join(out, name)), viewport)


class HostileTextTest(LinkPageTestCase):
    def test_markup_and_bidi_overrides_in_a_request_are_shown_as_text(self):
        title = f"Deploy {SCRIPT} {ATTRIBUTE_BREAKOUT} {RIGHT_TO_LEFT_OVERRIDE}txt.exe"
        details = {"note": ATTRIBUTE_BREAKOUT, "script": SCRIPT,
                   "file": f"invoice{RIGHT_TO_LEFT_OVERRIDE}fdp.exe"}
        arguments = {"cmd": SCRIPT, "path": ATTRIBUTE_BREAKOUT,
                     "name": RIGHT_TO_LEFT_OVERRIDE + "txt.exe"}
        request = self.create(title=title, details=details, arguments=arguments)
        self.browser.open(self.mint(request["id"]))

        self.assertEqual(self.browser.js("return typeof window.__pwned;"), "undefined")
        self.assertEqual(self.browser.js("""
            return [document.images.length, document.scripts.length,
                    document.querySelectorAll('[onerror]').length];"""), [0, 0, 0])

        self.assertEqual(self.text_content("#request-title"), as_shown(title))
        self.assertIn(as_shown(title), self.browser.driver.title)
        rows = self.detail_rows()
        self.assertEqual({key: value for key, value, _ in rows},
                         {key: as_shown(value) for key, value in details.items()})
        self.assertEqual(json.loads(self.text_content("section pre")),
                         {key: as_shown(value) for key, value in arguments.items()})
        self.assertNotIn(RIGHT_TO_LEFT_OVERRIDE, self.browser.js(
            "return document.documentElement.textContent;"))
        # Each piece of text from the request also sits in its own <bdi>, isolated from the
        # page's text around it.
        self.assertEqual(self.find("#request-title > bdi").get_attribute("textContent"),
                         as_shown(title))
        self.assertEqual({tag for _, _, tag in rows}, {"BDI"})
        self.assertEqual(self.find("section pre > bdi").get_attribute("textContent"),
                         self.text_content("section pre"))
        # What shows on screen is the markup itself, as characters.
        shown = self.find("main").text
        for text in (SCRIPT, ATTRIBUTE_BREAKOUT, "[RLO]txt.exe", "invoice[RLO]fdp.exe"):
            self.assertIn(text, shown)


class GrantChoiceTest(LinkPageTestCase):
    """A request that offers standing approvals: the approve link's page has one button per
    way of approving, and the one pressed decides which grant is made."""

    def test_approve_for_this_session_makes_a_session_grant_the_next_request_passes(self):
        request = self.create(action="deploy_staging", title="Deploy v2.0 to staging",
                              session="run-7", arguments={"ref": "v2.0"})
        self.browser.open(self.mint(request["id"]))

        self.assertEqual(self.heading(), "Confirm your choice: Approve")
        buttons = self.find_all("form button")
        self.assertEqual([(b.text, b.get_attribute("value")) for b in buttons], [
            ("Approve once", ""),
            ("Approve for this session (1 h)", "session:3600"),
            ("Always approve deploy_staging for ci-bot (30 days)", "requester:2592000")])
        for b in buttons:
            self.assertTrue(b.is_displayed() and b.is_enabled())
        shots = self.screenshot_dir()
        self.assertEqual(self.browser.save_screenshot(os.path.join(shots, "link-grants.png")),
                         browser.DESKTOP)
        self.assert_untouched(request["id"])

        self.press_and_wait_for_next_page(buttons[1])

        self.assertEqual(self.heading(), "Your decision was recorded")
        self.assertIn("Also granted: deploy_staging is approved without asking in session "
                      "run-7 until", self.find_all(".notice.ok")[1].text)
        self.browser.save_screenshot(os.path.join(shots, "link-grants-recorded.png"))
        grants = self.server.call("GET", "/v1/grants").json["grants"]
        self.assertEqual([(g["scope"], g["session"], g["created_by"]) for g in grants],
                         [("session", "run-7", "alice")])
        again = self.create(action="deploy_staging", session="run-7")
        self.assertEqual((again["status"], again["reason_code"]),
                         ("approved", "approved_by_grant"))


class CrossSiteTest(LinkPageTestCase):
    def test_a_form_posted_from_another_origin_is_refused(self):
        request = self.create(title="Deploy v2.0 to production")
        link = self.mint(request["id"])
        # alice has opened her link, so her browser holds its anti-CSRF cookie; the hostile
        # page even knows the form's csrf value, so only where the POST comes from tells.
        self.browser.open(link)
        csrf = self.find("input[name=csrf]").get_attribute("value")
        site = ForeignSite(link, [("csrf", csrf), ("comment", "posted by another site")])
        self.addCleanup(site.close)

        for host, kind in (("localhost", "cross-site: the cookie is withheld"),
                           ("127.0.0.1", "same-site, another origin: the cookie is sent")):
            with self.subTest(kind):
                self.browser.driver.get(f"http://{host}:{site.port}/")
                self.browser.wait_until(
                    lambda d: d.current_url == link and d.execute_script(
                        "return document.readyState === 'complete' && !!document.querySelector"
                        "('h1');"),
                    "the hostile page's form never reached the link")
                self.assertEqual(self.heading(), "This form has expired, open the link again")
                self.assert_untouched(request["id"])

        # The same browser, back on the link's own page, can still decide.
        self.browser.open(link)
        self.press_and_wait_for_next_page(self.submit_button())
        self.assertEqual(self.heading(), "Your decision was recorded")
        self.assertEqual(self.server.get_request(request["id"])["status"], "approved")


if __name__ == "__main__":
    unittest.main()
