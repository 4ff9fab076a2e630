"""Every v1 endpoint and every error status, against the real server on a loopback port."""

import json
import socket
import unittest

from harness import ServerTestCase


class RequestLifecycleTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        s = self.server
        self.agent = s.create_token("ci-bot", "agent")
        self.alice = s.create_token("alice", "approver", groups=["sre"])
        self.bob = s.create_token("bob", "approver")

    def test_create_returns_201_with_the_full_request(self):
        r = self.server.call("POST", "/v1/requests", {
            "action": "deploy_production", "title": "Deploy v2.0",
            "details": {"env": "prod"}, "arguments": {"ref": "v2.0"}}, token=self.agent)
        self.assertEqual(r.status, 201, r)
        req = r.json
        self.assertTrue(req["id"].startswith("req_"))
        self.assertEqual(req["status"], "pending")
        self.assertEqual(req["requester"], "ci-bot")
        self.assertEqual(req["tenant"], "default")
        self.assertEqual([c["id"] for c in req["choices"]], ["approve", "deny"])
        self.assertEqual(req["details"], {"env": "prod"})
        self.assertEqual(len(req["arguments_sha256"]), 64)
        self.assertIsNone(req["resolved_at"])
        self.assertEqual(r.headers["Content-Type"], "application/json")

    def test_description_is_accepted_as_an_alias_of_title(self):
        r = self.server.call("POST", "/v1/requests",
                             {"action": "wipe_table", "description": "Wipe users"},
                             token=self.agent)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["title"], "Wipe users")

    def test_get_shows_decisions_and_approve_resolves(self):
        req = self.server.create_request(token=self.agent)
        r = self.server.call("POST", f"/v1/requests/{req['id']}/decisions",
                             {"choice": "approve", "comment": "looks fine"}, token=self.alice)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "approved")
        self.assertEqual(r.json["resolved_by"], ["alice"])
        got = self.server.call("GET", f"/v1/requests/{req['id']}", token=self.agent)
        self.assertEqual(got.status, 200)
        self.assertEqual(got.json["decisions"][0]["by"], "alice")
        self.assertEqual(got.json["decisions"][0]["comment"], "looks fine")

    def test_second_decision_after_resolution_is_409_with_current_request(self):
        req = self.server.create_request(token=self.agent)
        self.server.call("POST", f"/v1/requests/{req['id']}/decisions", {"choice": "deny"},
                         token=self.alice)
        r = self.server.call("POST", f"/v1/requests/{req['id']}/decisions",
                             {"choice": "approve"}, token=self.bob)
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.json["error"]["code"], "conflict")
        self.assertEqual(r.json["request"]["status"], "denied")

    def test_quorum_of_two_needs_two_distinct_approvers(self):
        req = self.server.create_request(token=self.agent, quorum=2)
        path = f"/v1/requests/{req['id']}/decisions"
        first = self.server.call("POST", path, {"choice": "approve"}, token=self.alice)
        self.assertEqual(first.json["status"], "pending")
        again = self.server.call("POST", path, {"choice": "approve"}, token=self.alice)
        self.assertEqual(again.status, 409)
        second = self.server.call("POST", path, {"choice": "approve"}, token=self.bob)
        self.assertEqual(second.json["status"], "approved")
        self.assertEqual(sorted(second.json["resolved_by"]), ["alice", "bob"])

    def test_self_approval_is_403(self):
        req = self.server.create_request()  # the admin asks
        r = self.server.call("POST", f"/v1/requests/{req['id']}/decisions", {"choice": "approve"})
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json["error"]["code"], "forbidden")

    def test_agent_may_not_decide_and_unlisted_approver_is_403(self):
        req = self.server.create_request(token=self.agent, approvers=["group:sre"])
        path = f"/v1/requests/{req['id']}/decisions"
        self.assertEqual(self.server.call("POST", path, {"choice": "approve"},
                                          token=self.agent).status, 403)
        self.assertEqual(self.server.call("POST", path, {"choice": "approve"},
                                          token=self.bob).status, 403)
        ok = self.server.call("POST", path, {"choice": "approve"}, token=self.alice)
        self.assertEqual(ok.json["status"], "approved")

    def test_unknown_choice_is_422(self):
        req = self.server.create_request(token=self.agent)
        r = self.server.call("POST", f"/v1/requests/{req['id']}/decisions",
                             {"choice": "perhaps"}, token=self.alice)
        self.assertEqual(r.status, 422, r)
        self.assertIn("approve", r.json["error"]["message"])

    def test_question_kind_is_answered_with_text(self):
        req = self.server.create_request(token=self.agent, kind="question",
                                         title="Which slot should I use?")
        r = self.server.call("POST", f"/v1/requests/{req['id']}/decisions",
                             {"answer": "blue"}, token=self.alice)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "answered")
        self.assertEqual(r.json["answer"], "blue")

    def test_verification_kind_has_three_choices(self):
        req = self.server.create_request(token=self.agent, kind="verification",
                                         title="Was this login you?")
        self.assertEqual([c["id"] for c in req["choices"]],
                         ["acknowledge", "deny", "escalate"])
        r = self.server.call("POST", f"/v1/requests/{req['id']}/decisions",
                             {"choice": "escalate"}, token=self.alice)
        self.assertEqual(r.json["status"], "pending")
        self.assertEqual(r.json["escalation_level"], 1)

    def test_cancel_by_requester_and_409_when_already_cancelled(self):
        req = self.server.create_request(token=self.agent)
        path = f"/v1/requests/{req['id']}/cancel"
        self.assertEqual(self.server.call("POST", path, {"reason": "x"}, token=self.alice).status,
                         403)
        r = self.server.call("POST", path, {"reason": "not needed"}, token=self.agent)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "cancelled")
        again = self.server.call("POST", path, None, token=self.agent)
        self.assertEqual(again.status, 409)

    def test_list_filters_and_paginates_newest_first(self):
        ids = [self.server.create_request(token=self.agent, action=f"act_{i % 2}")["id"]
               for i in range(5)]
        seen, cursor = [], None
        while True:
            path = "/v1/requests?limit=2" + (f"&cursor={cursor}" if cursor else "")
            page = self.server.call("GET", path, token=self.alice)
            self.assertEqual(page.status, 200, page)
            seen += [r["id"] for r in page.json["requests"]]
            cursor = page.json["next_cursor"]
            if not cursor:
                break
        self.assertEqual(seen, list(reversed(ids)))
        only = self.server.call("GET", "/v1/requests?action=act_1", token=self.alice)
        self.assertEqual({r["action"] for r in only.json["requests"]}, {"act_1"})
        self.assertEqual(len(only.json["requests"]), 2)
        pending = self.server.call("GET", "/v1/requests?status=pending", token=self.alice)
        self.assertEqual(len(pending.json["requests"]), 5)
        self.assertEqual(self.server.call("GET", "/v1/requests?status=bogus",
                                          token=self.alice).status, 422)
        self.assertEqual(self.server.call("GET", "/v1/requests?limit=abc",
                                          token=self.alice).status, 400)
        self.assertEqual(self.server.call("GET", "/v1/requests?cursor=nonsense",
                                          token=self.alice).status, 400)

    def test_agents_list_only_their_own_requests(self):
        other = self.server.create_token("other-bot", "agent")
        self.server.create_request(token=self.agent)
        mine = self.server.create_request(token=other)
        r = self.server.call("GET", "/v1/requests", token=other)
        self.assertEqual([x["id"] for x in r.json["requests"]], [mine["id"]])

    def test_idempotency_key_replays_and_conflicts(self):
        body = {"action": "deploy", "title": "Deploy", "idempotency_key": "k-1"}
        first = self.server.call("POST", "/v1/requests", body, token=self.agent)
        self.assertEqual(first.status, 201)
        replay = self.server.call("POST", "/v1/requests", body, token=self.agent)
        self.assertEqual(replay.status, 200)
        self.assertEqual(replay.json["id"], first.json["id"])
        changed = dict(body, title="Deploy something else")
        conflict = self.server.call("POST", "/v1/requests", changed, token=self.agent)
        self.assertEqual(conflict.status, 409)
        self.assertEqual(conflict.json["request"]["id"], first.json["id"])

    def test_idempotency_keys_of_other_agents_do_not_collide(self):
        other = self.server.create_token("other-bot", "agent")
        body = {"action": "deploy", "title": "Deploy", "idempotency_key": "same"}
        mine = self.server.call("POST", "/v1/requests", body, token=self.agent)
        theirs = self.server.call("POST", "/v1/requests", dict(body, title="Other"), token=other)
        self.assertEqual((mine.status, theirs.status), (201, 201))
        self.assertNotEqual(mine.json["id"], theirs.json["id"])

    def test_idempotency_key_header(self):
        body = {"action": "deploy", "title": "Deploy"}
        hdr = {"Idempotency-Key": "hdr-1"}
        first = self.server.call("POST", "/v1/requests", body, token=self.agent, headers=hdr)
        replay = self.server.call("POST", "/v1/requests", body, token=self.agent, headers=hdr)
        self.assertEqual((first.status, replay.status), (201, 200))
        self.assertEqual(first.json["id"], replay.json["id"])


class ErrorStatusTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.agent = self.server.create_token("ci-bot", "agent")

    def assertError(self, r, status, code):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.json["error"]["code"], code, r)
        self.assertTrue(r.json["error"]["message"])

    def test_malformed_json_is_400(self):
        r = self.server.call("POST", "/v1/requests", raw=b'{"action": "x", ', token=self.agent)
        self.assertError(r, 400, "malformed")

    def test_wrong_types_are_400(self):
        for body in ({"action": 5, "title": "x"}, {"action": "a", "title": ["x"]},
                     {"action": "a", "title": "x", "arguments": "not an object"},
                     {"action": "a", "title": "x", "quorum": "two"},
                     {"action": "a", "title": "x", "approvers": "alice"}, [1, 2]):
            with self.subTest(body=body):
                self.assertError(self.server.call("POST", "/v1/requests", body,
                                                  token=self.agent), 400, "malformed")

    def test_out_of_range_numbers_are_400(self):
        r = self.server.call("POST", "/v1/requests", raw=b'{"action": "a", "title": "t", '
                             b'"arguments": {"n": 1e400}}', token=self.agent)
        self.assertError(r, 400, "malformed")

    def test_semantically_invalid_is_422(self):
        cases = [{"title": "no action"}, {"action": "rm -rf /", "title": "bad action"},
                 {"action": "a" * 129, "title": "too long action"},
                 {"action": "ok", "title": "x" * 513}, {"action": "ok", "title": ""},
                 {"action": "ok", "title": "t", "timeout_seconds": 0},
                 {"action": "ok", "title": "t", "timeout_seconds": 31 * 86400},
                 {"action": "ok", "title": "t", "kind": "poll"},
                 {"action": "ok", "title": "t", "on_timeout": "explode"},
                 {"action": "ok", "title": "t", "quorum": 3, "approvers": ["a", "b"]},
                 {"action": "ok", "title": "t", "callback_url": "ftp://x"}]
        for body in cases:
            with self.subTest(body=str(body)[:60]):
                self.assertError(self.server.call("POST", "/v1/requests", body,
                                                  token=self.agent), 422, "invalid")

    def test_two_mebibyte_body_is_413(self):
        big = json.dumps({"action": "a", "title": "t", "details": {"x": "y" * (2 << 20)}})
        r = self.server.call("POST", "/v1/requests", raw=big.encode(), token=self.agent)
        self.assertError(r, 413, "too_large")
        # The server is still fine afterwards.
        self.assertEqual(self.server.call("GET", "/healthz").status, 200)

    def test_oversized_headers_are_431(self):
        r = self.server.call("GET", "/v1/requests", token=self.agent,
                             headers={"X-Padding": "p" * (20 << 10)})
        self.assertEqual(r.status, 431, r)

    def test_wrong_content_type_is_415(self):
        r = self.server.call("POST", "/v1/requests", raw=b"action=x", token=self.agent,
                             content_type="application/x-www-form-urlencoded")
        self.assertError(r, 415, "unsupported_media_type")

    def test_missing_and_invalid_tokens_are_401(self):
        r = self.server.call("GET", "/v1/requests", token=None)
        self.assertError(r, 401, "unauthorized")
        self.assertIn("Bearer", r.headers.get("WWW-Authenticate", ""))
        self.assertError(self.server.call("GET", "/v1/requests", token="cs_not-a-real-token"),
                         401, "unauthorized")
        self.assertError(self.server.call("GET", "/v1/requests", token=None,
                                          headers={"Authorization": "Basic YTpi"}),
                         401, "unauthorized")

    def test_unknown_id_is_404(self):
        missing = "req_01JD3Z6Q8W9K4M2N7P5R0S1T2V"
        for method, path, body in (("GET", f"/v1/requests/{missing}", None),
                                   ("GET", f"/v1/requests/{missing}/wait?timeout=1", None),
                                   ("POST", f"/v1/requests/{missing}/decisions",
                                    {"choice": "approve"}),
                                   ("POST", f"/v1/requests/{missing}/cancel", {})):
            with self.subTest(path=path):
                self.assertError(self.server.call(method, path, body), 404, "not_found")

    def test_cross_tenant_reads_and_decisions_are_404(self):
        req = self.server.create_request(token=self.agent)
        foreign = self.server.create_token("mallory", "admin", tenant="tenant-b")
        for method, path, body in (("GET", f"/v1/requests/{req['id']}", None),
                                   ("POST", f"/v1/requests/{req['id']}/decisions",
                                    {"choice": "approve"}),
                                   ("POST", f"/v1/requests/{req['id']}/cancel", {})):
            with self.subTest(path=path):
                self.assertError(self.server.call(method, path, body, token=foreign),
                                 404, "not_found")
        listed = self.server.call("GET", "/v1/requests", token=foreign)
        self.assertEqual(listed.json["requests"], [])
        audit = self.server.call("GET", "/v1/audit", token=foreign)
        self.assertEqual([e for e in audit.json["events"] if e["request_id"] == req["id"]], [])

    def test_unknown_path_is_404_and_wrong_method_is_405(self):
        self.assertError(self.server.call("GET", "/v1/nothing-here"), 404, "not_found")
        r = self.server.call("DELETE", "/v1/requests")
        self.assertEqual(r.status, 405, r)
        self.assertIn("GET", r.headers["Allow"])

    def test_malformed_http_is_400(self):
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as sock:
            sock.sendall(b"THIS IS NOT HTTP\r\n\r\n")
            reply = sock.recv(4096)
        self.assertTrue(reply.startswith(b"HTTP/1.1 400"), reply)

    def test_token_management_is_for_admins(self):
        r = self.server.call("POST", "/v1/tokens", {"name": "x", "role": "admin"},
                             token=self.agent)
        self.assertError(r, 403, "forbidden")
        self.assertError(self.server.call("POST", "/v1/tokens", {"name": "x", "role": "king"}),
                         422, "invalid")


