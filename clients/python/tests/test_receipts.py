"""verify_receipt and the canonical JSON hash, against receipts the server signed."""

import base64
import json

import pytest

import harness
from support import Decider
from countersign import (ApiError, Client, ReceiptAlreadyConsumed, ReceiptInvalid,
                         arguments_sha256, canonical_json, decode_receipt, requires_approval,
                         verify_receipt)

ARGUMENTS = {"ref": "v2.0", "replicas": 3, "regions": ["eu-west-1", "us-east-1"],
             "notes": "caf\u00e9 \"quoted\"\n\u0001", "canary": {"percent": 10, "enabled": True},
             "ratio": 0.1, "big": 2**64, "neg": -2**63, "nothing": None, "\u00e9": "key order"}


@pytest.fixture
def approved(agent, alice):
    created = agent.create("deploy_production", "Deploy", arguments=ARGUMENTS)
    return alice.approve(created["id"])


def _flip(token, part):
    parts = token.split(".")
    data = bytearray(base64.urlsafe_b64decode(parts[part] + "=" * (-len(parts[part]) % 4)))
    data[3] ^= 0x01
    parts[part] = base64.urlsafe_b64encode(bytes(data)).rstrip(b"=").decode()
    return ".".join(parts)


def test_server_hash_matches_canonical_json(approved):
    assert approved["arguments_sha256"] == arguments_sha256(ARGUMENTS)
    assert canonical_json({"b": 1, "a": [1.5, "x"]}) == '{"a":[1.5E0,"x"],"b":1}'


def test_valid_receipt(agent, approved):
    claims = verify_receipt(approved["receipt"], agent.keys(), action="deploy_production",
                            arguments=ARGUMENTS)
    assert claims["request_id"] == approved["id"]
    assert claims["outcome"] == "approved"
    assert claims == decode_receipt(approved["receipt"])
    assert agent.verify_receipt(approved["receipt"],
                                arguments_sha256=approved["arguments_sha256"])


@pytest.mark.parametrize("mutate, fault", [
    (lambda r: _flip(r, 2), "bad_signature"),
    (lambda r: _flip(r, 1), "bad_signature"),
    (lambda r: "not.a-receipt", "malformed"),
    (lambda r: r.split(".", 1)[1], "malformed"),
])
def test_tampered_receipts_fail(agent, approved, mutate, fault):
    with pytest.raises(ReceiptInvalid) as err:
        verify_receipt(mutate(approved["receipt"]), agent.keys())
    assert err.value.fault == fault


def test_expectations_and_keys(agent, approved):
    receipt, jwks = approved["receipt"], agent.keys()
    claims = decode_receipt(receipt)
    cases = [
        (dict(action="wipe_database"), "action_mismatch"),
        (dict(arguments={**ARGUMENTS, "replicas": 4}), "arguments_mismatch"),
        (dict(now=claims["exp"]), "expired"),
    ]
    for expect, fault in cases:
        with pytest.raises(ReceiptInvalid) as err:
            verify_receipt(receipt, jwks, **expect)
        assert err.value.fault == fault
        assert err.value.claims == claims
    other = {"keys": [dict(jwks["keys"][0], kid="another-kid")]}
    with pytest.raises(ReceiptInvalid) as err:
        verify_receipt(receipt, other)
    assert err.value.fault == "unknown_key"
    assert verify_receipt(receipt, jwks, now=claims["exp"] - 1)


def test_a_receipt_with_another_alg_is_refused(agent, approved):
    header, payload, signature = approved["receipt"].split(".")
    none_header = base64.urlsafe_b64encode(json.dumps(
        {"alg": "none", "kid": "x"}).encode()).rstrip(b"=").decode()
    with pytest.raises(ReceiptInvalid) as err:
        verify_receipt(f"{none_header}.{payload}.", agent.keys())
    assert err.value.fault == "malformed"


# -- consuming receipts ----------------------------------------------------------------------
SINGLE_USE_POLICY = """
[[policy]]
name = "once"
match = { action = "wipe_*" }
receipt = "single_use"
"""


@pytest.fixture
def single_use_server(tmp_path):
    """A server whose policy makes wipe_* receipts single-use."""
    config = tmp_path / "countersign.toml"
    config.write_text(SINGLE_USE_POLICY)
    s = harness.Server(auth=True, extra_args=["--config", str(config)])
    s.start()
    yield s
    s.cleanup()


