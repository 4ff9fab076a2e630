"""The web inbox's Admin pages in a real headless Chromium: an admin opens Admin from the
header, sees the channel health of a webhook that failed, creates a token and copies its
secret, which then works against the API; the same secret is not on the tokens list.

The webhook's receiver is tests/testing/fake_chat.py on loopback. Screenshots go to a
temporary directory, or to COUNTERSIGN_SCREENSHOT_DIR (e.g. docs/img) to refresh the docs'
(inbox-admin.png, inbox-admin-token.png).
"""

import os
import shutil
import sys
import tempfile
import time
import unittest

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

import browser
from browser import harness

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testing"))
from fake_chat import Answer, FakeChat  # noqa: E402

# The Admin pages' HTTP tests' config: a webhook that can fail, groups and policies.
from test_inbox_admin import CONFIG  # noqa: E402



class AdminInChromiumTest(unittest.TestCase):
    def setUp(self):
        self.fake = FakeChat().start()
        self.addCleanup(self.fake.stop)
        self.dir = tempfile.mkdtemp(prefix="countersign-admin-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        config = os.path.join(self.dir, "countersign.toml")
        with open(config, "w") as f:
            f.write(CONFIG.format(url=self.fake.url))
        self.server = harness.Server(extra_args=["--config", config],
                                     env={"TEST_WEBHOOK_SECRET": "whsec-0123456789abcdef"})
        self.server.start()
        self.addCleanup(self.server.cleanup)
        self.agent = self.server.create_token("ci-bot", "agent")
        self.server.create_token("alice", "approver", groups=["sre"])
        self.shots = os.environ.get("COUNTERSIGN_SCREENSHOT_DIR") or tempfile.mkdtemp(
            prefix="countersign-shots-")
        if "COUNTERSIGN_SCREENSHOT_DIR" not in os.environ:
            self.addCleanup(shutil.rmtree, self.shots, True)

    def wait_state(self, request_id, state):
        deadline = time.monotonic() + 30
        while True:
            rows = self.server.call("GET", "/v1/outbox?request=" + request_id).json["outbox"]
            if rows and rows[0]["state"] == state:
                return rows[0]
            if time.monotonic() > deadline:
                self.fail(f"the delivery never became {state}: {rows}")
            time.sleep(0.02)  # polling the server's state, not waiting for time to pass

    def test_an_admin_sees_channel_health_and_creates_a_token_shown_once(self):
        # One delivery that went through, then one given up after two 503s.
        ok = self.server.create_request(token=self.agent, title="Rotate keys")
        self.wait_state(ok["id"], "delivered")
        self.fake.script("/hooks/audit", Answer(503, b"down"), Answer(503, b"down"))
        failed = self.server.create_request(token=self.agent, title="Deploy v2.0")
        self.wait_state(failed["id"], "failed")
        self.server.call("POST", "/v1/grants", {"action": "restart_worker", "scope": "tenant",
                                                "ttl_seconds": 3600})

        b = browser.Browser()
        self.addCleanup(b.quit)
        b.open(self.server.url + "/ui/login")
        b.driver.find_element(By.ID, "token").send_keys(self.server.admin_token)
        b.driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        b.wait_until(lambda d: d.current_url.endswith("/ui/"), "sign-in did not reach the inbox")
        b.driver.find_element(By.LINK_TEXT, "Admin").click()
        b.wait_until(lambda d: d.current_url.endswith("/ui/admin"))
        b.wait_for_load()
        self.assertEqual(b.driver.title, "Admin – countersign")
        health = b.driver.find_element(By.CSS_SELECTOR, "table.inbox tbody tr").text
        self.assertIn("audit-sink", health)
        self.assertIn("failing: a delivery was given up", health)
        self.assertIn("gave up after 2 attempts", health)
        self.assertFalse(b.overflows_horizontally(), "the overview fits its viewport")
        b.save_screenshot(os.path.join(self.shots, "inbox-admin.png"))

        b.driver.find_element(By.LINK_TEXT, "Tokens").click()
        b.wait_until(lambda d: d.current_url.endswith("/ui/admin/tokens"))
        b.wait_for_load()
        b.driver.find_element(By.ID, "token-name").send_keys("deploy-bot")
        Select(b.driver.find_element(By.ID, "token-role")).select_by_value("agent")
        b.driver.find_element(By.ID, "token-groups").send_keys("ci, deployers")
        b.driver.find_element(By.CSS_SELECTOR, "fieldset button[type=submit]").click()
        b.wait_until(lambda d: d.title.startswith("Token created"), "no token was created")
        secret = b.driver.find_element(By.ID, "secret").get_attribute("value")
        self.assertTrue(secret)
        self.assertIn("only time it is shown", b.driver.find_element(By.TAG_NAME, "main").text)
        # Every control on the page has a label.
        unlabelled = b.js("""return [...document.querySelectorAll('input:not([type=hidden]),'
                             + 'select, textarea, button')].filter(e => !e.labels?.length
                             && !e.getAttribute('aria-label') && !e.textContent.trim()).length;""")
        self.assertEqual(unlabelled, 0)
        b.save_screenshot(os.path.join(self.shots, "inbox-admin-token.png"))

        made = self.server.create_request(token=secret, title="From the copied token")
        self.assertEqual(made["requester"], "deploy-bot")
        b.driver.find_element(By.LINK_TEXT, "Back to the tokens").click()
        b.wait_until(lambda d: d.current_url.endswith("/ui/admin/tokens"))
        b.wait_for_load()
        self.assertIn("deploy-bot", b.driver.find_element(By.TAG_NAME, "main").text)
        self.assertNotIn(secret, b.driver.page_source)


if __name__ == "__main__":
    unittest.main()
