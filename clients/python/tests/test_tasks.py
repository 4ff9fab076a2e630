"""pause_task / resume_task over question requests."""

import asyncio
import threading

from countersign import (PAUSE_ACTION, list_paused_tasks, pause_task, pause_task_async,
                         resume_task, resume_task_async)
from support import CONDITION_TIMEOUT, pending_request, wait_until


def _resume_when_paused(server, tokens, alice, task_id, message, results):
    def run():
        wait_until(lambda: pending_request(server, tokens.alice, PAUSE_ACTION, task_id),
                   "the question")
        results.append(list_paused_tasks(client=alice))
        results.append(resume_task(task_id, message, client=alice))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_pause_waits_for_the_answer(server, tokens, agent, alice):
    results = []
    thread = _resume_when_paused(server, tokens, alice, "task-42", "use the blue button",
                                 results)
    result = pause_task("Which button?", task_id="task-42", client=agent)
    thread.join(CONDITION_TIMEOUT)
    assert result["resumed"] is True
    assert result["task_id"] == "task-42"
    assert result["message"] == "use the blue button"
    assert result["answered_by"] == "alice"
    paused, resumed = results
    assert paused == {"paused_tasks": ["task-42"], "count": 1}
    assert resumed == {"success": True, "task_id": "task-42", "request_id": result["request_id"]}
    question = agent.get(result["request_id"])
    assert question["kind"] == "question" and question["title"] == "Which button?"
    assert question["session"] == "task-42"


def test_resume_unknown_or_twice(server, tokens, agent, alice):
    assert resume_task("task-nope", "x", client=alice) == {
        "success": False, "task_id": "task-nope", "error": "Task not found or already resumed"}
    results = []
    thread = _resume_when_paused(server, tokens, alice, "task-7", "", results)
    result = pause_task("Continue?", task_id="task-7", client=agent)
    thread.join(CONDITION_TIMEOUT)
    assert result["resumed"] is True and result["message"] == "resumed"
    again = resume_task("task-7", "again", client=alice)
    assert again["success"] is False
    assert again["error"] == "Task not found or already resumed"
    by_id = resume_task(result["request_id"], "again", client=alice)
    assert by_id["success"] is False


def test_pause_times_out(agent):
    result = pause_task("Anyone?", task_id="task-9", client=agent, timeout=1)
    assert result["resumed"] is False
    assert result["error"].startswith("Timed out after 1s")
    assert agent.get(result["request_id"])["status"] == "cancelled"
    expired = pause_task("Anyone?", client=agent, timeout_seconds=1)
    assert expired["resumed"] is False and "expired" in expired["error"]
    assert expired["task_id"].startswith("task-")


def test_pause_and_resume_async(server, tokens, agent, alice):
    async def scenario():
        pause = asyncio.ensure_future(pause_task_async("Go?", task_id="task-a", client=agent))
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, lambda: wait_until(
            lambda: pending_request(server, tokens.alice, PAUSE_ACTION, "task-a"),
            "the question"))
        resumed = await resume_task_async("task-a", "go", client=alice)
        return await pause, resumed

    paused, resumed = asyncio.run(scenario())
    assert resumed["success"] is True
    assert paused["resumed"] is True and paused["message"] == "go"
