"""The web inbox's Audit pages over HTTP (/ui/audit, /ui/audit/verify), and the date filter
of All requests: who may read and verify, the filters and pages of the log, a verification
started from the page (incremental and full) reporting an intact chain, and then one with an
edited event found broken at that event."""

import datetime
import html
import re
import sqlite3
import time

from test_inbox import InboxTestCase, text_of


def day(offset=0):
    return (datetime.datetime.now(datetime.timezone.utc).date()
            + datetime.timedelta(days=offset)).isoformat()


class InboxAuditTest(InboxTestCase):
    def setUp(self):
        super().setUp()
        self.agent = self.token("ci-bot", "agent")
        self.alice = self.token("alice", "approver")
        self.root = self.token("root", "admin")

    def create(self, **fields):
        return self.server.create_request(token=self.agent["token"], **fields)

    def decide(self, request_id, choice, who):
        r = self.server.call("POST", f"/v1/requests/{request_id}/decisions",
                             {"choice": choice, "comment": "checked"}, token=who["token"])
        self.assertEqual(r.status, 200, r)

    @staticmethod
    def seqs(page):
        return [int(s) for s in re.findall(r'<td data-label="#">(\d+)</td>', page.body)]

    def finished_verification(self, browser):
        """The verification page once its verification has ended (ui.js's JSON tells when)."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            state = self.server.call("GET", "/ui/audit/verify.json", token=None,
                                     headers=browser.headers({"Accept": "application/json"}))
            self.assertEqual(state.status, 200, state)
            if state.json["started"] and not state.json["running"]:
                page = browser.get("/ui/audit/verify")
                self.assertEqual(page.status, 200, page)
                self.assertNotIn("Refresh", page.headers, "a finished page stops reloading")
                return state.json, page
        self.fail("the verification did not finish within 30 s")

    # -- the log ---------------------------------------------------------------------------
    def test_the_log_is_newest_first_filtered_and_paged(self):
        made = [self.create(title=f"Job {i}") for i in range(3)]
        self.decide(made[0]["id"], "approve", self.alice)
        self.decide(made[1]["id"], "deny", self.alice)
        browser = self.signed_in(self.alice)
        page = browser.get("/ui/audit")
        self.assertEqual(page.status, 200, page)
        seqs = self.seqs(page)
        self.assertEqual(seqs, sorted(seqs, reverse=True), "newest first")
        api = self.server.call("GET", "/v1/audit?limit=1000", token=self.alice["token"])
        self.assertEqual(sorted(seqs), [e["seq"] for e in api.json["events"]],
                         "the tenant's events, as the API lists them")
        self.assertIn("Not verified since the server started.", text_of(page))
        self.assertNotIn('action="/ui/audit/verify"', page.body, "only the operator verifies")

        page = browser.get("/ui/audit?type=decision.")
        types = re.findall(r'<td data-label="Event"><code>([a-z._]+)</code>', page.body)
        self.assertEqual(types, ["decision.recorded"] * 2)
        page = browser.get("/ui/audit?request=" + made[2]["id"])
        self.assertEqual(re.findall(r'/ui/requests/(req_[0-9A-Z]+)"', page.body),
                         [made[2]["id"]])
        page = browser.get("/ui/audit?actor=alice")
        self.assertTrue(all(a == "alice" for a in
                            re.findall(r'<td data-label="By"><bdi>([^<]*)</bdi>', page.body)))
        self.assertGreaterEqual(len(self.seqs(page)), 2)
        self.assertEqual(self.seqs(browser.get(f"/ui/audit?from={day()}&to={day()}")), seqs)
        self.assertEqual(self.seqs(browser.get(f"/ui/audit?from={day(1)}")), [])
        self.assertEqual(self.seqs(browser.get(f"/ui/audit?to={day(-1)}")), [])
        for bad in ("from=yesterday", f"from={day()}&to={day(-1)}", "before=x", "before=-4",
                    "actor=" + "a" * 200):
            page = browser.get("/ui/audit?" + bad)
            self.assertEqual(page.status, 400, (bad, page))
            self.assertIn('class="notice error"', page.body)

    def test_the_log_pages_by_a_hundred_with_a_link_to_older_events(self):
        for i in range(105):
            self.create(title=f"Job {i}")
        browser = self.signed_in(self.alice)
        page = browser.get("/ui/audit?type=request.created")
        first = self.seqs(page)
        self.assertEqual(len(first), 100)
        older = re.search(r'<a href="([^"]+)" rel="next">Older events</a>', page.body)
        self.assertIsNotNone(older)
        link = html.unescape(older.group(1))
        self.assertIn("type=request.created", link, "the filters carry over")
        page = browser.get(link)
        second = self.seqs(page)
        self.assertEqual(len(second), 5)
        self.assertLess(max(second), min(first))
        self.assertNotIn('rel="next"', page.body)

    def test_an_agent_may_not_read_the_log_and_another_tenant_sees_only_its_own(self):
        ours = self.create(title="Ours")
        agent = self.signed_in(self.agent)
        for path in ("/ui/audit", "/ui/audit/verify"):
            page = agent.get(path)
            self.assertEqual(page.status, 403, (path, page))
        self.assertNotIn('href="/ui/audit"', agent.get("/ui/").body, "no Audit link for agents")
        other = self.signed_in(self.token("zed", "approver", tenant="acme"))
        page = other.get("/ui/audit")
        self.assertEqual(page.status, 200, page)
        self.assertNotIn(ours["id"], page.body, "another tenant's events are not shown")
        self.assertNotIn("request.created", page.body)
        api = self.server.call("GET", "/v1/audit?limit=1000", token=self.root["token"]).json
        self.assertTrue(set(self.seqs(page)).isdisjoint(e["seq"] for e in api["events"]))

    # -- verifying the chain ---------------------------------------------------------------
    def test_the_operator_verifies_the_chain_new_events_then_all(self):
        for i in range(5):
            self.create(title=f"Job {i}")
        browser = self.signed_in(self.root)
        page = browser.get("/ui/audit")
        self.assertIn('action="/ui/audit/verify"', page.body)
        r = browser.post("/ui/audit/verify", [("full", "1")])
        self.assertEqual((r.status, r.headers["Location"]), (303, "/ui/audit/verify"), r)
        state, page = self.finished_verification(browser)
        self.assertTrue(state["ok"], state)
        words = text_of(page)
        self.assertRegex(words, r"Intact up to event #\d+: \d+ events checked \(the whole chain\)")
        self.assertIn("Started by root", words)
        head = self.server.call("GET", "/v1/audit/verify", token=self.root["token"]).json
        self.assertTrue(head["ok"], head)

        self.create(title="One more")
        r = browser.post("/ui/audit/verify", [("full", "0")])
        self.assertEqual(r.status, 303, r)
        state, page = self.finished_verification(browser)
        self.assertTrue(state["ok"], state)
        self.assertRegex(text_of(page), r"events after #\d+, verified before")
        self.assertIn("Intact up to event", text_of(browser.get("/ui/audit")))

    def test_an_edited_event_is_found_and_shown_as_a_break(self):
        made = self.create(title="Original title")
        self.decide(made["id"], "approve", self.alice)
        self.server.stop()
        db = sqlite3.connect(f"{self.server.data_dir}/countersign.db")
        seq = db.execute("SELECT seq FROM events WHERE type = 'request.created' AND "
                         "request_id = ?", (made["id"],)).fetchone()[0]
        db.execute("UPDATE events SET actor = 'mallory' WHERE seq = ?", (seq,))
        db.commit()
        db.close()
        self.server.start()
        browser = self.signed_in(self.root)
        browser.post("/ui/audit/verify", [("full", "1")])
        state, page = self.finished_verification(browser)
        self.assertFalse(state["ok"])
        self.assertEqual(state["first_bad_seq"], seq)
        self.assertIn(f"Broken at event #{seq}", text_of(page))
        self.assertIn('class="notice error"', page.body)

    def test_only_the_operator_starts_a_verification_and_every_post_needs_the_form_guard(self):
        alice = self.signed_in(self.alice)
        alice.get("/ui/audit")
        r = alice.post("/ui/audit/verify", [("full", "1")])
        self.assertEqual(r.status, 403, r)
        tenant_admin = self.signed_in(self.token("acme-admin", "admin", tenant="acme"))
        tenant_admin.get("/ui/audit")
        self.assertEqual(tenant_admin.post("/ui/audit/verify", [("full", "1")]).status, 403)
        root = self.signed_in(self.root)
        root.get("/ui/audit")
        self.assertEqual(root.post("/ui/audit/verify", [("full", "1")], csrf=False).status, 403)
        self.assertEqual(root.post("/ui/audit/verify", [("full", "1")],
                                   origin="https://evil.example").status, 403)
        self.assertEqual(root.post("/ui/audit/verify", [("full", "maybe")]).status, 422)
        state = self.server.call("GET", "/ui/audit/verify.json", token=None,
                                 headers=root.headers()).json
        self.assertFalse(state["started"], "none of those started a verification")
        self.assertIn("Not verified since the server started.", text_of(root.get("/ui/audit")))

    # -- All requests: the date filter -----------------------------------------------------
    def test_all_requests_filters_by_the_day_created(self):
        made = self.create(title="Made today")
        browser = self.signed_in(self.alice)

        def ids(query):
            page = browser.get("/ui/requests?" + query)
            self.assertEqual(page.status, 200, (query, page))
            return re.findall(r'<a href="/ui/requests/(req_[0-9A-Z]+)">', page.body)

        self.assertEqual(ids(f"from={day()}&to={day()}"), [made["id"]])
        self.assertEqual(ids(f"from={day(1)}"), [])
        self.assertEqual(ids(f"to={day(-1)}"), [])
        page = browser.get(f"/ui/requests?from={day()}")
        self.assertIn(f'value="{day()}"', page.body, "the filter is shown back")
        self.assertIn(f"from={day()}", page.body, "and carried into the export links")
        for bad in ("from=2026-13-45", "to=tomorrow", f"from={day()}&to={day(-3)}"):
            page = browser.get("/ui/requests?" + bad)
            self.assertEqual(page.status, 400, (bad, page))
        csv_export = self.server.call("GET", f"/ui/requests.csv?from={day(1)}", token=None,
                                      headers=browser.headers())
        self.assertEqual(csv_export.status, 200, csv_export)
        self.assertEqual(csv_export.body.count("\r\n"), 1, "only the header line")


if __name__ == "__main__":
    import unittest
    unittest.main()
