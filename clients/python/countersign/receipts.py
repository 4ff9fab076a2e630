"""Receipts: checking a countersign approval receipt, and the canonical JSON it hashes.

A receipt is a compact JWS (alg EdDSA) signed by the server's Ed25519 key, whose public half
``GET /v1/keys`` serves as a JWKS (see docs/receipts.md). :func:`verify_receipt` performs
the checks an executor should make before acting. Checking the Ed25519 signature needs the
``cryptography`` package (Debian: ``python3-cryptography``); it is imported only when
:func:`verify_receipt` is called, so the rest of this package needs nothing but the standard
library. :func:`canonical_json` and :func:`arguments_sha256` need nothing.
"""

from __future__ import annotations

import base64
import binascii
import decimal
import hashlib
import json
import math
import time
from typing import Any, Dict, Mapping, Optional

from .errors import ReceiptInvalid

__all__ = ["verify_receipt", "decode_receipt", "canonical_json", "arguments_sha256"]

_CLAIM_TYPES = {"request_id": str, "tenant": str, "action": str, "arguments_sha256": str,
                "outcome": str, "approvers": list, "decided_at": int, "exp": int, "iat": int}


def _b64url_decode(text: str) -> bytes:
    if not isinstance(text, str) or "=" in text:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decode_receipt(receipt: str) -> Dict[str, Any]:
    """The claims of a receipt, WITHOUT checking its signature (for display and logging).

    Raises :class:`ReceiptInvalid` (fault ``malformed``) when it is not a compact JWS with a
    JSON object payload.
    """
    try:
        parts = receipt.split(".")
        if len(parts) != 3:
            raise ValueError("not three parts")
        claims = json.loads(_b64url_decode(parts[1]))
    except (ValueError, AttributeError, binascii.Error) as exc:
        raise ReceiptInvalid("malformed", f"not a compact JWS: {exc}") from None
    if not isinstance(claims, dict):
        raise ReceiptInvalid("malformed", "the payload is not a JSON object")
    return claims


