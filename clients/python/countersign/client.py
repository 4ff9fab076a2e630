"""``Client``: the countersign v1 API (create, get, list, wait, decide, cancel, keys).

Every method has a blocking form and an ``*_async`` form for asyncio code; both speak
plain HTTP/1.1 from the standard library, so the asyncio forms hold no thread while they
wait. A ``Client`` keeps no connection open and no mutable state after construction: one
instance may be shared by threads and event loops.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import random
import re
import ssl
import time
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union
from urllib.parse import quote, urlencode

from ._http import Endpoint, HttpResponse
from .errors import (ApiError, CountersignError, NoTokenError, ReceiptAlreadyConsumed,
                     TransportError)

__all__ = ["Client", "DEFAULT_URL", "MAX_POLL_SECONDS", "RetryCallback"]

DEFAULT_URL = "http://127.0.0.1:7400"
#: The server answers a long-poll after at most this many seconds.
MAX_POLL_SECONDS = 60
#: Allowance on top of a long-poll for its answer to arrive.
_POLL_SLACK_SECONDS = 15.0
#: Attempts at creating a request with an idempotency key before a transient error is raised.
_CREATE_ATTEMPTS = 5

_TOKEN_RE = re.compile(r"^[\x21-\x7e]+$")

#: Called before each retry of a transient failure: ``(attempt, error, delay_seconds)``,
#: ``attempt`` counting the failures in a row (1, 2, ...).
RetryCallback = Callable[[int, CountersignError, float], None]

#: Where :meth:`Client.wait` reports what it waits for and each decision it sees (INFO).
logger = logging.getLogger("countersign")

#: The one endpoint that needs no token: the receipt keys are public.
_PUBLIC_TARGETS = ("/v1/keys",)

Roles = Union[str, Iterable[str], None]


def _env(name: str) -> Optional[str]:
    value = os.environ.get(name)
    return value if value else None


def _read_token_file(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        token = f.read().strip()
    if not token:
        raise ValueError(f"token file {path} is empty")
    return token


def _roles_tuple(roles: Roles) -> Tuple[str, ...]:
    if roles is None:
        return ()
    if isinstance(roles, str):
        return (roles,)
    return tuple(roles)


class Client:
    """A connection to one countersign server.

    Args:
        url: the server, ``http(s)://host[:port][/prefix]``. Default: ``COUNTERSIGN_URL``,
            else ``http://127.0.0.1:7400``.
        token: the API token. Default: ``COUNTERSIGN_TOKEN``, else the contents of the file
            ``COUNTERSIGN_TOKEN_FILE`` names. Without one, every call but :meth:`keys`
            raises :class:`NoTokenError` before sending anything, unless ``auth_off``.
        role: the caller's role or roles, for the ``bypass_roles`` of
            :func:`countersign.requires_approval` (a client-side notion, like the Molecule
            workspace roles; the server's token roles are separate).
        bypass_roles: roles that skip approval for every gated function using this client
            whose decorator does not name its own ``bypass_roles``.
        request_timeout: seconds to wait for an ordinary (non-long-poll) answer.
        poll_timeout: seconds each long-poll of :meth:`wait` asks the server to hold it
            (at most 60, the server's cap).
        backoff_initial, backoff_max: the retry delay after the first transient failure, and
            its cap; it doubles per failure in a row, with jitter.
        ssl_context: for ``https`` URLs; default: the system's trust store.
        on_retry: called before each retry of a transient failure (see ``RetryCallback``).
        auth_off: the server runs with ``--auth off``: call it without a token.
    """

    def __init__(self, url: Optional[str] = None, token: Optional[str] = None, *,
                 role: Roles = None, bypass_roles: Iterable[str] = (),
                 request_timeout: float = 30.0, poll_timeout: int = MAX_POLL_SECONDS,
                 backoff_initial: float = 0.5, backoff_max: float = 15.0,
                 ssl_context: Optional[ssl.SSLContext] = None,
                 on_retry: Optional[RetryCallback] = None, auth_off: bool = False) -> None:
        self.url = url or _env("COUNTERSIGN_URL") or DEFAULT_URL
        if token is None:
            token = _env("COUNTERSIGN_TOKEN")
            if token is None and _env("COUNTERSIGN_TOKEN_FILE"):
                token = _read_token_file(os.environ["COUNTERSIGN_TOKEN_FILE"])
        if token is not None:
            token = token.strip()
            if not _TOKEN_RE.match(token):
                raise ValueError("the token must be printable ASCII without spaces")
        self._token = token
        self.auth_off = bool(auth_off)
        self._endpoint = Endpoint(self.url, ssl_context)
        self.roles: Tuple[str, ...] = _roles_tuple(role)
        self.bypass_roles: Tuple[str, ...] = tuple(bypass_roles)
        self.request_timeout = float(request_timeout)
        if not 1 <= poll_timeout <= MAX_POLL_SECONDS:
            raise ValueError(f"poll_timeout must be 1 to {MAX_POLL_SECONDS} seconds")
        self.poll_timeout = int(poll_timeout)
        self.backoff_initial = float(backoff_initial)
        self.backoff_max = float(backoff_max)
        self.on_retry = on_retry

    def __repr__(self) -> str:
        return f"Client({self.url!r})"

    # -- requests --------------------------------------------------------------------------
    def create(self, action: str, title: str, *, details: Optional[Dict[str, Any]] = None,
               arguments: Optional[Dict[str, Any]] = None, kind: Optional[str] = None,
               choices: Optional[List[Dict[str, Any]]] = None,
               approvers: Optional[Sequence[str]] = None, quorum: Optional[int] = None,
               timeout_seconds: Optional[int] = None, on_timeout: Optional[str] = None,
               notify: Optional[Sequence[str]] = None, callback_url: Optional[str] = None,
               session: Optional[str] = None, idempotency_key: Optional[str] = None,
               requester: Optional[str] = None, risk: Optional[str] = None,
               response_schema: Optional[Dict[str, Any]] = None,
               **extra: Any) -> Dict[str, Any]:
        """Creates a request (``POST /v1/requests``) and returns it (the v1 request object).

        The members are those of the API (see docs/api.md); ``response_schema`` is the form a
        decision fills (docs/api.md, "Structured answers"). ``None`` leaves one out and
        ``extra`` passes any other member through. With an ``idempotency_key`` a transient
        failure (unreachable server, 502/503/504) is retried a few times: the key makes the
        retry return the request the first attempt created instead of a second one.
        """
        body = self._create_body(locals())
        return self._with_create_retries(
            lambda: self._call("POST", "/v1/requests", body), idempotency_key is not None)

    async def create_async(self, action: str, title: str, *,
                           details: Optional[Dict[str, Any]] = None,
                           arguments: Optional[Dict[str, Any]] = None,
                           kind: Optional[str] = None,
                           choices: Optional[List[Dict[str, Any]]] = None,
                           approvers: Optional[Sequence[str]] = None,
                           quorum: Optional[int] = None, timeout_seconds: Optional[int] = None,
                           on_timeout: Optional[str] = None,
                           notify: Optional[Sequence[str]] = None,
                           callback_url: Optional[str] = None, session: Optional[str] = None,
                           idempotency_key: Optional[str] = None,
                           requester: Optional[str] = None, risk: Optional[str] = None,
                           response_schema: Optional[Dict[str, Any]] = None,
                           **extra: Any) -> Dict[str, Any]:
        """:meth:`create` for asyncio code."""
        body = self._create_body(locals())
        attempt = 0
        while True:
            try:
                return await self._call_async("POST", "/v1/requests", body)
            except CountersignError as exc:
                attempt += 1
                if idempotency_key is None or not _transient(exc) or attempt >= _CREATE_ATTEMPTS:
                    raise
                await asyncio.sleep(self._retry_delay(attempt, exc))

    def get(self, request_id: str) -> Dict[str, Any]:
        """The request with its decisions (``GET /v1/requests/{id}``)."""
        return self._call("GET", _request_path(request_id))

    async def get_async(self, request_id: str) -> Dict[str, Any]:
        """:meth:`get` for asyncio code."""
        return await self._call_async("GET", _request_path(request_id))

    def list_requests(self, *, status: Optional[str] = None, action: Optional[str] = None,
                      requester: Optional[str] = None, session: Optional[str] = None,
                      limit: Optional[int] = None, cursor: Optional[str] = None,
                      decidable: Optional[bool] = None) -> Dict[str, Any]:
        """One page of requests, newest first: ``{"requests": [...], "next_cursor": ...}``.

        ``decidable=True`` keeps the pending requests the caller may decide now (the web
        inbox's list); such a page may hold fewer than ``limit`` requests while
        ``next_cursor`` is set (docs/api.md)."""
        return self._call("GET", _list_target(status, action, requester, session, limit,
                                              cursor, decidable))

    async def list_requests_async(self, **filters: Any) -> Dict[str, Any]:
        """:meth:`list_requests` for asyncio code."""
        return await self._call_async("GET", _list_target(**filters))

    def decide(self, request_id: str, choice: Optional[str] = None, *,
               comment: Optional[str] = None, answer: Optional[str] = None,
               arguments: Optional[Dict[str, Any]] = None,
               by: Optional[str] = None,
               response: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """Records a decision (``POST /v1/requests/{id}/decisions``); returns the request.

        ``choice`` is a choice id (``"approve"``, ``"deny"``, ...); for a question it may be
        left out and ``answer`` given. ``response`` fills the request's form (its
        ``response_schema``); a response that does not fit raises :class:`ApiError` (422)
        whose ``field`` names the field at fault. Needs an approver or admin token.
        """
        return self._call("POST", _request_path(request_id, "/decisions"),
                          _decision_body(choice, comment, answer, arguments, by, response))

    async def decide_async(self, request_id: str, choice: Optional[str] = None, *,
                           comment: Optional[str] = None, answer: Optional[str] = None,
                           arguments: Optional[Dict[str, Any]] = None,
                           by: Optional[str] = None,
                           response: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """:meth:`decide` for asyncio code."""
        return await self._call_async("POST", _request_path(request_id, "/decisions"),
                                      _decision_body(choice, comment, answer, arguments, by,
                                                     response))

    def approve(self, request_id: str, comment: Optional[str] = None) -> Dict[str, Any]:
        """``decide(request_id, "approve", comment=comment)``."""
        return self.decide(request_id, "approve", comment=comment)

    def deny(self, request_id: str, comment: Optional[str] = None) -> Dict[str, Any]:
        """``decide(request_id, "deny", comment=comment)``."""
        return self.decide(request_id, "deny", comment=comment)

    def cancel(self, request_id: str, reason: Optional[str] = None, *,
               by: Optional[str] = None, timeout: Optional[float] = None) -> Dict[str, Any]:
        """Cancels a pending request (``POST /v1/requests/{id}/cancel``); returns it.

        Only its requester or an admin may. A request that is no longer pending raises
        :class:`ApiError` with status 409 and the current request in ``error.request``.
        ``timeout`` overrides the client's ``request_timeout`` for this call.
        """
        return self._call("POST", _request_path(request_id, "/cancel"),
                          _cancel_body(reason, by), timeout=timeout)

    async def cancel_async(self, request_id: str, reason: Optional[str] = None, *,
                           by: Optional[str] = None,
                           timeout: Optional[float] = None) -> Dict[str, Any]:
        """:meth:`cancel` for asyncio code."""
        return await self._call_async("POST", _request_path(request_id, "/cancel"),
                                      _cancel_body(reason, by), timeout=timeout)

    def report_outcome(self, request_id: str, status: str, exit_code: Optional[int] = None,
                       detail: Optional[str] = None, *, by: Optional[str] = None,
                       timeout: Optional[float] = None) -> Dict[str, Any]:
        """Reports what ran after approved request ``request_id`` was acted on
        (``POST /v1/requests/{id}/outcome``); returns the request, whose ``execution`` now
        holds the report.

        ``status`` is ``"succeeded"`` or ``"failed"``; ``exit_code`` (0 or none on success)
        and ``detail`` (at most 4 KiB) are optional. Only the request's requester may report,
        once, and only on an approved request: another principal gets :class:`ApiError` 403
        (or 404), a second report or a request that is not approved 409 with the current
        request in ``error.request``; a bad field 422 (400 for a wrong type).
        """
        return self._call("POST", _request_path(request_id, "/outcome"),
                          _outcome_body(status, exit_code, detail, by), timeout=timeout)

    async def report_outcome_async(self, request_id: str, status: str,
                                   exit_code: Optional[int] = None,
                                   detail: Optional[str] = None, *, by: Optional[str] = None,
                                   timeout: Optional[float] = None) -> Dict[str, Any]:
        """:meth:`report_outcome` for asyncio code."""
        return await self._call_async("POST", _request_path(request_id, "/outcome"),
                                      _outcome_body(status, exit_code, detail, by),
                                      timeout=timeout)

    def keys(self) -> Dict[str, Any]:
        """The receipt signing keys, a JWKS (``GET /v1/keys``)."""
        return self._call("GET", "/v1/keys")

    async def keys_async(self) -> Dict[str, Any]:
        """:meth:`keys` for asyncio code."""
        return await self._call_async("GET", "/v1/keys")

    def consume_receipt(self, receipt: str, *,
                        timeout: Optional[float] = None) -> Dict[str, Any]:
        """Consumes one use of ``receipt`` (``POST /v1/receipts/consume``), as the executor
        does before it acts when the request's ``receipt_use`` is ``"single_use"``.

        Returns ``{"consumed": True, "jti", "request_id", "uses", "max_uses",
        "consumed_at", "consumed_by"}``. Raises :class:`ReceiptAlreadyConsumed` (409) when
        its uses are spent, naming who consumed it first, and :class:`ApiError` 422 (code
        ``invalid_receipt``) for a receipt that is forged, of another tenant, expired (its
        ``exp`` or the approver's ``not_after``) or without a ``jti``. Needs an agent's or
        admin's token of the receipt's tenant.
        """
        return self._call("POST", "/v1/receipts/consume", {"receipt": receipt},
                          timeout=timeout)

    async def consume_receipt_async(self, receipt: str, *,
                                    timeout: Optional[float] = None) -> Dict[str, Any]:
        """:meth:`consume_receipt` for asyncio code."""
        return await self._call_async("POST", "/v1/receipts/consume", {"receipt": receipt},
                                      timeout=timeout)

    def verify_receipt(self, receipt: str, **expect: Any) -> Dict[str, Any]:
        """:func:`countersign.verify_receipt` against this server's current keys."""
        from .receipts import verify_receipt

        return verify_receipt(receipt, self.keys(), **expect)

    # -- waiting ---------------------------------------------------------------------------
    def wait(self, request_id: Union[str, Dict[str, Any]], timeout: Optional[float] = None, *,
             poll_timeout: Optional[int] = None) -> Dict[str, Any]:
        """Waits until the request is no longer pending and returns it.

        ``request_id`` is the request's id, or the request itself as :meth:`create` returned
        it. The ``countersign`` logger hears, at INFO, what the wait is for (the id, who may
        decide, the deadline and the request's page in the web inbox: at once when given the
        request, else with the first answer) and each decision as the wait sees it
        ("alice approved, 1 of 2"), every decision once and in order.

        Long-polls ``GET /v1/requests/{id}/wait`` again and again: each poll asks the server
        to hold it ``poll_timeout`` seconds (default: the client's, at most the server's cap
        of 60 s). Transient failures (the server unreachable or restarting, a connection
        reset, 429/502/503/504) are retried with capped exponential backoff, so a wait
        survives a server restart or a proxy hiccup. Other errors (401, 403, 404) raise
        :class:`ApiError` at once.

        Args:
            timeout: give up after this many seconds overall and return the request as last
                seen (still ``pending``). ``None`` waits until the request is resolved (the
                server's deadline always resolves it eventually). If the server cannot be
                reached when the time runs out, the last error is raised instead.
        """
        waiter = _Waiter(self, request_id, timeout, poll_timeout)
        while True:
            seconds = waiter.next_poll()
            started = time.monotonic()
            try:
                request = self._call("GET", waiter.target(seconds),
                                     timeout=seconds + _POLL_SLACK_SECONDS)
            except CountersignError as exc:
                delay = waiter.failed(exc)
                if delay is None:
                    return waiter.last or {}
                time.sleep(delay)
                continue
            delay = waiter.answered(request, time.monotonic() - started, seconds)
            if delay is None:
                return request
            time.sleep(delay)

    async def wait_async(self, request_id: Union[str, Dict[str, Any]],
                         timeout: Optional[float] = None, *,
                         poll_timeout: Optional[int] = None) -> Dict[str, Any]:
        """:meth:`wait` for asyncio code. Cancelling the task stops waiting at once."""
        waiter = _Waiter(self, request_id, timeout, poll_timeout)
        while True:
            seconds = waiter.next_poll()
            started = time.monotonic()
            try:
                request = await self._call_async("GET", waiter.target(seconds),
                                                 timeout=seconds + _POLL_SLACK_SECONDS)
            except CountersignError as exc:
                delay = waiter.failed(exc)
                if delay is None:
                    return waiter.last or {}
                await asyncio.sleep(delay)
                continue
            delay = waiter.answered(request, time.monotonic() - started, seconds)
            if delay is None:
                return request
            await asyncio.sleep(delay)

    # -- plumbing --------------------------------------------------------------------------
    def _headers(self, body: Optional[bytes]) -> Dict[str, str]:
        headers = {}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        if body is not None:
            headers["Content-Type"] = "application/json"
        return headers

    def _require_token(self, target: str) -> None:
        if self._token or self.auth_off or target in _PUBLIC_TARGETS:
            return
        raise NoTokenError(
            f"no token configured for countersign at {self.url}: pass Client(token=...), or "
            "set COUNTERSIGN_TOKEN or COUNTERSIGN_TOKEN_FILE (auth_off=True for a server "
            "started with --auth off)")

    def _call(self, method: str, target: str, body: Optional[Dict[str, Any]] = None,
              timeout: Optional[float] = None) -> Dict[str, Any]:
        self._require_token(target)
        data = None if body is None else json.dumps(body).encode()
        response = self._endpoint.call(method, target, data, self._headers(data),
                                       timeout or self.request_timeout)
        return _decode(response, method, target, self.url)

    async def _call_async(self, method: str, target: str,
                          body: Optional[Dict[str, Any]] = None,
                          timeout: Optional[float] = None) -> Dict[str, Any]:
        self._require_token(target)
        data = None if body is None else json.dumps(body).encode()
        response = await self._endpoint.call_async(method, target, data, self._headers(data),
                                                   timeout or self.request_timeout)
        return _decode(response, method, target, self.url)

    def _retry_delay(self, attempt: int, error: CountersignError) -> float:
        delay = min(self.backoff_max, self.backoff_initial * (2 ** min(attempt - 1, 30)))
        delay *= random.uniform(0.5, 1.0)
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            delay = max(delay, min(float(retry_after), self.backoff_max))
        if self.on_retry is not None:
            self.on_retry(attempt, error, delay)
        return delay

    def _with_create_retries(self, attempt_once: Callable[[], Dict[str, Any]],
                             retry: bool) -> Dict[str, Any]:
        attempt = 0
        while True:
            try:
                return attempt_once()
            except CountersignError as exc:
                attempt += 1
                if not (retry and _transient(exc)) or attempt >= _CREATE_ATTEMPTS:
                    raise
                time.sleep(self._retry_delay(attempt, exc))

    @staticmethod
    def _create_body(fields: Dict[str, Any]) -> Dict[str, Any]:
        body: Dict[str, Any] = {}
        for name in ("action", "title", "details", "arguments", "kind", "choices", "approvers",
                     "quorum", "timeout_seconds", "on_timeout", "notify", "callback_url",
                     "session", "idempotency_key", "requester", "risk", "response_schema"):
            value = fields.get(name)
            if value is not None:
                body[name] = list(value) if name in ("approvers", "notify") else value
        for name, value in (fields.get("extra") or {}).items():
            if value is not None:
                body[name] = value
        return body


class _Waiter:
    """The bookkeeping of one wait: poll lengths, the overall deadline, backoff."""

    def __init__(self, client: Client, request_id: Union[str, Dict[str, Any]],
                 timeout: Optional[float], poll_timeout: Optional[int]) -> None:
        self.client = client
        self.progress = _WaitProgress(client.url)
        if isinstance(request_id, dict):
            self.progress.saw(request_id)
            request_id = request_id.get("id")  # type: ignore[assignment]
        self.path = _request_path(request_id, "/wait")  # type: ignore[arg-type]
        per_poll = client.poll_timeout if poll_timeout is None else poll_timeout
        if not 1 <= per_poll <= MAX_POLL_SECONDS:
            raise ValueError(f"poll_timeout must be 1 to {MAX_POLL_SECONDS} seconds")
        self.per_poll = int(per_poll)
        self.deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
        self.failures = 0
        self.last: Optional[Dict[str, Any]] = None

    def next_poll(self) -> int:
        if self.deadline is None:
            return self.per_poll
        left = self.deadline - time.monotonic()
        return max(0, min(self.per_poll, math.ceil(left)))

    def target(self, seconds: int) -> str:
        return f"{self.path}?timeout={seconds}"

    def _out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def failed(self, error: CountersignError) -> Optional[float]:
        """The delay before the next attempt, or None to stop and return the request as last
        seen (out of time). Raises `error` when it is not worth retrying, or when time ran
        out before the request could be read at all."""
        if not _transient(error):
            raise error
        if self._out_of_time():
            if self.last is not None:
                return None
            raise error
        self.failures += 1
        delay = self.client._retry_delay(self.failures, error)
        if self.deadline is not None:
            delay = min(delay, max(0.0, self.deadline - time.monotonic()))
        return delay

    def answered(self, request: Dict[str, Any], elapsed: float,
                 asked: int) -> Optional[float]:
        """None when waiting is over; else the delay before the next poll."""
        self.last = request
        self.progress.saw(request)
        if request.get("status") != "pending" or self._out_of_time() or asked == 0:
            return None
        early = elapsed < asked / 2
        if not early:
            self.failures = 0
            return 0.0
        # A pending answer long before the poll's time: the server is shutting down (it
        # answers its waiters at once) or a proxy cut the poll short. Back off, do not spin.
        self.failures += 1
        return min(self.client.backoff_max,
                   self.client.backoff_initial * (2 ** min(self.failures - 1, 30)))


class _WaitProgress:
    """What one wait tells the ``countersign`` logger: what it waits for, once, then each
    decision not reported yet."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.started = False
        self.reported = 0

    def saw(self, request: Dict[str, Any]) -> None:
        request_id = str(request.get("id", ""))
        if not self.started:
            self.started = True
            if request.get("status") == "pending":
                logger.info("waiting for a decision on %s (deadline %s); who may decide: %s; "
                            "inbox: %s/ui/requests/%s", request_id, request.get("deadline_at"),
                            _who_may_decide(request), self.url, quote(request_id, safe=""))
        decisions = request.get("decisions") or []
        while self.reported < len(decisions):
            logger.info("%s: %s", request_id, _decision_step(request, self.reported))
            self.reported += 1


def _who_may_decide(request: Dict[str, Any]) -> str:
    """Who may decide `request`, in words: ``"alice, group:sre; 2 approvals needed"``."""
    who = ", ".join(str(a) for a in request.get("approvers") or []) or \
        "any approver or admin of the tenant"
    quorum = request.get("quorum") or 1
    return who + (f"; {quorum} approvals needed" if quorum > 1 else "")


def _decision_step(request: Dict[str, Any], index: int) -> str:
    """Decision `index` of `request` in words: ``"alice approved, 1 of 2"``, ``"bob denied"``
    (the same words as the CLI's ``request --wait``)."""
    decisions = request.get("decisions") or []
    decision = decisions[index]

    def distinct(outcome: str) -> int:
        return len({d.get("by") for d in decisions[:index + 1] if d.get("outcome") == outcome})

    outcome = decision.get("outcome")
    step = f"{decision.get('by')} "
    if outcome == "approved":
        step += f"approved, {distinct(outcome)} of {request.get('quorum') or 1}"
    elif outcome == "denied":
        step += "denied"
        threshold = request.get("deny_threshold") or 1
        if threshold > 1:
            step += f", {distinct(outcome)} of {threshold} denials"
    elif outcome == "escalate":
        step += "escalated"
    elif outcome == "answered":
        step += "answered"
    else:
        step += f"chose {decision.get('choice')}"
    if decision.get("comment"):
        step += ": " + json.dumps(decision["comment"])
    return step


def _transient(error: BaseException) -> bool:
    if isinstance(error, TransportError):
        return True
    return isinstance(error, ApiError) and error.transient


def _request_path(request_id: str, suffix: str = "") -> str:
    if not isinstance(request_id, str) or not request_id:
        raise ValueError("request_id must be a non-empty string")
    return "/v1/requests/" + quote(request_id, safe="") + suffix


def _list_target(status: Optional[str] = None, action: Optional[str] = None,
                 requester: Optional[str] = None, session: Optional[str] = None,
                 limit: Optional[int] = None, cursor: Optional[str] = None,
                 decidable: Optional[bool] = None) -> str:
    query = {k: v for k, v in (("status", status), ("action", action),
                               ("requester", requester), ("session", session),
                               ("limit", limit), ("cursor", cursor),
                               ("decidable", None if decidable is None
                                else "true" if decidable else "false")) if v is not None}
    return "/v1/requests" + ("?" + urlencode(query) if query else "")


def _decision_body(choice: Optional[str], comment: Optional[str], answer: Optional[str],
                   arguments: Optional[Dict[str, Any]], by: Optional[str],
                   response: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    body: Dict[str, Any] = {}
    for name, value in (("choice", choice), ("comment", comment), ("answer", answer),
                        ("arguments", arguments), ("by", by), ("response", response)):
        if value is not None:
            body[name] = value
    return body


def _cancel_body(reason: Optional[str], by: Optional[str]) -> Dict[str, Any]:
    body: Dict[str, Any] = {}
    if reason is not None:
        body["reason"] = reason
    if by is not None:
        body["by"] = by
    return body


def _outcome_body(status: str, exit_code: Optional[int], detail: Optional[str],
                  by: Optional[str]) -> Dict[str, Any]:
    body: Dict[str, Any] = {"status": status}
    for name, value in (("exit_code", exit_code), ("detail", detail), ("by", by)):
        if value is not None:
            body[name] = value
    return body


def _decode(response: HttpResponse, method: str, target: str, url: str) -> Dict[str, Any]:
    try:
        parsed = json.loads(response.body) if response.body else None
    except ValueError:
        parsed = None
    if 200 <= response.status < 300:
        if not isinstance(parsed, dict):
            raise TransportError(f"countersign at {url} answered {method} {target} with "
                                 "something that is not a JSON object")
        return parsed
    code, message, request, field = "", "", None, None
    error: Any = None
    if isinstance(parsed, dict):
        error = parsed.get("error")
        if isinstance(error, dict):
            code = str(error.get("code") or "")
            message = str(error.get("message") or "")
            if isinstance(error.get("field"), str):
                field = error["field"]
        if isinstance(parsed.get("request"), dict):
            request = parsed["request"]
    if not message:
        snippet = response.body[:200].decode("utf-8", "replace").strip()
        message = f"countersign at {url} answered HTTP {response.status}" + (
            f": {snippet}" if snippet else "")
    retry_after = None
    if "retry-after" in response.headers:
        try:
            retry_after = max(0.0, float(response.headers["retry-after"]))
        except ValueError:
            retry_after = None
    if response.status == 409 and code == "already_consumed" and isinstance(error, dict):
        raise ReceiptAlreadyConsumed(response.status, code, message, error)
    raise ApiError(response.status, code, message, request, retry_after, field)
