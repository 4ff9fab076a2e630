"""The exceptions the countersign client raises.

Everything derives from :class:`CountersignError`, so ``except CountersignError`` catches
any failure of the client. Two families sit under it:

* talking to the server failed: :class:`TransportError` (the server could not be reached,
  the connection broke, no answer in time) and :class:`ApiError` (the server answered with
  an error status);
* a gated call was not approved: :class:`ApprovalError` and one subclass per family of the
  request's ``reason_code``: :class:`ApprovalDenied` (``denied_by_person``,
  ``denied_by_policy``), :class:`ApprovalExpired` (``expired``, ``escalation_exhausted``;
  a subclass of :class:`ApprovalTimedOut`) and :class:`ApprovalCancelled`
  (``cancelled_by_requester``, ``cancelled_by_admin``), each carrying the request as the
  server last reported it and its ``reason_code``. :func:`approval_error` picks the class.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Type

__all__ = [
    "CountersignError",
    "TransportError",
    "ApiError",
    "NoTokenError",
    "ApprovalError",
    "ApprovalDenied",
    "ApprovalTimedOut",
    "ApprovalExpired",
    "ApprovalDeniedAtDeadline",
    "ApprovalCancelled",
    "ReceiptInvalid",
    "ReceiptAlreadyConsumed",
    "approval_error",
    "approval_error_class",
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
        reason_code: why it left pending, in words a program can branch on: ``approved``,
            ``approved_by_grant``, ``approved_by_policy``, ``denied_by_person``,
            ``denied_by_policy``, ``expired``, ``escalation_exhausted``,
            ``cancelled_by_requester``, ``cancelled_by_admin`` (``answered``, ``dismissed``,
            ``ended`` for questions and conversations); ``None`` while pending, or from a
            server that predates reason codes.
    """

    def __init__(self, message: str, request: Optional[Dict[str, Any]]) -> None:
        super().__init__(message)
        self.request = request
        self.request_id: Optional[str] = (request or {}).get("id")
        self.status: Optional[str] = (request or {}).get("status")
        self.reason_code: Optional[str] = (request or {}).get("reason_code")


class ApprovalDenied(ApprovalError):
    """Denied: by a person (``reason_code`` ``denied_by_person``) or a policy
    (``denied_by_policy``). Also raised, with status ``approved``, by the decorator when the
    approvers edited the arguments, and (as :class:`ApprovalDeniedAtDeadline`) when the
    deadline denied it under ``on_timeout = "deny"``."""


class ApprovalTimedOut(ApprovalError):
    """Nobody decided in time: the request expired on the server (raised as its subclass
    :class:`ApprovalExpired`), or the caller's own wait timeout ran out (the client then
    cancels the request: ``reason_code`` ``cancelled_by_requester``)."""


class ApprovalExpired(ApprovalTimedOut):
    """The server's deadline passed with no decision: ``reason_code`` ``expired``, or
    ``escalation_exhausted`` when the last escalation tier's time ran out too."""


class ApprovalDeniedAtDeadline(ApprovalExpired, ApprovalDenied):
    """The deadline denied it (``on_timeout = "deny"``: status ``denied``, ``reason_code``
    ``expired``). Both an :class:`ApprovalExpired` and, as it always was, an
    :class:`ApprovalDenied`."""


class ApprovalCancelled(ApprovalError):
    """The request was cancelled before anyone decided it: by its requester
    (``reason_code`` ``cancelled_by_requester``) or an admin (``cancelled_by_admin``)."""


_FAMILIES: Dict[str, Type[ApprovalError]] = {
    "denied_by_person": ApprovalDenied,
    "denied_by_policy": ApprovalDenied,
    "expired": ApprovalExpired,
    "escalation_exhausted": ApprovalExpired,
    "cancelled_by_requester": ApprovalCancelled,
    "cancelled_by_admin": ApprovalCancelled,
}

# For a server that predates reason codes.
_BY_STATUS: Dict[str, Type[ApprovalError]] = {
    "denied": ApprovalDenied,
    "expired": ApprovalExpired,
    "cancelled": ApprovalCancelled,
}


def approval_error_class(request: Dict[str, Any]) -> Type[ApprovalError]:
    """The exception class for a request that was not approved, by its ``reason_code``
    (by its ``status`` when it has none); :class:`ApprovalError` for anything else."""
    code = request.get("reason_code")
    status = request.get("status")
    if status == "denied" and code in ("expired", "escalation_exhausted"):
        return ApprovalDeniedAtDeadline
    return _FAMILIES.get(code or "") or _BY_STATUS.get(status or "") or ApprovalError


def approval_error(request: Dict[str, Any], message: Optional[str] = None) -> ApprovalError:
    """The exception to raise for ``request`` (the v1 request object), which was not
    approved: an instance of :func:`approval_error_class`, with ``message`` or a sentence
    naming the request, its status and its reason code."""
    if message is None:
        code = request.get("reason_code")
        message = (f"request {request.get('id')} was not approved: it is "
                   f"{request.get('status')}" + (f" ({code})" if code else ""))
    return approval_error_class(request)(message, request)


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


class ReceiptAlreadyConsumed(ApiError):
    """``POST /v1/receipts/consume`` answered 409: the receipt's uses are spent (a
    single-use receipt was consumed before), so the action must not run again.

    Attributes (besides :class:`ApiError`'s, ``status`` 409 and ``code``
    ``"already_consumed"``):
        jti: the receipt's id.
        consumed_at: when it was first consumed (RFC 3339).
        consumed_by: who consumed it first.
        uses: the uses counted.
        max_uses: the uses it allows.
    """

    def __init__(self, status: int, code: str, message: str,
                 error: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(status, code, message)
        error = error or {}
        self.jti: Optional[str] = error.get("jti")
        self.consumed_at: Optional[str] = error.get("consumed_at")
        self.consumed_by: Optional[str] = error.get("consumed_by")
        self.uses: Optional[int] = error.get("uses")
        self.max_uses: Optional[int] = error.get("max_uses")
