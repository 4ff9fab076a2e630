"""The exceptions the countersign client raises.

Everything derives from :class:`CountersignError`, so ``except CountersignError`` catches
any failure of the client. Two families sit under it:

* talking to the server failed: :class:`TransportError` (the server could not be reached,
  the connection broke, no answer in time) and :class:`ApiError` (the server answered with
  an error status);
* a gated call was not approved: :class:`ApprovalError` and its subclasses
  :class:`ApprovalDenied`, :class:`ApprovalTimedOut` and :class:`ApprovalCancelled`, each
  carrying the request as the server last reported it.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

__all__ = [
    "CountersignError",
    "TransportError",
    "ApiError",
    "NoTokenError",
    "ApprovalError",
    "ApprovalDenied",
    "ApprovalTimedOut",
    "ApprovalCancelled",
    "ReceiptInvalid",
]


class CountersignError(Exception):
    """Base class of every error this package raises."""


class TransportError(CountersignError):
    """The server could not be reached, the connection broke, or it did not answer in time.

    These are transient: :meth:`countersign.Client.wait` retries them with backoff.
    """


class ApiError(CountersignError):
    """The server answered with an error status (4xx or 5xx).

    Attributes:
        status: the HTTP status.
        code: the server's error code (``"not_found"``, ``"conflict"``, ...), or ``""`` when
            the body was not a countersign error (e.g. a 502 from a proxy).
        message: the server's message.
        request: for a ``409``, the request as it stands now; otherwise ``None``.
        retry_after: the ``Retry-After`` header in seconds, when the server sent one.
        field: for a ``422``, the input field at fault when the server named one
            (``"response.age"``); otherwise ``None``.
    """

    def __init__(self, status: int, code: str, message: str,
                 request: Optional[Dict[str, Any]] = None,
                 retry_after: Optional[float] = None, field: Optional[str] = None) -> None:
        super().__init__(f"{message} (HTTP {status}{' ' + code if code else ''})")
        self.status = status
        self.code = code
        self.message = message
        self.request = request
        self.retry_after = retry_after
        self.field = field

    @property
    def transient(self) -> bool:
        """True for answers worth retrying: 429, 502, 503 and 504."""
        return self.status in (429, 502, 503, 504)


class NoTokenError(CountersignError):
    """No token is configured, and the call needs one: raised before anything is sent.

    Give ``Client(token=...)``, or set ``COUNTERSIGN_TOKEN`` or ``COUNTERSIGN_TOKEN_FILE``;
    for a server started with ``--auth off``, construct the client with ``auth_off=True``.
    """


class ApprovalError(CountersignError):
    """A gated call was not approved; the function did not run.

    Attributes:
        request: the request (the v1 request object) as last seen; its ``status`` says what
            happened. ``None`` only when no request could be read at all.
        request_id: the request's id.
        status: the request's status (``denied``, ``expired``, ``cancelled``, or ``pending``
            when the caller's own wait timeout ran out).
    """

    def __init__(self, message: str, request: Optional[Dict[str, Any]]) -> None:
        super().__init__(message)
        self.request = request
        self.request_id: Optional[str] = (request or {}).get("id")
        self.status: Optional[str] = (request or {}).get("status")


class ApprovalDenied(ApprovalError):
    """An approver (or the deadline, with ``on_timeout = "deny"``) denied the request."""


class ApprovalTimedOut(ApprovalError):
    """Nobody decided in time: the request expired on the server, or the caller's own wait
    timeout ran out (the client then cancels the request)."""


class ApprovalCancelled(ApprovalError):
    """The request was cancelled (by its requester or an admin) before anyone decided it."""


class ReceiptInvalid(CountersignError):
    """A receipt failed verification.

    Attributes:
        fault: what failed, one of ``malformed``, ``unknown_key``, ``bad_signature``,
            ``not_approved``, ``expired``, ``action_mismatch``, ``arguments_mismatch``
            (the same words as ``countersign receipt verify --json``).
        reason: a sentence for a person.
        claims: the payload once the signature has verified, else ``None``.
    """

    def __init__(self, fault: str, reason: str,
                 claims: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(f"invalid receipt ({fault}): {reason}")
        self.fault = fault
        self.reason = reason
        self.claims = claims
