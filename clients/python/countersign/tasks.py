"""``pause_task`` / ``resume_task``: a task waits for a person's free-text answer.

The equivalents of the Molecule HITL tools, built on ``question`` requests instead of an
in-process registry, so the pause survives restarts and anyone may resume it from any
channel (the CLI ``countersign decide ID --answer ...``, the API, a chat button):

* :func:`pause_task` creates a ``question`` request (action ``pause_task``, its ``session``
  the task id) and waits for the answer;
* :func:`resume_task` answers the pending question of a task id; it needs a token that may
  decide (an approver or admin), and not the one that paused (separation of duties).

Both return the seed's result dicts rather than raising, as LangChain tools do.
"""

from __future__ import annotations

import uuid
from typing import Any, Dict, Optional, Sequence

from .approval import get_default_client
from .client import Client
from .errors import ApiError, CountersignError

__all__ = ["pause_task", "pause_task_async", "resume_task", "resume_task_async",
           "list_paused_tasks", "PAUSE_ACTION"]

#: The action of the question requests pause_task creates.
PAUSE_ACTION = "pause_task"
_TITLE_LIMIT = 512


def _pause_fields(question: str, task_id: str, timeout_seconds: Optional[int],
                  approvers: Optional[Sequence[str]], details: Optional[Dict[str, Any]],
                  action: str) -> Dict[str, Any]:
    title = question.strip() or f"Task {task_id} is paused"
    if len(title.encode("utf-8")) > _TITLE_LIMIT:
        title = title.encode("utf-8")[:_TITLE_LIMIT - 3].decode("utf-8", "ignore") + "..."
    return {"action": action, "title": title, "kind": "question", "session": task_id,
            "details": {"task_id": task_id, "question": question, **(details or {})},
            "timeout_seconds": timeout_seconds,
            "approvers": list(approvers) if approvers is not None else None,
            "idempotency_key": f"pause-{uuid.uuid4().hex}"}


def _pause_result(task_id: str, request: Dict[str, Any], timeout: Optional[float],
                  gave_up: bool) -> Dict[str, Any]:
    base = {"task_id": task_id, "request_id": request.get("id")}
    status = request.get("status")
    if status == "answered":
        by = request.get("resolved_by") or []
        return {"resumed": True, **base, "message": request.get("answer") or "",
                "answered_by": by[0] if by else None}
    if gave_up and status in ("pending", "cancelled"):
        return {"resumed": False, **base,
                "error": f"Timed out after {timeout or 0:.0f}s waiting for resume signal"}
    if status == "expired":
        return {"resumed": False, **base, "error": "Timed out waiting for resume signal: the "
                f"question expired at {request.get('deadline_at')}"}
    who = ", ".join(request.get("resolved_by") or []) or "nobody"
    return {"resumed": False, **base, "error": f"The question was {status} by {who}"}


def pause_task(question: str, *, task_id: Optional[str] = None,
               client: Optional[Client] = None, timeout: Optional[float] = None,
               timeout_seconds: Optional[int] = None,
               approvers: Optional[Sequence[str]] = None,
               details: Optional[Dict[str, Any]] = None,
               action: str = PAUSE_ACTION) -> Dict[str, Any]:
    """Asks ``question`` and blocks until someone answers it (or time runs out).

    Args:
        question: shown to the people who may answer (the request's title).
        task_id: the id :func:`resume_task` resumes by (the request's ``session``); default:
            a new ``task-…`` id, also in the result.
        client: default :func:`countersign.get_default_client`.
        timeout: stop waiting after this many seconds (the question is then cancelled);
            default: wait for the server-side deadline.
        timeout_seconds: the question's deadline on the server (default: the server's).
        approvers: who may answer (names, ``group:NAME``).
        details: shown with the question.

    Returns:
        ``{"resumed": True, "task_id", "request_id", "message": <answer>, "answered_by"}``, or
        ``{"resumed": False, "task_id", "request_id", "error": ...}`` when it timed out, was
        cancelled, or the server could not be asked.
    """
    cl = client or get_default_client()
    task_id = task_id or f"task-{uuid.uuid4().hex[:16]}"
    request: Dict[str, Any] = {}
    try:
        request = cl.create(**_pause_fields(question, task_id, timeout_seconds, approvers,
                                            details, action))
        if request.get("status") == "pending":
            request = cl.wait(request["id"], timeout=timeout)
        gave_up = request.get("status") == "pending"
        if gave_up:
            request = _cancel(cl, request)
    except CountersignError as exc:
        return {"resumed": False, "task_id": task_id, "request_id": request.get("id"),
                "error": f"pause_task failed: {exc}"}
    return _pause_result(task_id, request, timeout, gave_up)


