"""Fixtures: a real countersign server per test (tests/integration/harness.py), tokens for an
agent, an approver and an admin, clients for them, deciders and proxies (support.py).

The server binary is COUNTERSIGN_BIN (ctest sets it), else build/countersign.
"""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace
from typing import List, Optional

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(HERE, ".."))                      # the countersign package
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))    # harness.py
sys.path.insert(0, HERE)                                          # support.py

import harness  # noqa: E402
from support import CONDITION_TIMEOUT, Decider, FlakyProxy  # noqa: E402

from countersign import Client  # noqa: E402


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)


@pytest.fixture
def server(request):
    s = harness.Server(auth=True)
    s.start()
    yield s
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        print(s.read_log()[-4000:])
    s.cleanup()


@pytest.fixture
def tokens(server):
    return SimpleNamespace(
        admin=server.admin_token,
        agent=server.create_token("agent-bot", "agent"),
        alice=server.create_token("alice", "approver", groups=["sre"]),
    )


@pytest.fixture
def agent(server, tokens):
    """The client an agent uses: short backoff so retries cost no real time."""
    return Client(server.url, tokens.agent, backoff_initial=0.01, backoff_max=0.05)


@pytest.fixture
def alice(server, tokens):
    return Client(server.url, tokens.alice)


@pytest.fixture
def decide(server, tokens):
    """decide(action, choice="approve", ...) starts a Decider with alice's token."""
    started: List[Decider] = []

    def start(action: str, choice: Optional[str] = "approve", **kwargs) -> Decider:
        kwargs.setdefault("token", tokens.alice)
        d = Decider(server, kwargs.pop("token"), action, choice, **kwargs)
        d.start()
        started.append(d)
        return d

    yield start
    for d in started:
        d.join(CONDITION_TIMEOUT)


@pytest.fixture
def proxy_factory(server):
    proxies: List[FlakyProxy] = []

    def make(script=(), listening: bool = True) -> FlakyProxy:
        p = FlakyProxy(server.port, script)
        if listening:
            p.listen()
        proxies.append(p)
        return p

    yield make
    for p in proxies:
        p.close()
