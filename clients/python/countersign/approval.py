"""``@requires_approval``: run a function only after a person approved the call.

The decorator works on plain and ``async`` functions and methods. Each call creates an
approval request whose ``arguments`` are the call's arguments, waits for the decision
(long-polling, surviving server restarts), and then:

* approved: runs the function (when the policy made the receipt single-use, only after
  consuming it through ``POST /v1/receipts/consume``: a receipt consumed before raises
  :class:`ReceiptAlreadyConsumed` and the function does not run). The signed receipt
  reaches it as the keyword argument ``countersign_receipt`` when the function declares a
  parameter of that name, and in any case through :func:`current_approval` /
  :func:`current_receipt` while it runs. Then it
  reports the outcome (``succeeded``, or ``failed`` with the exception's type name) to the
  server as the request's execution, unless ``report_outcome=False``;
* denied, expired, cancelled, or the caller's ``wait_timeout`` ran out: does not run it and
  raises :class:`ApprovalDenied`, :class:`ApprovalExpired` (an :class:`ApprovalTimedOut`),
  :class:`ApprovalTimedOut` or :class:`ApprovalCancelled`, chosen by the request's
  ``reason_code`` and carrying it (or, with ``raise_on_deny=False``, returns
  ``{"success": False, "error": ...}`` like the Molecule HITL decorator this replaces).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import logging
import math
import re
import threading
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, Mapping, Optional, Tuple, TypeVar, Union

from .client import Client, Roles, _roles_tuple
from .errors import (ApiError, ApprovalDenied, ApprovalError, ApprovalTimedOut,
                     CountersignError, ReceiptInvalid, approval_error_class)
from .receipts import decode_receipt

__all__ = [
    "Approval",
    "requires_approval",
    "current_approval",
    "current_receipt",
    "get_default_client",
    "set_default_client",
    "json_safe",
    "RECEIPT_PARAMETER",
]

logger = logging.getLogger("countersign")

#: The keyword a gated function declares to be handed its receipt.
RECEIPT_PARAMETER = "countersign_receipt"

_ACTION_RE = re.compile(r"^[A-Za-z0-9_.:/-]{1,128}$")
_TITLE_LIMIT = 512
_REPR_LIMIT = 1000
_DEPTH_LIMIT = 32
_CANCEL_TIMEOUT = 5.0
_REPORT_TIMEOUT = 5.0

F = TypeVar("F", bound=Callable[..., Any])
RoleSource = Union[str, Iterable[str], Callable[[], Roles], None]


@dataclass(frozen=True)
class Approval:
    """What allowed a gated call to run; :func:`current_approval` while it runs.

    Attributes:
        action: the action name.
        arguments: the arguments as sent in the request (JSON-safe).
        request: the approved request (the v1 request object); ``None`` when bypassed.
        receipt: the signed receipt (compact JWS); ``None`` when bypassed.
        bypassed: True when the caller's role was in ``bypass_roles`` and nobody was asked.
    """

    action: str
    arguments: Dict[str, Any]
    request: Optional[Dict[str, Any]] = None
    receipt: Optional[str] = None
    bypassed: bool = False

    @property
    def request_id(self) -> Optional[str]:
        return (self.request or {}).get("id")


_current: contextvars.ContextVar[Optional[Approval]] = contextvars.ContextVar(
    "countersign_approval", default=None)


def current_approval() -> Optional[Approval]:
    """The :class:`Approval` of the gated call running in this context, else ``None``.

    Context-local: each thread and each asyncio task sees its own.
    """
    return _current.get()


def current_receipt() -> Optional[str]:
    """The receipt of the gated call running in this context, else ``None``."""
    approval = _current.get()
    return approval.receipt if approval else None


_default_client: Optional[Client] = None
_default_lock = threading.Lock()


def set_default_client(client: Optional[Client]) -> None:
    """The client gated functions use when their decorator names none."""
    global _default_client
    with _default_lock:
        _default_client = client


def get_default_client() -> Client:
    """The default client; made on first use from ``COUNTERSIGN_URL`` / ``COUNTERSIGN_TOKEN``."""
    global _default_client
    with _default_lock:
        if _default_client is None:
            _default_client = Client()
        return _default_client


def json_safe(value: Any) -> Any:
    """``value`` as JSON the server accepts: JSON types as they are (tuples and sets as
    lists, non-string keys as strings), anything else as its ``repr`` (at most 1000
    characters). NaN and infinities become their repr, since JSON has no form for them."""
    return _json_safe(value, 0, set())


def _json_safe(value: Any, depth: int, active: set) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else repr(value)
    if depth >= _DEPTH_LIMIT or id(value) in active:
        return _short_repr(value)
    if isinstance(value, Mapping):
        active.add(id(value))
        try:
            return {k if isinstance(k, str) else str(k): _json_safe(v, depth + 1, active)
                    for k, v in value.items()}
        finally:
            active.discard(id(value))
    if isinstance(value, (list, tuple, set, frozenset)):
        active.add(id(value))
        try:
            items = [_json_safe(v, depth + 1, active) for v in value]
        finally:
            active.discard(id(value))
        if isinstance(value, (set, frozenset)):
            items.sort(key=repr)
        return items
    return _short_repr(value)


def _short_repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ must not stop the approval
        text = f"<{type(value).__name__} object>"
    return text if len(text) <= _REPR_LIMIT else text[:_REPR_LIMIT] + "..."


def _truncate_utf8(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit - 3].decode("utf-8", "ignore") + "..."


class _Gate:
    """One decorated function's settings and the steps of one gated call."""

    def __init__(self, fn: Callable[..., Any], action: str, title: Optional[str],
                 reason_template: str, bypass_roles: Optional[Iterable[str]],
                 role: RoleSource, client: Optional[Client], options: Dict[str, Any],
                 wait_timeout: Optional[float], raise_on_deny: bool,
                 report: bool = True) -> None:
        self.fn = fn
        self.report = report
        self.action = action
        self.title = title
        self.reason_template = reason_template
        self.bypass_roles = None if bypass_roles is None else tuple(bypass_roles)
        self.role = role
        self.client = client
        self.options = options
        self.wait_timeout = wait_timeout
        self.raise_on_deny = raise_on_deny
        self.signature = inspect.signature(fn)
        parameter = self.signature.parameters.get(RECEIPT_PARAMETER)
        self.passes_receipt = parameter is not None and parameter.kind in (
            inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        first = next(iter(self.signature.parameters), None)
        self.skip_first = first if first in ("self", "cls") else None

    # -- before asking ---------------------------------------------------------------------
    def get_client(self) -> Client:
        return self.client or get_default_client()

    def bypassed(self, client: Client) -> bool:
        """The seed's rule: bypass when any of the caller's roles is in the active list (the
        decorator's ``bypass_roles`` when given, else the client's). A role source that
        fails means no bypass: the call goes to the gate."""
        active = self.bypass_roles if self.bypass_roles is not None else client.bypass_roles
        if not active:
            return False
        try:
            source = self.role if self.role is not None else client.roles
            roles = _roles_tuple(source() if callable(source) else source)
        except Exception as exc:
            logger.warning("@requires_approval: could not read the caller's roles for %r "
                           "(%s); asking for approval", self.action, exc)
            return False
        matched = [r for r in roles if r in active]
        if matched:
            logger.info("@requires_approval: %r bypassed approval (role %s)", self.action,
                        ", ".join(matched))
        return bool(matched)

    def describe(self, args: Tuple[Any, ...],
                 kwargs: Dict[str, Any]) -> Tuple[Dict[str, Any], str, str]:
        """(arguments, title, reason) of a call. Raises TypeError for a call that does not
        fit the function's signature, before anyone is asked."""
        call_kwargs = dict(kwargs)
        if self.passes_receipt:
            call_kwargs.setdefault(RECEIPT_PARAMETER, None)
        bound = self.signature.bind(*args, **call_kwargs)
        bound.apply_defaults()
        arguments: Dict[str, Any] = {}
        names: Dict[str, Any] = {}
        for name, value in bound.arguments.items():
            if name == RECEIPT_PARAMETER or name == self.skip_first:
                continue
            kind = self.signature.parameters[name].kind
            if kind is inspect.Parameter.VAR_KEYWORD:
                names.update(value)
            else:
                names[name] = value
            arguments[name] = json_safe(value)
        reason = self._format(self.reason_template, args, names) if self.reason_template else ""
        if not reason:
            parts = [f"{k}={str(v)[:60]}" for k, v in list(names.items())[:3]]
            reason = f"Args: {', '.join(parts)}" if parts else "Automated action"
        if self.title:
            title = self._format(self.title, args, names)
        elif self.reason_template:
            title = reason
        else:
            title = f"Run {self.action}"
        return arguments, _truncate_utf8(title, _TITLE_LIMIT), reason

    @staticmethod
    def _format(template: str, args: Tuple[Any, ...], names: Dict[str, Any]) -> str:
        try:
            return template.format(*args, **names)
        except (KeyError, IndexError, AttributeError, ValueError, TypeError):
            return template  # the seed's fallback: the template as written

    def create_fields(self, arguments: Dict[str, Any], title: str,
                      reason: str) -> Dict[str, Any]:
        details = {"reason": reason,
                   "function": f"{getattr(self.fn, '__module__', '?')}."
                               f"{getattr(self.fn, '__qualname__', self.action)}"}
        details.update(self.options.get("details") or {})
        fields = {k: v for k, v in self.options.items() if k != "details" and v is not None}
        return {"action": self.action, "title": title, "details": details,
                "arguments": arguments, "idempotency_key": f"py-{uuid.uuid4().hex}", **fields}

    # -- after the decision ----------------------------------------------------------------
    def failure(self, message: str, request: Optional[Dict[str, Any]] = None) -> Any:
        result: Dict[str, Any] = {"success": False, "error": message}
        if request:
            result["approval_id"] = request.get("id")
            result["status"] = request.get("status")
            result["reason_code"] = request.get("reason_code")
        return result

    def outcome(self, request: Dict[str, Any], gave_up: Optional[float],
                arguments: Dict[str, Any]) -> Approval:
        """The Approval to run with; raises ApprovalError when it was not approved."""
        status = request.get("status")
        prefix = f"Action '{self.action}' not approved ({request.get('id')}): "
        if status == "approved":
            receipt = request.get("receipt")
            if receipt and _receipt_hash(receipt) != request.get("arguments_sha256"):
                # The approvers edited the arguments: the receipt approves another call.
                raise ApprovalDenied(prefix + "approved with edited arguments; the call runs "
                                     "only with the arguments it was asked with", request)
            return Approval(self.action, arguments, request, receipt)
        who = ", ".join(request.get("resolved_by") or []) or "nobody"
        code = request.get("reason_code")
        because = f" ({code})" if code else ""
        # The class follows the reason code: a program tells a policy's denial, a person's,
        # a timeout and an exhausted escalation apart without reading the message.
        family = approval_error_class(request)
        if status == "denied":
            comments = [d.get("comment") for d in request.get("decisions") or []
                        if d.get("outcome") == "denied" and d.get("comment")]
            by = "by the deadline" if not request.get("resolved_by") else f"by {who}"
            raise family(prefix + f"denied {by}" + (f": {comments[-1]}" if comments else "") +
                         because, request)
        if gave_up is not None:
            raise ApprovalTimedOut(prefix + f"no decision within {gave_up:g} s; the request "
                                   f"is {status}", request)
        if status == "expired":
            raise family(prefix + f"expired at {request.get('deadline_at')} "
                         "without a decision" + because, request)
        if status == "cancelled":
            raise family(prefix + f"cancelled by {who}" + because, request)
        raise family(prefix + f"the request is {status}" + because, request)

    def call_kwargs(self, kwargs: Dict[str, Any], approval: Approval) -> Dict[str, Any]:
        if not self.passes_receipt:
            return kwargs
        return {**kwargs, RECEIPT_PARAMETER: approval.receipt}


def _single_use(approval: Approval) -> bool:
    """Whether the approval's receipt must be consumed (POST /v1/receipts/consume) before
    the call runs: the policy made it single-use, so a replayed approval never runs twice."""
    return bool(approval.receipt) and (approval.request or {}).get("receipt_use") == "single_use"


def _receipt_hash(receipt: str) -> Optional[str]:
    try:
        return decode_receipt(receipt).get("arguments_sha256")
    except ReceiptInvalid:
        return None


def _stop_reason(gave_up: Optional[float]) -> str:
    return f"the caller stopped waiting after {gave_up:g} s" if gave_up is not None else \
        "the caller was interrupted"


def requires_approval(action: Union[str, Callable[..., Any], None] = None, *,
                      reason_template: str = "", title: Optional[str] = None,
                      bypass_roles: Optional[Iterable[str]] = None, role: RoleSource = None,
                      client: Optional[Client] = None, approvers: Optional[Iterable[str]] = None,
                      quorum: Optional[int] = None, timeout: Optional[int] = None,
                      on_timeout: Optional[str] = None, wait_timeout: Optional[float] = None,
                      details: Optional[Dict[str, Any]] = None, session: Optional[str] = None,
                      kind: Optional[str] = None, risk: Optional[str] = None,
                      raise_on_deny: bool = True, report_outcome: bool = True) -> Any:
    """Gates a function (sync or async) behind a human approval.

    Usable bare (``@requires_approval``) or with arguments::

        @requires_approval(action="db.drop_table", reason_template="Drop table {table}",
                           bypass_roles=["admin"])
        def drop_table(table: str, countersign_receipt: str = None) -> dict: ...

    Args:
        action: the action name, ``[A-Za-z0-9_.:/-]{1,128}``; default: the function's
            ``name`` attribute (LangChain tools) or ``__name__``.
        reason_template: a ``str.format`` template filled with the call's arguments, by name
            (positional ones included) and by position (``{0}``); shown to approvers as the
            title and in ``details.reason``. A template that does not fit the call is used as
            written.
        title: a template for the title instead of the reason (same formatting).
        bypass_roles: roles that run the function without asking. When the caller's role
            (``role``, else the client's ``role``) is one of them, nobody is asked, no
            request is made, and the function gets no receipt (``None``). ``None`` (the
            default) uses the client's ``bypass_roles``; ``[]`` means never bypass.
        role: the caller's role(s): a string, a list, or a callable returning either
            (called on each call). A callable that raises means no bypass.
        client: the :class:`Client`; default: :func:`get_default_client`.
        approvers, quorum, timeout, on_timeout, session, kind, risk, details: request
            members (``timeout`` is ``timeout_seconds``, the server-side deadline).
        wait_timeout: give up waiting after this many seconds: the request is cancelled and
            :class:`ApprovalTimedOut` raised. Default: wait for the server's deadline.
        raise_on_deny: False returns ``{"success": False, "error": ..., "approval_id": ...,
            "status": ...}`` instead of raising when the call is not approved, and
            ``{"success": False, "error": "Approval gate error: ..."}`` when the server
            cannot be asked.
        report_outcome: after an approved call, report what became of it to the server
            (:meth:`Client.report_outcome`): ``succeeded`` when the function returned,
            ``failed`` with the exception's type name as ``detail`` when it raised (the
            exception is then re-raised). A report that fails is logged, never raised.
            ``False`` reports nothing. A bypassed call has no request and reports nothing.

    A call whose arguments do not fit the function's signature raises ``TypeError`` before
    anyone is asked. A request approved with edited arguments raises ``ApprovalDenied``: its
    receipt approves another call, and the function only runs as asked. Interrupting the wait (``KeyboardInterrupt``, or cancelling the asyncio
    task) cancels the request.
    """
    if callable(action):
        return requires_approval()(action)

    def decorator(fn: F) -> F:
        name = action or getattr(fn, "name", None) or getattr(fn, "__name__", None)
        if not isinstance(name, str) or not _ACTION_RE.match(name):
            raise ValueError(f"@requires_approval: action {name!r} is not a valid action name "
                             "([A-Za-z0-9_.:/-]{1,128}); put a description in title= or "
                             "reason_template=")
        options = {"approvers": list(approvers) if approvers is not None else None,
                   "quorum": quorum, "timeout_seconds": timeout, "on_timeout": on_timeout,
                   "details": details, "session": session, "kind": kind, "risk": risk}
        gate = _Gate(fn, name, title, reason_template, bypass_roles, role, client, options,
                     wait_timeout, raise_on_deny, report_outcome)
        if inspect.iscoroutinefunction(fn):
            return functools.wraps(fn)(_async_wrapper(gate))  # type: ignore[return-value]
        return functools.wraps(fn)(_sync_wrapper(gate))  # type: ignore[return-value]

    return decorator


def _sync_wrapper(gate: _Gate) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        client = gate.get_client()
        arguments, title, reason = gate.describe(args, kwargs)
        if gate.bypassed(client):
            return _run(gate, args, kwargs, Approval(gate.action, arguments, bypassed=True))
        try:
            request = client.create(**gate.create_fields(arguments, title, reason))
        except CountersignError as exc:
            if gate.raise_on_deny:
                raise
            return gate.failure(f"Approval gate error: {exc}")
        gave_up = None
        try:
            if request.get("status") == "pending":
                request = client.wait(request, timeout=gate.wait_timeout)
            if request.get("status") == "pending":
                gave_up = gate.wait_timeout
                request = _cancel(client, request, _stop_reason(gave_up))
        except KeyboardInterrupt:
            _cancel(client, request, _stop_reason(None))
            raise
        except CountersignError as exc:
            if gate.raise_on_deny:
                raise
            return gate.failure(f"Approval gate error: {exc}", request)
        try:
            approval = gate.outcome(request, gave_up, arguments)
        except ApprovalError as exc:
            logger.info("@requires_approval: %s", exc)
            if gate.raise_on_deny:
                raise
            return gate.failure(str(exc), exc.request)
        if _single_use(approval):
            try:
                client.consume_receipt(approval.receipt or "", timeout=_REPORT_TIMEOUT)
            except CountersignError as exc:
                logger.info("@requires_approval: not running: %s", exc)
                if gate.raise_on_deny:
                    raise
                return gate.failure(f"Receipt not usable: {exc}", approval.request)
        return _run(gate, args, kwargs, approval, client)

    return wrapper


def _async_wrapper(gate: _Gate) -> Callable[..., Any]:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        client = gate.get_client()
        arguments, title, reason = gate.describe(args, kwargs)
        if gate.bypassed(client):
            return await _run_async(gate, args, kwargs,
                                    Approval(gate.action, arguments, bypassed=True))
        creating = asyncio.ensure_future(
            client.create_async(**gate.create_fields(arguments, title, reason)))
        try:
            request = await asyncio.shield(creating)
        except asyncio.CancelledError:
            await _cancel_when_created(client, creating)
            raise
        except CountersignError as exc:
            if gate.raise_on_deny:
                raise
            return gate.failure(f"Approval gate error: {exc}")
        gave_up = None
        try:
            if request.get("status") == "pending":
                request = await client.wait_async(request, timeout=gate.wait_timeout)
            if request.get("status") == "pending":
                gave_up = gate.wait_timeout
                request = await _cancel_async(client, request, _stop_reason(gave_up))
        except asyncio.CancelledError:
            await _cancel_async(client, request, _stop_reason(None))
            raise
        except CountersignError as exc:
            if gate.raise_on_deny:
                raise
            return gate.failure(f"Approval gate error: {exc}", request)
        try:
            approval = gate.outcome(request, gave_up, arguments)
        except ApprovalError as exc:
            logger.info("@requires_approval: %s", exc)
            if gate.raise_on_deny:
                raise
            return gate.failure(str(exc), exc.request)
        if _single_use(approval):
            try:
                await client.consume_receipt_async(approval.receipt or "",
                                                   timeout=_REPORT_TIMEOUT)
            except CountersignError as exc:
                logger.info("@requires_approval: not running: %s", exc)
                if gate.raise_on_deny:
                    raise
                return gate.failure(f"Receipt not usable: {exc}", approval.request)
        return await _run_async(gate, args, kwargs, approval, client)

    return wrapper


def _run(gate: _Gate, args: Tuple[Any, ...], kwargs: Dict[str, Any], approval: Approval,
         client: Optional[Client] = None) -> Any:
    token = _current.set(approval)
    try:
        result = gate.fn(*args, **gate.call_kwargs(kwargs, approval))
    except BaseException as exc:
        _report(gate, client, approval, "failed", type(exc).__name__)
        raise
    finally:
        _current.reset(token)
    _report(gate, client, approval, "succeeded")
    return result


async def _run_async(gate: _Gate, args: Tuple[Any, ...], kwargs: Dict[str, Any],
                     approval: Approval, client: Optional[Client] = None) -> Any:
    token = _current.set(approval)
    try:
        result = await gate.fn(*args, **gate.call_kwargs(kwargs, approval))
    except BaseException as exc:
        await _report_async(gate, client, approval, "failed", type(exc).__name__)
        raise
    finally:
        _current.reset(token)
    await _report_async(gate, client, approval, "succeeded")
    return result


def _report(gate: _Gate, client: Optional[Client], approval: Approval, status: str,
            detail: Optional[str] = None) -> None:
    """Reports what became of an approved call (POST /v1/requests/{id}/outcome). A report
    that fails is logged, never raised: the function has run, and its result (or exception)
    is what the caller gets."""
    if client is None or not gate.report or approval.request_id is None:
        return
    try:
        client.report_outcome(approval.request_id, status, detail=detail,
                              timeout=_REPORT_TIMEOUT)
    except CountersignError as exc:
        logger.warning("@requires_approval: could not report the outcome of %s: %s",
                       approval.request_id, exc)


async def _report_async(gate: _Gate, client: Optional[Client], approval: Approval,
                        status: str, detail: Optional[str] = None) -> None:
    if client is None or not gate.report or approval.request_id is None:
        return
    try:
        await client.report_outcome_async(approval.request_id, status, detail=detail,
                                          timeout=_REPORT_TIMEOUT)
    except CountersignError as exc:
        logger.warning("@requires_approval: could not report the outcome of %s: %s",
                       approval.request_id, exc)


async def _cancel_when_created(client: Client, creating: "asyncio.Future[Any]") -> None:
    """The caller was cancelled while the request was being created: let the creation finish
    (briefly) and cancel what it made, so nobody is asked about a call that will not run."""
    try:
        request = await asyncio.wait_for(creating, _CANCEL_TIMEOUT)
    except (CountersignError, asyncio.TimeoutError, asyncio.CancelledError):
        return
    if request.get("status") == "pending":
        await _cancel_async(client, request, _stop_reason(None))


def _cancel(client: Client, request: Dict[str, Any], reason: str) -> Dict[str, Any]:
    """Cancels a request the caller no longer waits for; returns its state afterwards (which
    may be approved, if a decision won the race: then the call goes ahead)."""
    try:
        return client.cancel(request["id"], reason, timeout=_CANCEL_TIMEOUT)
    except ApiError as exc:
        if exc.request is not None:
            return exc.request
        logger.warning("@requires_approval: could not cancel %s: %s", request.get("id"), exc)
    except CountersignError as exc:
        logger.warning("@requires_approval: could not cancel %s: %s", request.get("id"), exc)
    return request


async def _cancel_async(client: Client, request: Dict[str, Any],
                        reason: str) -> Dict[str, Any]:
    try:
        return await client.cancel_async(request["id"], reason, timeout=_CANCEL_TIMEOUT)
    except ApiError as exc:
        if exc.request is not None:
            return exc.request
        logger.warning("@requires_approval: could not cancel %s: %s", request.get("id"), exc)
    except CountersignError as exc:
        logger.warning("@requires_approval: could not cancel %s: %s", request.get("id"), exc)
    return request