async def pause_task_async(question: str, *, task_id: Optional[str] = None,
                           client: Optional[Client] = None, timeout: Optional[float] = None,
                           timeout_seconds: Optional[int] = None,
                           approvers: Optional[Sequence[str]] = None,
                           details: Optional[Dict[str, Any]] = None,
                           action: str = PAUSE_ACTION) -> Dict[str, Any]:
    """:func:`pause_task` for asyncio code."""
    cl = client or get_default_client()
    task_id = task_id or f"task-{uuid.uuid4().hex[:16]}"
    request: Dict[str, Any] = {}
    try:
        request = await cl.create_async(**_pause_fields(question, task_id, timeout_seconds,
                                                        approvers, details, action))
        if request.get("status") == "pending":
            request = await cl.wait_async(request["id"], timeout=timeout)
        gave_up = request.get("status") == "pending"
        if gave_up:
            try:
                request = await cl.cancel_async(request["id"], "the task stopped waiting")
            except ApiError as exc:
                request = exc.request or request
    except CountersignError as exc:
        return {"resumed": False, "task_id": task_id, "request_id": request.get("id"),
                "error": f"pause_task failed: {exc}"}
    return _pause_result(task_id, request, timeout, gave_up)


def _cancel(cl: Client, request: Dict[str, Any]) -> Dict[str, Any]:
    try:
        return cl.cancel(request["id"], "the task stopped waiting")
    except ApiError as exc:
        return exc.request or request


def _find_question(requests: Sequence[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    for request in requests:
        if request.get("kind") == "question":
            return request
    return None


def _resume_failure(task_id: str, error: str) -> Dict[str, Any]:
    return {"success": False, "task_id": task_id, "error": error}


def resume_task(task_id: str, message: str = "", *, client: Optional[Client] = None,
                action: str = PAUSE_ACTION) -> Dict[str, Any]:
    """Answers the pending question of ``task_id`` with ``message``, waking its pause_task.

    ``task_id`` is the id given to (or returned by) :func:`pause_task`; a request id
    (``req_…``) works too. An empty message answers ``"resumed"`` (a question's answer may
    not be empty).

    Returns:
        ``{"success": True, "task_id", "request_id"}``, or ``{"success": False, "task_id",
        "error": "Task not found or already resumed"}`` (or another error).
    """
    cl = client or get_default_client()
    try:
        page = cl.list_requests(status="pending", action=action, session=task_id)
        request = _find_question(page.get("requests") or [])
        request_id = request["id"] if request else (task_id if task_id.startswith("req_")
                                                     else None)
        if request_id is None:
            return _resume_failure(task_id, "Task not found or already resumed")
        decided = cl.decide(request_id, answer=message or "resumed")
    except ApiError as exc:
        if exc.status in (404, 409):
            return _resume_failure(task_id, "Task not found or already resumed")
        return _resume_failure(task_id, f"resume_task failed: {exc}")
    except CountersignError as exc:
        return _resume_failure(task_id, f"resume_task failed: {exc}")
    return {"success": True, "task_id": task_id, "request_id": decided.get("id")}


async def resume_task_async(task_id: str, message: str = "", *,
                            client: Optional[Client] = None,
                            action: str = PAUSE_ACTION) -> Dict[str, Any]:
    """:func:`resume_task` for asyncio code."""
    cl = client or get_default_client()
    try:
        page = await cl.list_requests_async(status="pending", action=action, session=task_id)
        request = _find_question(page.get("requests") or [])
        request_id = request["id"] if request else (task_id if task_id.startswith("req_")
                                                     else None)
        if request_id is None:
            return _resume_failure(task_id, "Task not found or already resumed")
        decided = await cl.decide_async(request_id, answer=message or "resumed")
    except ApiError as exc:
        if exc.status in (404, 409):
            return _resume_failure(task_id, "Task not found or already resumed")
        return _resume_failure(task_id, f"resume_task failed: {exc}")
    except CountersignError as exc:
        return _resume_failure(task_id, f"resume_task failed: {exc}")
    return {"success": True, "task_id": task_id, "request_id": decided.get("id")}


def list_paused_tasks(*, client: Optional[Client] = None,
                      action: str = PAUSE_ACTION) -> Dict[str, Any]:
    """``{"paused_tasks": [task ids], "count": n}``: the tasks with an unanswered question
    (the first page, up to 500, that the client's token may see)."""
    cl = client or get_default_client()
    page = cl.list_requests(status="pending", action=action, limit=500)
    tasks = [r.get("session") for r in page.get("requests") or []
             if r.get("kind") == "question" and r.get("session")]
    return {"paused_tasks": tasks, "count": len(tasks)}
