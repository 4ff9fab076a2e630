"""Checks shared by the chat channel tests of the grant buttons ("Approve for this session",
"Always approve"): what GET /v1/grants shows after a press, and that the next request the
grant covers is approved by it, without anyone being asked."""

import datetime


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def grants_of(server, request_id):
    """The grants given with the approval of `request_id`."""
    r = server.call("GET", "/v1/grants")
    assert r.status == 200, r
    return [g for g in r.json["grants"] if g["request_id"] == request_id]


def assert_granted(test, server, r, scope, lifetime, by="alice"):
    """Exactly one grant came with the approval of `r`: of `scope`, for its action and its
    session (scope "session") or its requester (scope "requester"), lasting `lifetime`."""
    grants = grants_of(server, r["id"])
    test.assertEqual(len(grants), 1, grants)
    g = grants[0]
    test.assertEqual((g["scope"], g["action"], g["created_by"], g["revoked_at"]),
                     (scope, r["action"], by, None))
    test.assertEqual(g["session"], r["session"] if scope == "session" else "")
    test.assertEqual(g["requester"], r["requester"] if scope == "requester" else "")
    test.assertEqual(parse_time(g["expires_at"]) - parse_time(g["created_at"]), lifetime)
    return g


def assert_next_request_approved_by_grant(test, server, token, action, session, grant=None):
    """A new request of `action` in `session` is approved at once by the grant."""
    body = {"action": action, "title": "Deploy again", "session": session}
    created = server.call("POST", "/v1/requests", body, token=token)
    test.assertEqual(created.status, 201, created)
    test.assertEqual(created.json["status"], "approved", created.json)
    test.assertEqual(created.json["reason_code"], "approved_by_grant", created.json)
    read = server.call("GET", "/v1/requests/" + created.json["id"])
    test.assertEqual(read.json["reason_code"], "approved_by_grant", read.json)
    return created.json


def assert_next_request_asks(test, server, token, action, session):
    """A new request of `action` in `session` waits for a person: no grant covers it."""
    body = {"action": action, "title": "Deploy again", "session": session}
    created = server.call("POST", "/v1/requests", body, token=token)
    test.assertEqual(created.status, 201, created)
    test.assertEqual(created.json["status"], "pending", created.json)
    return created.json
