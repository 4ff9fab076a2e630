"""The web inbox in real headless Chromium, the parts that need two people or time: a quorum
of two decided from two browsers, each seeing the other's approval live; the session cookie's
flags as Chromium holds them; a revoked token signing an open inbox out; the Audit page and its
verification; the request page's countdown. Screenshots as in test_inbox.py."""

import os
import shutil
import tempfile
import unittest

from selenium.webdriver.common.by import By

import browser
from browser import harness


class InboxLiveInChromiumTest(unittest.TestCase):
    def setUp(self):
        self.server = harness.Server()
        self.server.start()
        self.addCleanup(self.server.cleanup)
        self.agent = self.server.create_token("ci-bot", "agent")
        self.alice = self.server.create_token("alice", "approver")
        self.bob = self.server.create_token("bob", "approver")
        self.shots = os.environ.get("COUNTERSIGN_SCREENSHOT_DIR") or tempfile.mkdtemp(
            prefix="countersign-shots-")
        if "COUNTERSIGN_SCREENSHOT_DIR" not in os.environ:
            self.addCleanup(shutil.rmtree, self.shots, True)

    def chromium(self):
        b = browser.Browser()
        self.addCleanup(b.quit)
        return b

    def sign_in(self, b, token):
        b.open(self.server.url + "/ui/login")
        b.driver.find_element(By.ID, "token").send_keys(token)
        b.driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        b.wait_until(lambda d: d.current_url.endswith("/ui/"), "sign-in did not reach the inbox")
        b.wait_for_load()

    def open_request(self, b, request_id):
        b.open(f"{self.server.url}/ui/requests/{request_id}")
        b.wait_for_load()

    def approve(self, b, comment):
        b.driver.find_element(By.ID, "comment").send_keys(comment)
        b.driver.find_element(By.CSS_SELECTOR, "button[name=choice][value=approve]").click()
        b.wait_until(lambda d: "recorded=approve" in d.current_url, "the decision did not land")
        b.wait_for_load()

    def test_a_quorum_of_two_from_two_browsers_each_seeing_the_other_live(self):
        req = self.server.create_request(token=self.agent, title="Rotate the root CA", quorum=2)
        alice, bob = self.chromium(), self.chromium()
        self.sign_in(alice, self.alice)
        self.sign_in(bob, self.bob)
        self.open_request(bob, req["id"])
        self.assertIn("0 of 2", bob.driver.find_element(By.TAG_NAME, "main").text)
        bob.js("window.notReloaded = true")

        self.open_request(alice, req["id"])
        self.approve(alice, "first key holder")
        self.assertIn("1 of 2", alice.driver.find_element(By.TAG_NAME, "main").text)
        self.assertEqual(self.server.get_request(req["id"])["status"], "pending")

        # Bob's open page shows Alice's approval without a reload: he has typed nothing yet.
        bob.wait_until(lambda d: "first key holder" in d.find_element(By.TAG_NAME, "main").text,
                       "Bob's page did not follow Alice's decision")
        self.assertTrue(bob.js("return window.notReloaded === true"), "swapped in place")
        self.assertIn("1 of 2", bob.driver.find_element(By.TAG_NAME, "main").text)
        self.approve(bob, "second key holder")
        got = self.server.get_request(req["id"])
        self.assertEqual(got["status"], "approved")
        self.assertEqual(sorted(d["by"] for d in got["decisions"]), ["alice", "bob"])
        self.assertTrue(got["receipt"])

    def test_a_page_being_filled_in_is_not_swapped_but_says_it_changed(self):
        req = self.server.create_request(token=self.agent, title="Scale the fleet", quorum=2)
        bob = self.chromium()
        self.sign_in(bob, self.bob)
        self.open_request(bob, req["id"])
        bob.driver.find_element(By.ID, "comment").send_keys("half written")
        r = self.server.call("POST", f"/v1/requests/{req['id']}/decisions",
                             {"choice": "approve"}, token=self.alice)
        self.assertEqual(r.status, 200, r)
        bob.wait_until(lambda d: d.find_elements(By.ID, "changed"),
                       "the page did not say the request changed")
        self.assertIn("This request has changed since you opened it",
                      bob.driver.find_element(By.ID, "changed").text)
        self.assertEqual(bob.driver.find_element(By.ID, "comment").get_attribute("value"),
                         "half written", "the typed text is kept")

    def test_the_deadline_counts_down(self):
        req = self.server.create_request(token=self.agent, title="Restart the cache",
                                         timeout_seconds=240)
        b = self.chromium()
        self.sign_in(b, self.alice)
        self.open_request(b, req["id"])
        line = b.driver.find_element(By.CSS_SELECTOR, "[data-deadline]")
        self.assertTrue(line.is_displayed())
        first = line.text
        self.assertRegex(first, r"^Time left: (3|4) min \d\d s$")
        b.wait_until(lambda d: d.find_element(By.CSS_SELECTOR, "[data-deadline]").text != first,
                     "the countdown did not move")

    def test_the_session_cookie_as_chromium_holds_it(self):
        b = self.chromium()
        self.sign_in(b, self.alice)
        cookie = b.driver.get_cookie("cs_ui_session")
        self.assertIsNotNone(cookie)
        self.assertTrue(cookie["httpOnly"])
        self.assertEqual(cookie["sameSite"], "Lax")
        self.assertEqual(cookie["path"], "/ui/")
        self.assertFalse(cookie["secure"], "plain http on loopback: not Secure")
        self.assertNotIn("expiry", cookie, "a session cookie, gone with the browser")
        self.assertIsNone(b.js("return document.cookie.match(/cs_ui_session/)"),
                          "scripts cannot read it")

    def test_a_revoked_token_signs_the_open_inbox_out_at_its_next_request(self):
        b = self.chromium()
        self.sign_in(b, self.alice)
        tokens = self.server.call("GET", "/v1/tokens").json["tokens"]
        alice_id = next(t["id"] for t in tokens if t["name"] == "alice")
        r = self.server.call("DELETE", f"/v1/tokens/{alice_id}")
        self.assertEqual(r.status, 200, r)
        # The next thing the open page does (here: following a new request) finds the session
        # ended and shows the sign-in page saying so.
        self.server.create_request(token=self.agent, title="Anything")
        b.wait_until(lambda d: "/ui/login" in d.current_url, "the open inbox was not signed out")
        b.wait_for_load()
        self.assertIn("Your session has ended", b.driver.find_element(By.TAG_NAME, "main").text)
        b.open(self.server.url + "/ui/")
        self.assertIn("/ui/login", b.driver.current_url)

    def test_another_tenant_sees_404_and_the_agent_its_own_requests_without_buttons(self):
        req = self.server.create_request(token=self.agent, title="Purge the CDN")
        outsider = self.chromium()
        self.sign_in(outsider, self.server.create_token("zed", "approver", tenant="acme"))
        self.open_request(outsider, req["id"])
        main = outsider.driver.find_element(By.TAG_NAME, "main").text
        self.assertIn("No such request", main)
        self.assertNotIn("Purge the CDN", outsider.driver.page_source)
        self.assertEqual(outsider.js("return document.title"), "No such request – countersign")

        agent = self.chromium()
        self.sign_in(agent, self.agent)
        self.assertIn("Purge the CDN", agent.driver.find_element(By.TAG_NAME, "main").text)
        self.assertEqual(agent.driver.find_elements(By.CSS_SELECTOR, "input[type=checkbox]"), [],
                         "no batch selection for an agent")
        self.open_request(agent, req["id"])
        self.assertEqual(agent.driver.find_elements(By.CSS_SELECTOR, "button[name=choice]"), [])
        self.assertIn("Agents cannot decide requests",
                      agent.driver.find_element(By.TAG_NAME, "main").text)

    def test_the_audit_page_and_verifying_the_chain(self):
        for i in range(3):
            req = self.server.create_request(token=self.agent, title=f"Deploy build {i}")
            r = self.server.call("POST", f"/v1/requests/{req['id']}/decisions",
                                 {"choice": "approve" if i else "deny", "comment": "ok"},
                                 token=self.alice)
            self.assertEqual(r.status, 200, r)
        b = self.chromium()
        self.sign_in(b, self.server.admin_token)
        b.driver.find_element(By.LINK_TEXT, "Audit").click()
        b.wait_until(lambda d: d.current_url.endswith("/ui/audit"))
        b.wait_for_load()
        rows = b.driver.find_elements(By.CSS_SELECTOR, "table.audit tbody tr")
        self.assertGreaterEqual(len(rows), 6)
        self.assertIn("decision.recorded", rows[0].text + rows[1].text)
        b.save_screenshot(os.path.join(self.shots, "inbox-audit.png"))

        b.driver.find_element(By.XPATH, "//button[text()='Verify the whole chain']").click()
        b.wait_until(lambda d: d.current_url.endswith("/ui/audit/verify"))
        b.wait_until(lambda d: "Intact up to event" in d.find_element(By.TAG_NAME, "main").text,
                     "the verification did not report")
        self.assertIn("the whole chain", b.driver.find_element(By.TAG_NAME, "main").text)
        b.save_screenshot(os.path.join(self.shots, "inbox-audit-verify.png"))


if __name__ == "__main__":
    unittest.main()
