"""Client: the v1 API calls, blocking and asyncio, and how errors come back."""

import asyncio

import pytest

from countersign import ApiError, Client, TransportError
from support import closed_port


def test_create_get_list_decide(agent, alice):
    created = agent.create("deploy_production", "Deploy v2.0", arguments={"ref": "v2.0"},
                           details={"ticket": "OPS-42"}, approvers=["group:sre"])
    assert created["status"] == "pending"
    assert created["requester"] == "agent-bot"
    assert created["arguments"] == {"ref": "v2.0"}
    assert agent.get(created["id"])["id"] == created["id"]
    page = alice.list_requests(status="pending", action="deploy_production")
    assert [r["id"] for r in page["requests"]] == [created["id"]]
    decided = alice.approve(created["id"], comment="green")
    assert decided["status"] == "approved"
    assert decided["receipt"]
    assert agent.wait(created["id"])["status"] == "approved"


def test_idempotency_key_replays_the_same_request(agent):
    first = agent.create("deploy_staging", "Deploy", idempotency_key="k-1")
    again = agent.create("deploy_staging", "Deploy", idempotency_key="k-1")
    assert again["id"] == first["id"]


def test_cancel_and_conflict_carries_the_request(agent):
    created = agent.create("deploy_staging", "Deploy")
    assert agent.cancel(created["id"], "superseded")["status"] == "cancelled"
    with pytest.raises(ApiError) as err:
        agent.cancel(created["id"])
    assert err.value.status == 409
    assert err.value.code == "conflict"
    assert err.value.request["status"] == "cancelled"


def test_errors_name_status_and_code(server, agent):
    with pytest.raises(ApiError) as err:
        agent.get("req_01M7YQ0KET0372EXW812BTE32A")
    assert (err.value.status, err.value.code) == (404, "not_found")
    assert not err.value.transient
    with pytest.raises(ApiError) as err:
        Client(server.url, "cs_not-a-real-token").get("req_01M7YQ0KET0372EXW812BTE32A")
    assert err.value.status == 401
    with pytest.raises(ApiError) as err:
        agent.create("not a valid action", "x")
    assert err.value.status == 422


def test_unreachable_server_is_a_transport_error():
    client = Client(f"http://127.0.0.1:{closed_port()}", "cs_x")
    with pytest.raises(TransportError):
        client.get("req_01M7YQ0KET0372EXW812BTE32A")


def test_token_and_url_come_from_the_environment(server, tokens, monkeypatch, tmp_path):
    monkeypatch.setenv("COUNTERSIGN_URL", server.url)
    token_file = tmp_path / "agent.token"
    token_file.write_text(tokens.agent + "\n")
    monkeypatch.delenv("COUNTERSIGN_TOKEN", raising=False)
    monkeypatch.setenv("COUNTERSIGN_TOKEN_FILE", str(token_file))
    created = Client().create("deploy_staging", "from the environment")
    assert created["requester"] == "agent-bot"


def test_bad_arguments_are_refused_early():
    with pytest.raises(ValueError):
        Client("ftp://example.com")
    with pytest.raises(ValueError):
        Client("http://127.0.0.1:1", "bad token\r\nX-Injected: 1")
    with pytest.raises(ValueError):
        Client("http://127.0.0.1:1", poll_timeout=61)


def test_async_calls(agent, alice):
    async def scenario():
        created = await agent.create_async("deploy_production", "Deploy async",
                                           arguments={"ref": "v3"}, idempotency_key="a-1")
        fetched = await agent.get_async(created["id"])
        page = await alice.list_requests_async(status="pending")
        decided = await alice.decide_async(created["id"], "deny", comment="not now")
        waited = await agent.wait_async(created["id"])
        return created, fetched, page, decided, waited

    created, fetched, page, decided, waited = asyncio.run(scenario())
    assert fetched["id"] == created["id"]
    assert created["id"] in [r["id"] for r in page["requests"]]
    assert decided["status"] == "denied"
    assert waited["status"] == "denied"
    assert waited["receipt"] is None


def test_async_errors(agent):
    async def scenario():
        with pytest.raises(ApiError) as err:
            await agent.get_async("req_01M7YQ0KET0372EXW812BTE32A")
        assert err.value.status == 404
        with pytest.raises(TransportError):
            await Client(f"http://127.0.0.1:{closed_port()}").keys_async()
        return await agent.keys_async()

    jwks = asyncio.run(scenario())
    assert jwks["keys"][0]["crv"] == "Ed25519"
