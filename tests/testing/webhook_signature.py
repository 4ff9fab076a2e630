"""A receiver's check of countersign's signed webhook and callback POSTs, as docs/api.md shows it.

The signature is "sha256=" + hex HMAC-SHA256(secret, "<X-Countersign-Timestamp>.<raw body>"),
and a receiver refuses a timestamp more than TOLERANCE seconds from its own clock, so a captured
POST cannot be replayed later, nor its body sent under a fresh timestamp.
"""

import hashlib
import hmac
import time

TOLERANCE = 300  # seconds either way: the 5-minute window the docs recommend


def signature(secret, timestamp, body):
    """The X-Countersign-Signature value for `body` (bytes) sent at `timestamp` (text)."""
    signed = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify(secret, timestamp, signature_header, body, now=None, tolerance=TOLERANCE):
    """Whether a POST with these headers and raw body is authentic and fresh."""
    if not timestamp or not timestamp.isdigit():
        return False
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), signature_header or "")


def verify_request(secret, got, now=None):
    """verify() for a request recorded by fake_chat.FakeChat."""
    return verify(secret, got.header("X-Countersign-Timestamp"),
                  got.header("X-Countersign-Signature"), got.body, now=now)