def test_consume_receipt_counts_once_then_raises_naming_the_first_consumer(agent, alice,
                                                                           server, tokens):
    created = agent.create("deploy_production", "Deploy", arguments=ARGUMENTS)
    approved = alice.decide(created["id"], "approve")
    assert approved["receipt_use"] == "reusable"
    # Reusable receipts count every use: two uses here, the second named in the answer.
    first = agent.consume_receipt(approved["receipt"])
    assert first["consumed"] is True
    assert (first["uses"], first["consumed_by"]) == (1, "agent-bot")
    assert first["jti"] == decode_receipt(approved["receipt"])["jti"]
    assert agent.consume_receipt(approved["receipt"])["uses"] == 2

    # max_uses from the approver: one use, then ReceiptAlreadyConsumed.
    created = agent.create("deploy_production", "Deploy again", arguments=ARGUMENTS)
    limited = server.call("POST", f"/v1/requests/{created['id']}/decisions",
                          {"choice": "approve", "receipt": {"max_uses": 1}},
                          token=tokens.alice).json
    runner = Client(server.url, server.create_token("runner", "agent"))
    assert runner.consume_receipt(limited["receipt"])["uses"] == 1
    with pytest.raises(ReceiptAlreadyConsumed) as err:
        agent.consume_receipt(limited["receipt"])
    assert isinstance(err.value, ApiError)
    assert err.value.status == 409 and err.value.code == "already_consumed"
    assert err.value.consumed_by == "runner"
    assert err.value.consumed_at and err.value.consumed_at in err.value.message
    assert (err.value.uses, err.value.max_uses) == (1, 1)
    assert err.value.jti == decode_receipt(limited["receipt"])["jti"]


def test_consume_receipt_refuses_a_forged_receipt_with_422(agent, alice):
    created = agent.create("deploy_production", "Deploy", arguments=ARGUMENTS)
    approved = alice.approve(created["id"])
    with pytest.raises(ApiError) as err:
        agent.consume_receipt(_flip(approved["receipt"], 2))
    assert err.value.status == 422 and err.value.code == "invalid_receipt"
    assert not isinstance(err.value, ReceiptAlreadyConsumed)


def test_the_decorator_consumes_a_single_use_receipt_before_running(single_use_server):
    s = single_use_server
    client = Client(s.url, s.create_token("agent-bot", "agent"))
    alice = s.create_token("alice", "approver")
    calls = []

    @requires_approval(action="wipe_cache", client=client)
    def wipe(region):
        calls.append(region)
        return "wiped"

    decider = Decider(s, alice, "wipe_cache", "approve")
    decider.start()
    assert wipe("eu") == "wiped"
    decider.finish()
    assert calls == ["eu"]
    events = [e for e in s.call("GET", "/v1/audit?limit=1000").json["events"]
              if e["type"] == "receipt.consumed"]
    assert len(events) == 1 and events[0]["actor"] == "agent-bot"


class ReplayingClient(Client):
    """Hands the decorator an approval whose receipt someone has already used, as a replayed
    approval would be."""

    def wait(self, *args, **kwargs):
        request = super().wait(*args, **kwargs)
        if request.get("receipt"):
            self.consume_receipt(request["receipt"])
        return request


def test_the_decorator_refuses_a_consumed_single_use_receipt(single_use_server):
    s = single_use_server
    client = ReplayingClient(s.url, s.create_token("agent-bot", "agent"))
    alice = s.create_token("alice", "approver")
    calls = []

    @requires_approval(action="wipe_cache", client=client)
    def wipe(region):
        calls.append(region)

    decider = Decider(s, alice, "wipe_cache", "approve")
    decider.start()
    with pytest.raises(ReceiptAlreadyConsumed) as err:
        wipe("eu")
    decider.finish()
    assert calls == []
    assert err.value.consumed_by == "agent-bot"

    @requires_approval(action="wipe_cache", client=client, raise_on_deny=False)
    def wipe_quietly(region):
        calls.append(region)

    decider = Decider(s, alice, "wipe_cache", "approve")
    decider.start()
    result = wipe_quietly("us")
    decider.finish()
    assert calls == []
    assert result["success"] is False and "already_consumed" in result["error"]