def verify_receipt(receipt: str, jwks: Mapping[str, Any], *, action: Optional[str] = None,
                   arguments: Optional[Mapping[str, Any]] = None,
                   arguments_sha256: Optional[str] = None,
                   now: Optional[float] = None) -> Dict[str, Any]:
    """Checks a receipt and returns its claims; raises :class:`ReceiptInvalid` otherwise.

    The checks, in order (the same as ``countersign receipt verify``): the token is a compact
    JWS whose header says ``alg`` EdDSA, names a ``kid`` and has no ``crit``; ``jwks`` (the
    answer of ``GET /v1/keys``) has an Ed25519 key with that kid; the signature verifies;
    every claim is present with its JSON type; ``outcome`` is ``approved``; ``exp`` has not
    passed (valid while ``now < exp``); then, when given, ``action`` equals the claim and the
    SHA-256 of the canonical JSON of ``arguments`` (or ``arguments_sha256`` itself) equals
    the claim ``arguments_sha256``.

    Args:
        receipt: the compact JWS (the request's ``receipt``).
        jwks: ``{"keys": [...]}`` as ``GET /v1/keys`` (or :meth:`Client.keys`) returns it.
        action: the action about to be run.
        arguments: the arguments about to be run with.
        arguments_sha256: their hash, instead of ``arguments``.
        now: Unix time to check ``exp`` against; default: now.

    Raises:
        ReceiptInvalid: with ``fault`` naming the first failed check.
        ImportError: the ``cryptography`` package is not installed.
    """
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("verify_receipt needs the 'cryptography' package "
                          "(pip install cryptography, or apt install python3-cryptography)"
                          ) from exc

    try:
        header_b64, payload_b64, signature_b64 = receipt.split(".")
        header = json.loads(_b64url_decode(header_b64))
        signature = _b64url_decode(signature_b64)
        payload = _b64url_decode(payload_b64)
    except (ValueError, AttributeError, binascii.Error) as exc:
        raise ReceiptInvalid("malformed", f"not a compact JWS: {exc}") from None
    if not isinstance(header, dict) or header.get("alg") != "EdDSA":
        raise ReceiptInvalid("malformed", "the header's alg is not EdDSA")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise ReceiptInvalid("malformed", "the header names no kid")
    if "crit" in header:
        raise ReceiptInvalid("malformed", "the header has crit, which is not supported")

    key_bytes = None
    for key in (jwks or {}).get("keys", []) if isinstance(jwks, Mapping) else []:
        if (isinstance(key, Mapping) and key.get("kid") == kid and key.get("kty") == "OKP"
                and key.get("crv") == "Ed25519" and key.get("alg", "EdDSA") == "EdDSA"
                and key.get("use", "sig") == "sig"):
            try:
                key_bytes = _b64url_decode(key.get("x", ""))
            except (ValueError, binascii.Error):
                continue
            if len(key_bytes) == 32:
                break
            key_bytes = None
    if key_bytes is None:
        raise ReceiptInvalid("unknown_key", f"no Ed25519 key with kid {kid} in the JWKS")
    try:
        Ed25519PublicKey.from_public_bytes(key_bytes).verify(
            signature, f"{header_b64}.{payload_b64}".encode("ascii"))
    except (InvalidSignature, ValueError, UnicodeEncodeError):
        raise ReceiptInvalid("bad_signature", "the signature does not verify") from None

    try:
        claims = json.loads(payload)
    except ValueError:
        raise ReceiptInvalid("malformed", "the payload is not JSON") from None
    if not isinstance(claims, dict):
        raise ReceiptInvalid("malformed", "the payload is not a JSON object")
    for name, kind in _CLAIM_TYPES.items():
        value = claims.get(name)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ReceiptInvalid("malformed", f"claim {name} is missing or not a "
                                 f"{kind.__name__}", claims)
    if claims["outcome"] != "approved":
        raise ReceiptInvalid("not_approved", f"outcome is {claims['outcome']!r}", claims)
    current = time.time() if now is None else now
    if current >= claims["exp"]:
        raise ReceiptInvalid("expired", f"expired at {claims['exp']} (now {int(current)})",
                             claims)
    if action is not None and claims["action"] != action:
        raise ReceiptInvalid("action_mismatch", f"the receipt approves action "
                             f"{claims['action']!r}, not {action!r}", claims)
    expected_hash = arguments_sha256
    if arguments is not None:
        expected_hash = _hash_of(arguments)
    if expected_hash is not None and claims["arguments_sha256"] != expected_hash:
        raise ReceiptInvalid("arguments_mismatch", f"the arguments hash to {expected_hash} but "
                             f"the receipt approves {claims['arguments_sha256']}", claims)
    return claims


# -- canonical JSON (docs/receipts.md "Canonical JSON and arguments_sha256") -----------------
def _boost_double(f: float) -> str:
    """A double as Boost.JSON prints it: shortest round-trip digits, d[.ddd]E[-]n."""
    if f == 0:
        return "-0E0" if math.copysign(1.0, f) < 0 else "0E0"
    _, digits_tuple, exponent = decimal.Decimal(repr(abs(f))).as_tuple()
    digits = list(digits_tuple)
    assert isinstance(exponent, int)
    while len(digits) > 1 and digits[-1] == 0:
        digits.pop()
        exponent += 1
    mantissa = str(digits[0]) + ("." + "".join(map(str, digits[1:])) if len(digits) > 1 else "")
    return ("-" if f < 0 else "") + f"{mantissa}E{exponent + len(digits) - 1}"


def canonical_json(value: Any) -> str:
    """The canonical JSON text the server hashes: keys sorted by UTF-8 bytes, no whitespace,
    raw UTF-8, 64-bit integers in decimal, other numbers as Boost.JSON prints doubles."""
    if isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda kv: str(kv[0]).encode())
        return "{" + ",".join(canonical_json(str(k)) + ":" + canonical_json(v)
                              for k, v in items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(canonical_json(v) for v in value) + "]"
    if value is None or isinstance(value, (bool, str)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        if -2**63 <= value < 2**64:
            return str(int(value))
        return _boost_double(float(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("NaN and infinities have no JSON form")
        return _boost_double(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def arguments_sha256(arguments: Mapping[str, Any]) -> str:
    """The lower-case hex SHA-256 of ``canonical_json(arguments)``: what the server reports as
    ``arguments_sha256`` for these arguments."""
    return _hash_of(arguments)


def _hash_of(arguments: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(arguments).encode("utf-8")).hexdigest()
