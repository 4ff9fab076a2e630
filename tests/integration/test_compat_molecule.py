"""The Molecule platform approvals adapter ([compat.molecule]) against the real server.

The agent side is a stdlib port of the seed's own wait logic (seeds/003: request_approval's
_create_approval_request, _wait_websocket and _wait_polling), run unchanged in shape against
countersign: create, then wait by WebSocket or by polling while a human decides. Humans
decide through Molecule's approve/deny API or its confirm page (a GET that only renders, and
the form's POST). Every wait is on an event or a socket read with a timeout; nothing sleeps to
let time pass (the seed's polling loop sleeps its poll interval by design, shortened here).
"""

import json
import os
import re
import shutil
import tempfile
import threading
import time
import unittest
import urllib.parse

from harness import Server
from stream_clients import StreamRefused, WsClient

FORM = "application/x-www-form-urlencoded"
CSRF_FIELD = re.compile(r'name="csrf" value="([A-Za-z0-9_-]+)"')
WAIT = 30.0  # seconds: bounds a broken test, never a timing assertion
POLL_INTERVAL = 0.05


def molecule_config(table="enabled = true\n", extra=""):
    return "[compat.molecule]\n" + table + extra


class SeedAgent:
    """The seed's approval tool (seeds/003), ported to the stdlib: one workspace's agent."""

    def __init__(self, server, workspace, token=None):
        self.server = server
        self.workspace = workspace
        self.token = token
        self.polls = threading.Event()  # set after each poll; lets a test act mid-wait

    def _create_approval_request(self, action, reason):
        r = self.server.call("POST", f"/workspaces/{self.workspace}/approvals",
                             {"action": action, "reason": reason}, token=self.token)
        if r.status != 201:
            return {"error": f"Failed to create request: {r.status}"}
        if r.json is None:
            return {"error": f"Platform returned invalid JSON (status {r.status})"}
        return {"approval_id": r.json.get("approval_id")}

    def _wait_websocket(self, approval_id, subscribed=None):
        ws = WsClient(self.server, path="/ws", token=self.token,
                      headers={"X-Workspace-ID": self.workspace})
        try:
            if subscribed:
                subscribed.set()
            while True:
                event = ws.next_message()
                if event.get("event") != "APPROVAL_DECIDED":
                    continue
                if event.get("approval_id") != approval_id:
                    continue
                status = event.get("status")
                decided_by = event.get("decided_by", "")
                if status == "approved":
                    return {"approved": True, "approval_id": approval_id,
                            "decided_by": decided_by}
                return {"approved": False, "approval_id": approval_id,
                        "decided_by": decided_by, "message": "Denied by human"}
        finally:
            ws.close()

    def _wait_polling(self, approval_id, timeout):
        elapsed = 0.0
        while elapsed < timeout:
            time.sleep(POLL_INTERVAL)
            elapsed += POLL_INTERVAL
            r = self.server.call("GET", f"/workspaces/{self.workspace}/approvals",
                                 token=self.token)
            self.polls.set()
            if r.status != 200:
                continue
            for a in r.json:
                if a.get("id") == approval_id:
                    status = a.get("status")
                    if status == "approved":
                        return {"approved": True, "approval_id": approval_id,
                                "decided_by": a.get("decided_by")}
                    if status == "denied":
                        return {"approved": False, "approval_id": approval_id,
                                "decided_by": a.get("decided_by"), "message": "Denied by human"}
        raise TimeoutError()


class Waiter(threading.Thread):
    """Runs one of the seed's waits in the background, as the agent would while a human acts."""

    def __init__(self, fn, *args):
        super().__init__(daemon=True)
        self.fn, self.args = fn, args
        self.result = None
        self.error = None

    def run(self):
        try:
            self.result = self.fn(*self.args)
        except Exception as exc:  # surfaced by outcome()
            self.error = exc

    def outcome(self, test):
        self.join(WAIT)
        test.assertFalse(self.is_alive(), "the seed's wait did not return")
        if self.error:
            raise self.error
        return self.result


