"""verify_receipt and the canonical JSON hash, against receipts the server signed."""

import base64
import json

import pytest

from countersign import (ReceiptInvalid, arguments_sha256, canonical_json, decode_receipt,
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
