"""Client.wait: many long-polls through the server's cap, transient failures retried.

The per-poll timeout is 1 s (the server caps a poll at 60 s; the loop is the same), so a
wait spans several polls. The person deciding does so only once a proxy in front of the
server has seen the polls the test wants, so nothing depends on timing.
"""

import asyncio

import pytest

from countersign import ApiError, Client, TransportError
from support import CONDITION_TIMEOUT, wait_until


def test_wait_polls_again_and_again_until_decided(server, tokens, proxy_factory, decide):
    proxy = proxy_factory()
    created = Client(server.url, tokens.agent).create("deploy_production", "Deploy")
    decider = decide("deploy_production", ready=lambda: proxy.count("/wait?timeout=1 ") >= 3)
    client = Client(proxy.url, tokens.agent, poll_timeout=1)
    result = client.wait(created["id"])
    assert result["status"] == "approved"
    assert proxy.count("/wait?timeout=1 ") >= 3
    decider.finish()


def test_wait_async_polls_again_and_again_until_decided(server, tokens, proxy_factory,
                                                        decide):
    proxy = proxy_factory()
    created = Client(server.url, tokens.agent).create("deploy_production", "Deploy")
    decide("deploy_production", choice="deny",
           ready=lambda: proxy.count("/wait?timeout=1 ") >= 3)
    client = Client(proxy.url, tokens.agent, poll_timeout=1)
    result = asyncio.run(client.wait_async(created["id"]))
    assert result["status"] == "denied"
    assert proxy.count("/wait?timeout=1 ") >= 3


def _flaky_client(proxy, token, seen):
    """A client that lets the proxy listen only after two connections were refused."""

    def on_retry(attempt, error, delay):
        seen.append(error)
        if len(seen) == 2:
            proxy.listen()

    return Client(proxy.url, token, poll_timeout=1, backoff_initial=0.01, backoff_max=0.05,
                  on_retry=on_retry)


def _check_failures(seen):
    assert len(seen) == 6, seen
    assert all(isinstance(e, TransportError) for e in seen[:3])   # refused, refused, reset
    assert isinstance(seen[0].__cause__, ConnectionRefusedError)
    assert [e.status for e in seen[3:]] == [502, 503, 504]
    assert all(isinstance(e, ApiError) and e.transient for e in seen[3:])


def test_wait_survives_refused_reset_and_bad_gateways(server, tokens, proxy_factory,
                                                      decide):
    proxy = proxy_factory(script=["reset", "502", "503", "504"], listening=False)
    created = Client(server.url, tokens.agent).create("deploy_production", "Deploy")
    decide("deploy_production", ready=lambda: proxy.count("/wait") >= 1)
    seen = []
    result = _flaky_client(proxy, tokens.agent, seen).wait(created["id"], timeout=60)
    assert result["status"] == "approved"
    assert result["receipt"]
    _check_failures(seen)
    assert len(proxy.failed) == 4


def test_wait_async_survives_refused_reset_and_bad_gateways(server, tokens, proxy_factory,
                                                            decide):
    proxy = proxy_factory(script=["reset", "502", "503", "504"], listening=False)
    created = Client(server.url, tokens.agent).create("deploy_production", "Deploy")
    decide("deploy_production", ready=lambda: proxy.count("/wait") >= 1)
    seen = []
    client = _flaky_client(proxy, tokens.agent, seen)
    result = asyncio.run(client.wait_async(created["id"], timeout=60))
    assert result["status"] == "approved"
    _check_failures(seen)


def test_wait_survives_a_server_restart(server, tokens, proxy_factory):
    """The server is stopped (SIGTERM) while a wait is under way and started again, on a new
    port behind the same proxy; the wait carries on and sees the decision made afterwards."""
    import threading

    proxy = proxy_factory()
    created = Client(server.url, tokens.agent).create("deploy_production", "Deploy")
    stopped = threading.Event()

    def stop_when_waiting():
        wait_until(lambda: proxy.count("/wait") >= 1, "the first poll")
        server.stop()
        stopped.set()

    seen = []

    def on_retry(attempt, error, delay):
        seen.append(error)
        if len(seen) == 1:  # the server is down: bring it back and decide
            stopped.wait(CONDITION_TIMEOUT)
            server.start()
            proxy.upstream_port = server.port
            Client(server.url, tokens.alice).approve(created["id"])

    stopper = threading.Thread(target=stop_when_waiting, daemon=True)
    stopper.start()
    client = Client(proxy.url, tokens.agent, poll_timeout=5, backoff_initial=0.01,
                    backoff_max=0.05, on_retry=on_retry)
    result = client.wait(created["id"], timeout=60)
    stopper.join(CONDITION_TIMEOUT)
    assert result["status"] == "approved"
    assert seen and all(isinstance(e, TransportError) for e in seen)


def test_wait_timeout_returns_the_request_still_pending(agent):
    created = agent.create("deploy_production", "Deploy")
    result = agent.wait(created["id"], timeout=1, poll_timeout=1)
    assert result["status"] == "pending"
    assert agent.wait(created["id"], timeout=0)["status"] == "pending"


def test_wait_raises_at_once_on_a_refusal(server, tokens):
    other = server.create_token("other-bot", "agent")
    created = Client(server.url, tokens.agent).create("deploy_production", "Deploy")
    with pytest.raises(ApiError) as err:
        Client(server.url, other).wait(created["id"])
    assert err.value.status == 404