class MoleculeTestCase(unittest.TestCase):
    auth = True
    config = molecule_config()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="countersign-molecule-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.server = self.start_server(self.config)

    def start_server(self, config_text, auth=None):
        path = os.path.join(self.dir, f"countersign-{len(os.listdir(self.dir))}.toml")
        with open(path, "w") as f:
            f.write(config_text)
        server = Server(auth=self.auth if auth is None else auth,
                        extra_args=["--config", path])
        server.start()
        self.addCleanup(self._stop, server)
        return server

    def _stop(self, server):
        result = getattr(self._outcome, "result", None)
        if result is not None and any(t is self for t, _ in result.errors + result.failures):
            print(server.read_log()[-4000:])
        server.cleanup()

    # -- helpers -------------------------------------------------------------------------
    def create(self, ws, action="Wipe production DB", reason="Args: table=users", token=None,
               server=None):
        r = (server or self.server).call("POST", f"/workspaces/{ws}/approvals",
                                         {"action": action, "reason": reason}, token=token)
        self.assertEqual(r.status, 201, r)
        return r.json["approval_id"]

    def decide(self, ws, approval_id, choice="approve", token=None, body=None, server=None):
        return (server or self.server).call(
            "POST", f"/workspaces/{ws}/approvals/{approval_id}/{choice}",
            body if body is not None else {}, token=token)

    def listed(self, ws, token=None, server=None):
        r = (server or self.server).call("GET", f"/workspaces/{ws}/approvals", token=token)
        self.assertEqual(r.status, 200, r)
        return r.json

    def status_of(self, ws, approval_id, token=None):
        return {a["id"]: a for a in self.listed(ws, token=token)}[approval_id]

    def socket(self, ws, token=None, server=None):
        return WsClient(server or self.server, path="/ws", token=token,
                        headers={"X-Workspace-ID": ws})

    def open_form(self, path, server=None):
        """GETs a confirm page as a browser; returns (page, cookie to send back, csrf)."""
        page = (server or self.server).call("GET", path, token=None)
        self.assertEqual(page.status, 200, page)
        cookie = page.headers["Set-Cookie"].split(";", 1)[0]
        match = CSRF_FIELD.search(page.body)
        self.assertIsNotNone(match, page.body)
        return page, cookie, match.group(1)

    def post_form(self, path, fields, cookie=None, origin="same", server=None):
        server = server or self.server
        headers = {}
        if cookie:
            headers["Cookie"] = cookie
        if origin:
            headers["Origin"] = server.url if origin == "same" else origin
        return server.call("POST", path, token=None, headers=headers,
                           raw=urllib.parse.urlencode(fields).encode(), content_type=FORM)


