"""The web inbox (/ui/) in a real headless Chromium: sign in with a token, find a request in
the inbox, open it, approve it with a comment; the agent waiting on the API hears at once.

The real server runs on port 0 (tests/integration/harness.py); Selenium types and clicks what
a person would, and what the browser did is checked over the API. Screenshots go to a
temporary directory, or to COUNTERSIGN_SCREENSHOT_DIR (e.g. docs/img) to refresh the docs'.
"""

import base64
import hashlib
import json
import os
import shutil
import tempfile
import threading
import unittest

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions

import browser
from browser import harness


class InboxInChromiumTest(unittest.TestCase):
    def setUp(self):
        self.server = harness.Server()
        self.server.start()
        self.addCleanup(self.server.cleanup)
        self.agent = self.server.create_token("ci-bot", "agent")
        self.alice = self.server.create_token("alice", "approver")
        self.shots = os.environ.get("COUNTERSIGN_SCREENSHOT_DIR") or tempfile.mkdtemp(
            prefix="countersign-shots-")
        if "COUNTERSIGN_SCREENSHOT_DIR" not in os.environ:
            self.addCleanup(shutil.rmtree, self.shots, True)

    def chromium(self, phone=False):
        b = browser.Browser(phone=phone)
        self.addCleanup(b.quit)
        return b

    def sign_in(self, b, token):
        b.open(self.server.url + "/")  # a browser at / is sent to the inbox, then to sign in
        self.assertTrue(b.driver.current_url.endswith("/ui/login"), b.driver.current_url)
        b.driver.find_element(By.ID, "token").send_keys(token)
        b.driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        b.wait_until(lambda d: d.current_url.endswith("/ui/"), "sign-in did not reach the inbox")
        b.wait_for_load()

    def test_sign_in_open_a_request_and_approve_it_while_the_agent_waits(self):
        req = self.server.create_request(token=self.agent, title="Deploy v2.0 to production",
                                         arguments={"ref": "v2.0", "replicas": 3},
                                         details={"ticket": "OPS-12"})
        heard = {}

        def wait_for_outcome():
            r = self.server.call("GET", f"/v1/requests/{req['id']}/wait?timeout=60",
                                 token=self.agent)
            heard["status"], heard["body"] = r.status, r.json

        waiter = threading.Thread(target=wait_for_outcome)
        waiter.start()
        self.addCleanup(waiter.join, 5)

        b = self.chromium()
        self.sign_in(b, self.alice)
        self.assertEqual(b.driver.title, "(1) Waiting for your decision – countersign")
        self.assertIn("Signed in as alice (approver)",
                      b.driver.find_element(By.TAG_NAME, "nav").text)
        b.save_screenshot(os.path.join(self.shots, "inbox.png"))
        b.driver.find_element(By.LINK_TEXT, "Deploy v2.0 to production").click()
        b.wait_until(lambda d: d.current_url.endswith("/ui/requests/" + req["id"]))
        b.wait_for_load()
        self.assertIn('"replicas": 3', b.driver.find_element(By.TAG_NAME, "pre").text)
        b.save_screenshot(os.path.join(self.shots, "inbox-request.png"))

        b.driver.find_element(By.ID, "comment").send_keys("ship it")
        b.driver.find_element(By.CSS_SELECTOR, 'button[name=choice][value=approve]').click()
        b.wait_until(lambda d: "recorded=approve" in d.current_url, "the decision did not land")
        b.wait_for_load()
        notice = b.driver.find_element(By.CSS_SELECTOR, "p.notice.ok").text
        self.assertEqual(notice, "Your decision was recorded: Approve.")
        self.assertEqual(b.driver.find_elements(By.CSS_SELECTOR, "button[name=choice]"), [])

        waiter.join(30)
        self.assertFalse(waiter.is_alive(), "the agent's long-poll did not return")
        self.assertEqual(heard["status"], 200, heard)
        self.assertEqual(heard["body"]["status"], "approved")
        [decision] = heard["body"]["decisions"]
        self.assertEqual((decision["by"], decision["comment"]), ("alice", "ship it"))

        b.driver.find_element(By.LINK_TEXT, "Inbox").click()
        b.wait_until(lambda d: d.current_url.endswith("/ui/"))
        b.wait_for_load()
        self.assertEqual(b.driver.find_element(By.CSS_SELECTOR, "p.notice.ok").text,
                         "Nothing is waiting for you.")

    def test_approving_for_the_session_grants_and_the_page_then_shows_what_ran(self):
        req = self.server.create_request(token=self.agent, title="Restart the worker",
                                         action="restart_worker", session="run-7")
        b = self.chromium()
        self.sign_in(b, self.alice)
        b.open(self.server.url + "/ui/requests/" + req["id"])
        b.wait_for_load()
        options = [o.text for o in b.driver.find_elements(By.CSS_SELECTOR, "select#grant option")]
        self.assertEqual(options, ["Approve once", "Approve for this session (1 h)",
                                   "Always approve restart_worker for ci-bot (30 days)"])
        b.save_screenshot(os.path.join(self.shots, "inbox-grant-options.png"))
        b.driver.find_element(By.CSS_SELECTOR, "select#grant option:nth-child(2)").click()
        b.driver.find_element(By.CSS_SELECTOR, 'button[name=choice][value=approve]').click()
        b.wait_until(lambda d: "recorded=approve" in d.current_url, "the decision did not land")
        [grant] = self.server.call("GET", "/v1/grants", token=self.alice).json["grants"]
        self.assertEqual((grant["scope"], grant["session"], grant["request_id"]),
                         ("session", "run-7", req["id"]))

        reported = self.server.call("POST", f"/v1/requests/{req['id']}/outcome",
                                    {"status": "failed", "exit_code": 2,
                                     "detail": "worker did not come back"}, token=self.agent)
        self.assertEqual(reported.status, 200, reported.json)
        b.open(self.server.url + "/ui/requests/" + req["id"])
        b.wait_for_load()
        ran = b.driver.find_element(By.CSS_SELECTOR, "p.notice[role=status] strong").text
        self.assertIn("ran: failed (exit 2)", ran)
        self.assertIn("worker did not come back", b.driver.find_element(By.TAG_NAME, "main").text)
        b.save_screenshot(os.path.join(self.shots, "inbox-execution.png"))

    def test_editing_the_arguments_shows_the_diff_and_the_receipt_binds_the_edit(self):
        req = self.server.create_request(token=self.agent, title="Scale the web tier",
                                         arguments={"replicas": 3, "env": "prod"})
        b = self.chromium()
        self.sign_in(b, self.alice)
        b.open(self.server.url + "/ui/requests/" + req["id"])
        box = b.driver.find_element(By.ID, "arguments")
        self.assertEqual(json.loads(box.get_attribute("value")), {"replicas": 3, "env": "prod"})
        box.clear()
        box.send_keys('{"replicas": 2, "env": "prod"}')
        b.driver.find_element(By.CSS_SELECTOR, "button[name=choice][value=approve]").click()
        b.wait_until(lambda d: "recorded=approve" in d.current_url, "the approval did not land")
        b.wait_for_load()
        cells = [c.text for c in b.driver.find_elements(By.CSS_SELECTOR, "table.diff tbody td")]
        self.assertEqual(cells, ["3", "2"])
        got = self.server.get_request(req["id"], token=self.alice)
        claims = json.loads(base64.urlsafe_b64decode(got["receipt"].split(".")[1] + "=="))
        expected = hashlib.sha256(b'{"env":"prod","replicas":2}').hexdigest()
        self.assertEqual(claims["arguments_sha256"], expected)
        self.assertIn(expected, b.driver.find_element(By.ID, "receipt-heading")
                      .find_element(By.XPATH, "..").text)

    def test_the_open_inbox_follows_new_and_decided_requests_without_a_reload(self):
        b = self.chromium()
        self.sign_in(b, self.alice)
        self.assertEqual(b.driver.title, "Waiting for your decision – countersign")
        b.js("window.__sameDocument = true;")  # gone if the page were loaded again

        def rows(d):  # in one script: the page may swap its <main> between two reads
            return d.execute_script(
                "return [...document.querySelectorAll('table.inbox a')].map(a => a.textContent);")

        first = self.server.create_request(token=self.agent, title="Rotate the keys")
        b.wait_until(lambda d: rows(d) == ["Rotate the keys"], "the new request did not appear")
        second = self.server.create_request(token=self.agent, title="Flush the cache",
                                            timeout_seconds=60)
        b.wait_until(lambda d: rows(d) == ["Flush the cache", "Rotate the keys"],
                     "the second request did not appear, soonest deadline first")
        b.wait_until(lambda d: d.title == "(2) Waiting for your decision – countersign")
        for req, left in ((first, ["Flush the cache"]), (second, [])):
            r = self.server.call("POST", f"/v1/requests/{req['id']}/decisions",
                                 {"choice": "deny"}, token=self.alice)
            self.assertEqual(r.status, 200, r)
            b.wait_until(lambda d, left=left: rows(d) == left, f"not left: {left}")
        b.wait_until(lambda d: d.execute_script(
            "return document.querySelector('p.notice.ok')?.textContent;") ==
            "Nothing is waiting for you.", "the empty inbox did not say so")
        self.assertEqual(b.driver.title, "Waiting for your decision – countersign")
        self.assertTrue(b.js("return window.__sameDocument === true;"), "the page was reloaded")

    def test_a_batch_deny_of_three_keeps_the_selection_through_a_live_refresh(self):
        picked = [self.server.create_request(token=self.agent, title=f"Batch {i}")
                  for i in range(3)]
        b = self.chromium()
        self.sign_in(b, self.alice)
        for req in picked[:2]:
            b.driver.find_element(By.ID, "pick-" + req["id"]).click()
        b.driver.find_element(By.ID, "batch-comment").send_keys("not today")
        # A request arriving meanwhile refreshes the page; the ticks and the text stay.
        self.server.create_request(token=self.agent, title="Arrives meanwhile")
        b.wait_until(lambda d: d.execute_script(
            "return document.querySelectorAll('table.inbox tbody tr').length;") == 4,
            "the new request did not appear")
        self.assertEqual(b.js("return document.getElementById('batch-comment').value;"),
                         "not today")
        b.driver.find_element(By.ID, "pick-" + picked[2]["id"]).click()
        ticked = b.js("return [...document.querySelectorAll('input[type=checkbox]:checked')]"
                      ".map(c => c.id);")
        self.assertEqual(sorted(ticked), sorted("pick-" + r["id"] for r in picked))
        b.driver.find_element(By.CSS_SELECTOR, "button[name=choice][value=deny]").click()
        b.wait_until(lambda d: d.execute_script(
            "return document.querySelector('p.notice')?.textContent;") == "Denied 3 requests.",
            "the batch did not report")
        for req in picked:
            got = self.server.get_request(req["id"], token=self.alice)
            self.assertEqual((got["status"], got["decisions"][0]["comment"]),
                             ("denied", "not today"))

    def test_approving_with_the_keyboard_alone(self):
        req = self.server.create_request(token=self.agent, title="Keyboard only")
        b = self.chromium()
        self.sign_in(b, self.alice)
        body = b.driver.find_element(By.TAG_NAME, "body")
        body.send_keys("?")
        b.wait_until(lambda d: d.find_elements(By.ID, "shortcuts"), "? showed no help")
        self.assertIn("approve this request", b.driver.find_element(By.ID, "shortcuts").text)
        body.send_keys("?")
        b.wait_until(lambda d: not d.find_elements(By.ID, "shortcuts"), "? did not hide it")
        body.send_keys("j")
        self.assertEqual(b.js("return document.activeElement.textContent;"), "Keyboard only")
        b.driver.switch_to.active_element.send_keys(Keys.ENTER)
        b.wait_until(lambda d: d.current_url.endswith("/ui/requests/" + req["id"]))
        b.wait_for_load()
        b.driver.find_element(By.TAG_NAME, "body").send_keys("a")
        alert = b.wait_until(expected_conditions.alert_is_present(), "a asked nothing")
        self.assertEqual(alert.text, "Approve: Decide: Keyboard only?")
        alert.accept()
        b.wait_until(lambda d: "recorded=approve" in d.current_url, "the approval did not land")
        got = self.server.get_request(req["id"], token=self.alice)
        self.assertEqual(got["status"], "approved")
        # Typing in a field is typing, not a shortcut.
        other = self.server.create_request(token=self.agent, title="Typed into")
        b.open(self.server.url + "/ui/requests/" + other["id"])
        b.driver.find_element(By.ID, "comment").send_keys("a d ?")
        self.assertFalse(expected_conditions.alert_is_present()(b.driver))
        self.assertEqual(self.server.get_request(other["id"], token=self.alice)["status"],
                         "pending")

    def test_hostile_text_stays_text_and_every_control_has_a_label(self):
        hostile = '<script>window.__pwned=1</script>"><img src=x onerror="window.__pwned=1">'
        req = self.server.create_request(token=self.agent, title=hostile,
                                         details={"why": hostile}, arguments={"x": hostile})
        b = self.chromium()
        self.sign_in(b, self.alice)
        for path in ("/ui/", "/ui/requests/" + req["id"]):
            b.open(self.server.url + path)
            self.assertIsNone(b.js("return window.__pwned;"), path)
            self.assertEqual(b.driver.find_elements(
                By.CSS_SELECTOR, 'main img, main script:not([src="/ui/ui.js"])'), [], path)
            self.assertIn("<script>window.__pwned=1</script>",
                          b.driver.find_element(By.TAG_NAME, "main").text, path)
            unlabelled = b.js("""
              return [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                .filter(c => !(c.id && document.querySelector(`label[for="${c.id}"]`))
                             && !c.getAttribute('aria-label')).map(c => c.name);""")
            self.assertEqual(unlabelled, [], path)

    def test_the_inbox_fits_a_phone(self):
        self.server.create_request(token=self.agent, title="Rotate the database password")
        b = self.chromium(phone=True)
        self.sign_in(b, self.alice)
        self.assertFalse(b.overflows_horizontally(), "the inbox scrolls sideways on a phone")
        width, height = b.save_screenshot(os.path.join(self.shots, "inbox-mobile.png"))
        self.assertEqual((width, height), browser.PHONE)


if __name__ == "__main__":
    unittest.main()
