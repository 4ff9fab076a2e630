"""What a wait tells the ``countersign`` logger, refusing to call without a token, and
listing the requests the caller may decide.

The decisions are made before the wait starts, so its first answer already carries both:
each still comes out as one step, in order, and nothing depends on timing.
"""

import asyncio
import logging
import socket

import pytest

from countersign import Client, CountersignError, NoTokenError


def _two_of_two(server, tokens):
    bob = server.create_token("bob", "approver")
    agent = Client(server.url, tokens.agent)
    created = agent.create("deploy_production", "Deploy v2.0", approvers=["alice", "bob"],
                           quorum=2)
    Client(server.url, tokens.alice).approve(created["id"], comment="canary is green")
    Client(server.url, bob).approve(created["id"])
    return agent, created


def _messages(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "countersign"]


def test_wait_logs_what_it_waits_for_and_each_decision(server, tokens, caplog):
    agent, created = _two_of_two(server, tokens)
    caplog.set_level(logging.INFO, logger="countersign")
    result = agent.wait(created)
    assert result["status"] == "approved"
    messages = _messages(caplog)
    assert messages[0] == (
        f"waiting for a decision on {created['id']} (deadline {created['deadline_at']}); "
        f"who may decide: alice, bob; 2 approvals needed; "
        f"inbox: {server.url}/ui/requests/{created['id']}")
    assert messages[1:] == [f'{created["id"]}: alice approved, 1 of 2: "canary is green"',
                            f"{created['id']}: bob approved, 2 of 2"]


def test_wait_async_by_id_logs_each_decision_once(server, tokens, caplog):
    agent, created = _two_of_two(server, tokens)
    caplog.set_level(logging.INFO, logger="countersign")
    result = asyncio.run(agent.wait_async(created["id"]))
    assert result["status"] == "approved"
    # Given only the id, the wait first sees the request resolved: nothing to wait for, but
    # the decisions are still told, once each.
    assert _messages(caplog) == [f'{created["id"]}: alice approved, 1 of 2: "canary is green"',
                                 f"{created['id']}: bob approved, 2 of 2"]


def test_no_token_is_refused_before_anything_is_sent(monkeypatch):
    monkeypatch.delenv("COUNTERSIGN_TOKEN", raising=False)
    monkeypatch.delenv("COUNTERSIGN_TOKEN_FILE", raising=False)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.setblocking(False)
        client = Client(f"http://127.0.0.1:{listener.getsockname()[1]}")
        calls = [lambda: client.create("deploy_production", "Deploy"),
                 lambda: client.get("req_01M7YQ0KET0372EXW812BTE32A"),
                 lambda: client.wait("req_01M7YQ0KET0372EXW812BTE32A"),
                 lambda: asyncio.run(client.list_requests_async())]
        for call in calls:
            with pytest.raises(NoTokenError, match="no token configured") as err:
                call()
            assert isinstance(err.value, CountersignError)
        # Nothing connected: every call was refused before it was sent.
        with pytest.raises(BlockingIOError):
            listener.accept()


def test_auth_off_calls_without_a_token(monkeypatch):
    monkeypatch.delenv("COUNTERSIGN_TOKEN", raising=False)
    monkeypatch.delenv("COUNTERSIGN_TOKEN_FILE", raising=False)
    import harness

    server = harness.Server(auth=False)
    server.start()
    try:
        created = Client(server.url, auth_off=True).create("deploy_production", "Deploy",
                                                           requester="ci")
        assert created["status"] == "pending"
    finally:
        server.cleanup()


def test_list_requests_decidable_keeps_what_the_caller_may_decide(server, tokens, agent, alice):
    mine = agent.create("deploy_production", "for sre", approvers=["group:sre"])
    agent.create("deploy_production", "for bob", approvers=["bob"])
    page = alice.list_requests(decidable=True)
    assert [r["id"] for r in page["requests"]] == [mine["id"]]
    page = asyncio.run(alice.list_requests_async(decidable=True, limit=5))
    assert [r["id"] for r in page["requests"]] == [mine["id"]]