class SeedWaitTest(MoleculeTestCase):
    """The seed's request_approval flow, both wait paths, against countersign."""

    def setUp(self):
        super().setUp()
        self.alice = self.server.create_token("alice", "approver")
        self.agent = SeedAgent(self.server, "ws-alpha")

    def test_create_then_wait_by_websocket_hears_the_approval_and_who_gave_it(self):
        created = self.agent._create_approval_request("Wipe production DB", "Args: table=users")
        self.assertIn("approval_id", created, created)
        approval_id = created["approval_id"]
        subscribed = threading.Event()
        waiter = Waiter(self.agent._wait_websocket, approval_id, subscribed)
        waiter.start()
        self.assertTrue(subscribed.wait(WAIT))
        r = self.decide("ws-alpha", approval_id, "approve", token=self.alice,
                        body={"decided_by": "someone else"})
        self.assertEqual(r.status, 200, r)
        # With auth on the token says who decided, whatever the body claims.
        self.assertEqual(r.json, {"approval_id": approval_id, "status": "approved",
                                  "decided_by": "alice"})
        self.assertEqual(waiter.outcome(self), {"approved": True, "approval_id": approval_id,
                                                "decided_by": "alice"})

    def test_create_then_wait_by_polling_hears_the_denial(self):
        approval_id = self.agent._create_approval_request("Send customer email",
                                                          "Args: to=all")["approval_id"]
        waiter = Waiter(self.agent._wait_polling, approval_id, WAIT)
        waiter.start()
        # Deny only once the agent has seen it pending at least once.
        self.assertTrue(self.agent.polls.wait(WAIT))
        self.assertEqual(self.decide("ws-alpha", approval_id, "deny", token=self.alice).status, 200)
        self.assertEqual(waiter.outcome(self),
                         {"approved": False, "approval_id": approval_id, "decided_by": "alice",
                          "message": "Denied by human"})

    def test_a_client_that_subscribes_after_the_decision_still_hears_it_once(self):
        first = self.create("ws-alpha")
        self.assertEqual(self.decide("ws-alpha", first, token=self.alice).status, 200)
        # The agent subscribes only now: the replay delivers the decision.
        self.assertEqual(self.agent._wait_websocket(first),
                         {"approved": True, "approval_id": first, "decided_by": "alice"})

        ws = self.socket("ws-alpha")
        self.addCleanup(ws.close)
        replayed = ws.next_message()
        self.assertEqual(replayed, {"event": "APPROVAL_DECIDED", "approval_id": first,
                                    "status": "approved", "decided_by": "alice",
                                    "reason_code": "approved"})
        # Then live, with no second copy of the replayed one in between.
        second = self.create("ws-alpha")
        self.assertEqual(self.decide("ws-alpha", second, "deny", token=self.alice).status, 200)
        self.assertEqual(ws.next_message(), {"event": "APPROVAL_DECIDED", "approval_id": second,
                                             "status": "denied", "decided_by": "alice",
                                             "reason_code": "denied_by_person"})

    def test_cancel_and_expiry_reach_the_socket_too(self):
        ws = self.socket("ws-alpha")
        self.addCleanup(ws.close)
        approval_id = self.create("ws-alpha")
        r = self.server.call("POST", f"/v1/requests/{approval_id}/cancel", {"reason": "obsolete"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(ws.next_message(), {"event": "APPROVAL_DECIDED", "approval_id": approval_id,
                                             "status": "cancelled", "decided_by": "admin",
                                             "reason_code": "cancelled_by_admin"})
        self.assertEqual(self.status_of("ws-alpha", approval_id)["status"], "cancelled")


class ExpiryTest(MoleculeTestCase):
    config = molecule_config(extra="""
[[policy]]
name = "molecule-quick"
match = { action = "molecule.quick_*" }
timeout = "1s"
""")

    def test_an_expired_approval_is_announced_with_no_decider(self):
        ws = self.socket("ws-alpha")
        self.addCleanup(ws.close)
        approval_id = self.create("ws-alpha", action="Quick check")
        # The deadline scheduler expires it one second after creation; the read waits for it.
        self.assertEqual(ws.next_message(), {"event": "APPROVAL_DECIDED", "approval_id": approval_id,
                                             "status": "expired", "decided_by": None,
                                             "reason_code": "expired"})
        item = self.status_of("ws-alpha", approval_id)
        self.assertEqual((item["status"], item["decided_by"]), ("expired", None))


class IsolationTest(MoleculeTestCase):
    def setUp(self):
        super().setUp()
        self.alice = self.server.create_token("alice", "approver")

    def test_a_decision_in_workspace_b_never_reaches_a_socket_of_a(self):
        in_a = self.create("ws-a")
        in_b = self.create("ws-b")
        ws_a = self.socket("ws-a")
        self.addCleanup(ws_a.close)
        ws_b = self.socket("ws-b")
        self.addCleanup(ws_b.close)
        # An approver may read the whole tenant, yet its socket for A hears only A.
        approver_a = self.socket("ws-a", token=self.alice)
        self.addCleanup(approver_a.close)
        self.assertEqual(self.decide("ws-b", in_b, token=self.alice).status, 200)
        self.assertEqual(self.decide("ws-a", in_a, "deny", token=self.alice).status, 200)
        # B's decision came first: had it leaked to A's sockets, it would be read first.
        self.assertEqual(ws_a.next_message()["approval_id"], in_a)
        self.assertEqual(approver_a.next_message()["approval_id"], in_a)
        self.assertEqual(ws_b.next_message()["approval_id"], in_b)

    def test_lists_and_decisions_stay_inside_their_workspace(self):
        in_a = self.create("ws-a", action="Drop table a")
        in_b = self.create("ws-b", action="Drop table b")
        self.assertEqual([a["id"] for a in self.listed("ws-a")], [in_a])
        # An approver sees the whole tenant through /v1, but a workspace's list only has its own.
        self.assertEqual([a["id"] for a in self.listed("ws-b", token=self.alice)], [in_b])
        self.assertEqual(self.decide("ws-a", in_b, token=self.alice).status, 404)
        page = self.server.call("GET", f"/workspaces/ws-a/approvals/{in_b}/approve", token=None)
        self.assertEqual(page.status, 404)
        self.assertEqual(self.status_of("ws-b", in_b)["status"], "pending")

    def test_the_list_is_molecule_shaped_and_newest_first(self):
        older = self.create("ws-a", action="Wipe production DB", reason="Args: table=users")
        newer = self.create("ws-a", action="Restart web", reason="")
        self.assertEqual(self.decide("ws-a", older, token=self.alice).status, 200)
        items = self.listed("ws-a")
        self.assertEqual([a["id"] for a in items], [newer, older])
        self.assertEqual(set(items[1]), {"id", "action", "reason", "status", "decided_by",
                                         "created_at"})
        self.assertEqual((items[1]["action"], items[1]["reason"], items[1]["status"],
                          items[1]["decided_by"]),
                         ("Wipe production DB", "Args: table=users", "approved", "alice"))
        self.assertEqual((items[0]["status"], items[0]["decided_by"]), ("pending", None))
        self.assertRegex(items[1]["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
        # Underneath it is an ordinary countersign request with a policy-friendly action name.
        native = self.server.call("GET", f"/v1/requests/{older}").json
        self.assertEqual((native["action"], native["title"], native["session"]),
                         ("molecule.wipe_production_db", "Wipe production DB", "molecule:ws-a"))
        self.assertEqual(native["details"]["reason"], "Args: table=users")


class ConfirmPageTest(MoleculeTestCase):
    def setUp(self):
        super().setUp()
        self.alice = self.server.create_token("alice", "approver")
        self.agent_token = self.server.create_token("bot", "agent")
        self.approval_id = self.create("ws-alpha", action="Wipe <production> DB",
                                       reason="because & why")
        self.path = f"/workspaces/ws-alpha/approvals/{self.approval_id}/approve"

    def audit_types(self):
        r = self.server.call("GET", f"/v1/audit?request={self.approval_id}")
        self.assertEqual(r.status, 200, r)
        return [e["type"] for e in r.json["events"]]

    def test_get_renders_the_request_and_changes_nothing(self):
        for choice in ("approve", "deny"):
            page = self.server.call(
                "GET", f"/workspaces/ws-alpha/approvals/{self.approval_id}/{choice}", token=None)
            self.assertEqual(page.status, 200, page)
            self.assertIn("text/html", page.headers["Content-Type"])
            self.assertIn("default-src 'none'", page.headers["Content-Security-Policy"])
            self.assertIn("Wipe &lt;production&gt; DB", page.body)
            self.assertIn("because &amp; why", page.body)
            self.assertIn("ws-alpha", page.body)
            self.assertIn('name="token" type="password"', page.body)
            self.assertIn('<form method="post">', page.body)
            self.assertNotIn("<script", page.body)
        self.assertEqual(self.status_of("ws-alpha", self.approval_id)["status"], "pending")
        self.assertEqual(self.audit_types(), ["request.created"])

    def test_the_form_post_with_cookie_csrf_and_token_decides(self):
        _, cookie, csrf = self.open_form(self.path)
        r = self.post_form(self.path, {"csrf": csrf, "token": self.alice, "comment": "ok"},
                           cookie=cookie)
        self.assertEqual(r.status, 200, r)
        self.assertIn("Your decision was recorded", r.body)
        item = self.status_of("ws-alpha", self.approval_id)
        self.assertEqual((item["status"], item["decided_by"]), ("approved", "alice"))
        # The link now only says it is decided, with no form.
        page = self.server.call("GET", self.path, token=None)
        self.assertEqual(page.status, 409)
        self.assertIn("already been decided", page.body)
        self.assertNotIn("<form", page.body)

    def test_the_form_refuses_what_a_forger_or_a_wrong_token_sends(self):
        _, cookie, csrf = self.open_form(self.path)
        fields = {"csrf": csrf, "token": self.alice}
        self.assertEqual(self.post_form(self.path, fields).status, 403)  # no cookie
        self.assertEqual(self.post_form(self.path, dict(fields, csrf="x" * 43), cookie).status,
                         403)
        self.assertEqual(self.post_form(self.path, fields, cookie,
                                        origin="https://evil.example").status, 403)
        no_token = self.post_form(self.path, {"csrf": csrf}, cookie)
        self.assertEqual(no_token.status, 401)
        self.assertIn("Enter your countersign approver token", no_token.body)
        bad = self.post_form(self.path, {"csrf": csrf, "token": "cs_not_a_token"}, cookie)
        self.assertEqual(bad.status, 401)
        self.assertIn("<form", bad.body)  # the person can try again
        agent = self.post_form(self.path, {"csrf": csrf, "token": self.agent_token}, cookie)
        self.assertEqual(agent.status, 403)
        self.assertIn("agent", agent.body)
        self.assertEqual(self.status_of("ws-alpha", self.approval_id)["status"], "pending")
        self.assertEqual(self.audit_types(), ["request.created"])


class DecisionRulesTest(MoleculeTestCase):
    def setUp(self):
        super().setUp()
        self.alice = self.server.create_token("alice", "approver")
        self.bob = self.server.create_token("bob", "approver")
        self.agent_token = self.server.create_token("bot", "agent")
        self.other_tenant = self.server.create_token("olga", "approver", tenant="other")

    def test_unknown_ids_are_404_and_a_second_decision_is_409(self):
        r = self.decide("ws-alpha", "req_01JD3Z6Q8W9K4M2N7P5R0S1T2V", token=self.alice)
        self.assertEqual(r.status, 404, r)
        self.assertIsInstance(r.json["error"], str)
        page = self.server.call("GET", "/workspaces/ws-alpha/approvals/nope/deny", token=None)
        self.assertEqual(page.status, 404)
        approval_id = self.create("ws-alpha")
        self.assertEqual(self.decide("ws-alpha", approval_id, token=self.alice).status, 200)
        again = self.decide("ws-alpha", approval_id, "deny", token=self.bob)
        self.assertEqual(again.status, 409, again)
        self.assertEqual((again.json["status"], again.json["decided_by"]), ("approved", "alice"))
        self.assertIsInstance(again.json["error"], str)

    def test_deciding_needs_an_approver_token(self):
        approval_id = self.create("ws-alpha")
        anonymous = self.decide("ws-alpha", approval_id)
        self.assertEqual(anonymous.status, 401, anonymous)
        self.assertIn("token", anonymous.json["error"])
        agent = self.decide("ws-alpha", approval_id, token=self.agent_token)
        self.assertEqual(agent.status, 403, agent)
        self.assertIn("agent", agent.json["error"])
        self.assertEqual(self.decide("ws-alpha", approval_id, token="cs_bogus").status, 401)
        # A token of another tenant does not even learn that the workspace exists.
        self.assertEqual(self.decide("ws-alpha", approval_id, token=self.other_tenant).status, 404)
        self.assertEqual(self.server.call("GET", "/workspaces/ws-alpha/approvals",
                                          token=self.other_tenant).status, 404)
        self.assertEqual(self.status_of("ws-alpha", approval_id)["status"], "pending")

    def test_bad_input_gets_a_clear_json_error(self):
        path = "/workspaces/ws-alpha/approvals"
        cases = [
            (self.server.call("POST", path, raw=b"{not json", token=None), 400),
            (self.server.call("POST", path, {"reason": "no action"}, token=None), 400),
            (self.server.call("POST", path, {"action": 7}, token=None), 400),
            (self.server.call("POST", path, {"action": "x", "reason": ["a"]}, token=None), 400),
            (self.server.call("POST", path, ["action"], token=None), 400),
            (self.server.call("POST", path, {"action": "x" * 513}, token=None), 422),
            (self.server.call("POST", path, {"action": "x", "reason": "r" * 4001}, token=None),
             422),
        ]
        for response, status in cases:
            self.assertEqual(response.status, status, response)
            self.assertIsInstance(response.json["error"], str, response)
        self.assertEqual(self.listed("ws-alpha"), [])

    def test_the_websocket_needs_its_workspace_header(self):
        with self.assertRaises(StreamRefused) as refused:
            WsClient(self.server, path="/ws", token=None)
        self.assertEqual(refused.exception.status, 400)
        self.assertIn("X-Workspace-ID", refused.exception.body)


class WorkspaceMappingTest(MoleculeTestCase):
    config = molecule_config('enabled = true\ndefault_tenant = ""\n'
                             '[compat.molecule.workspaces]\n"ws-team" = "team"\n')

    def test_a_mapped_workspace_lives_in_its_tenant_and_others_are_refused(self):
        team_approver = self.server.create_token("tina", "approver", tenant="team")
        default_approver = self.server.create_token("dan", "approver")
        approval_id = self.create("ws-team")
        self.assertEqual(self.decide("ws-team", approval_id, token=default_approver).status, 404)
        self.assertEqual(self.decide("ws-team", approval_id, token=team_approver).status, 200)
        unknown = self.server.call("POST", "/workspaces/ws-other/approvals", {"action": "x"},
                                   token=None)
        self.assertEqual(unknown.status, 404)
        self.assertEqual(unknown.json, {"error": "unknown workspace 'ws-other'"})
        with self.assertRaises(StreamRefused) as refused:
            self.socket("ws-other")
        self.assertEqual(refused.exception.status, 404)


class NoReplayTest(MoleculeTestCase):
    config = molecule_config("enabled = true\nreplay_window_seconds = 0\n")

    def test_with_no_replay_window_only_live_decisions_arrive(self):
        alice = self.server.create_token("alice", "approver")
        before = self.create("ws-alpha")
        self.assertEqual(self.decide("ws-alpha", before, token=alice).status, 200)
        ws = self.socket("ws-alpha")
        self.addCleanup(ws.close)
        live = self.create("ws-alpha")
        self.assertEqual(self.decide("ws-alpha", live, token=alice).status, 200)
        self.assertEqual(ws.next_message()["approval_id"], live)


class AuthOffTest(MoleculeTestCase):
    auth = False

    def test_the_body_names_the_decider_and_the_page_asks_for_a_name(self):
        first = self.create("ws-alpha")
        r = self.decide("ws-alpha", first, body={"decided_by": "carol"})
        self.assertEqual(r.json, {"approval_id": first, "status": "approved",
                                  "decided_by": "carol"})
        second = self.create("ws-alpha")
        r = self.decide("ws-alpha", second, "deny")
        self.assertEqual((r.status, r.json["decided_by"]), (200, "dashboard"))

        third = self.create("ws-alpha")
        path = f"/workspaces/ws-alpha/approvals/{third}/deny"
        page, cookie, csrf = self.open_form(path)
        self.assertIn('name="decided_by"', page.body)
        self.assertNotIn('name="token"', page.body)
        r = self.post_form(path, {"csrf": csrf, "decided_by": "dave"}, cookie)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.status_of("ws-alpha", third)["decided_by"], "dave")


class AdapterOffTest(MoleculeTestCase):
    config = ""

    def test_every_route_says_how_to_enable_the_adapter(self):
        calls = [("POST", "/workspaces/ws/approvals", {"action": "x", "reason": "y"}),
                 ("GET", "/workspaces/ws/approvals", None),
                 ("POST", "/workspaces/ws/approvals/req_1/approve", {}),
                 ("GET", "/workspaces/ws/approvals/req_1/deny", None),
                 ("GET", "/ws", None)]
        for method, path, body in calls:
            r = self.server.call(method, path, body, token=None,
                                 headers={"X-Workspace-ID": "ws"})
            self.assertEqual(r.status, 404, (path, r))
            self.assertIn("[compat.molecule] enabled = true", r.json["error"], path)
        with self.assertRaises(StreamRefused) as refused:
            self.socket("ws")
        self.assertEqual(refused.exception.status, 404)


if __name__ == "__main__":
    unittest.main()