class TokenAndAuditTest(ServerTestCase):
    def test_revoked_token_is_refused(self):
        created = self.server.call("POST", "/v1/tokens", {"name": "temp", "role": "agent"})
        self.assertEqual(created.status, 201)
        token = created.json["token"]
        self.assertEqual(self.server.call("GET", "/v1/requests", token=token).status, 200)
        listed = self.server.call("GET", "/v1/tokens")
        self.assertIn("temp", [t["name"] for t in listed.json["tokens"]])
        self.assertNotIn(token, listed.body)  # the secret is shown once only
        revoked = self.server.call("DELETE", f"/v1/tokens/{created.json['id']}")
        self.assertEqual(revoked.status, 200, revoked)
        self.assertEqual(self.server.call("GET", "/v1/requests", token=token).status, 401)
        self.assertEqual(self.server.call("DELETE", f"/v1/tokens/{created.json['id']}").status,
                         404)

    def test_audit_lists_events_in_order_and_verifies(self):
        alice = self.server.create_token("alice", "approver")
        req = self.server.create_request()
        self.server.call("POST", f"/v1/requests/{req['id']}/decisions", {"choice": "approve"},
                         token=alice)
        r = self.server.call("GET", f"/v1/audit?request={req['id']}")
        self.assertEqual(r.status, 200)
        types = [e["type"] for e in r.json["events"]]
        self.assertEqual(types, ["request.created", "decision.recorded", "request.resolved"])
        seqs = [e["seq"] for e in r.json["events"]]
        self.assertEqual(seqs, sorted(seqs))
        self.assertEqual(r.json["next_since"], seqs[-1])
        later = self.server.call("GET", f"/v1/audit?since={seqs[-1]}")
        self.assertEqual(later.json["events"], [])
        v = self.server.call("GET", "/v1/audit/verify")
        self.assertEqual(v.json["ok"], True)
        self.assertGreaterEqual(v.json["events_checked"], 4)
        self.assertEqual(self.server.call("GET", "/v1/audit/verify", token=alice).status, 403)
        tenant_admin = self.server.create_token("b-admin", "admin", tenant="tenant-b")
        self.assertEqual(self.server.call("GET", "/v1/audit/verify", token=tenant_admin).status,
                         403)
        self.assertEqual(self.server.call("GET", "/v1/audit?limit=0").status, 422)
        # Filters: a type prefix (not a LIKE pattern) and who acted.
        r = self.server.call("GET", f"/v1/audit?request={req['id']}&type=decision.")
        self.assertEqual([e["type"] for e in r.json["events"]], ["decision.recorded"])
        r = self.server.call("GET", f"/v1/audit?request={req['id']}&type=decision_")
        self.assertEqual(r.json["events"], [])
        r = self.server.call("GET", f"/v1/audit?request={req['id']}&actor=alice")
        self.assertEqual({e["actor"] for e in r.json["events"]}, {"alice"})
        self.assertEqual(self.server.call("GET", "/v1/audit?type=" + "x" * 65).status, 422)


class SystemEndpointsTest(ServerTestCase):
    def test_health_ready_metrics_and_openapi(self):
        self.assertEqual(self.server.call("GET", "/healthz", token=None).json["status"], "ok")
        self.assertEqual(self.server.call("GET", "/readyz", token=None).json["status"], "ready")
        self.server.create_request()
        metrics = self.server.call("GET", "/metrics", token=None)
        self.assertEqual(metrics.status, 200)
        self.assertIn('countersign_requests{status="pending"} 1', metrics.body)
        self.assertIn("countersign_waiters 0", metrics.body)
        self.assertIn("countersign_store_commit_seconds_count", metrics.body)
        api = self.server.call("GET", "/v1/openapi.json", token=None)
        self.assertEqual(api.status, 200)
        self.assertIn("/v1/requests", api.json["paths"])

    def test_keep_alive_serves_several_requests_on_one_connection(self):
        conn = self.server.connection()
        try:
            for _ in range(3):
                r = self.server.call("GET", "/healthz", token=None, conn=conn)
                self.assertEqual(r.status, 200)
        finally:
            conn.close()


if __name__ == "__main__":
    unittest.main()
