"""@requires_approval on sync and async functions: approved, denied, timed out, cancelled,
bypassed, and the Molecule-style result dict with raise_on_deny=False."""

import asyncio
import dataclasses
import threading

import pytest

from countersign import (Approval, ApprovalCancelled, ApprovalDenied, ApprovalError,
                         ApprovalTimedOut, Client, TransportError, current_approval,
                         current_receipt, requires_approval, verify_receipt)
from support import closed_port, pending_request, wait_until


# -- sync ------------------------------------------------------------------------------------
def test_approved_runs_with_a_receipt_that_verifies(server, agent, decide):
    calls = []

    @requires_approval(action="db.drop_table", reason_template="Drop table {table} in {env}",
                       client=agent)
    def drop_table(table, env="staging", *, countersign_receipt=None):
        calls.append((table, env, countersign_receipt, current_receipt()))
        return {"success": True, "dropped": table}

    decider = decide("db.drop_table", comment="backed up")
    assert drop_table("users", env="prod") == {"success": True, "dropped": "users"}
    asked = decider.finish()

    assert len(calls) == 1
    table, env, receipt, from_context = calls[0]
    assert (table, env) == ("users", "prod")
    assert receipt and receipt == from_context
    assert current_approval() is None  # only while the function runs
    assert asked["title"] == "Drop table users in prod"
    assert asked["arguments"] == {"table": "users", "env": "prod"}
    assert asked["details"]["reason"] == "Drop table users in prod"
    claims = verify_receipt(receipt, agent.keys(), action="db.drop_table",
                            arguments={"table": "users", "env": "prod"})
    assert claims["request_id"] == asked["id"]
    assert claims["approvers"] == ["alice"]


def test_denied_raises_and_does_not_run(agent, decide):
    calls = []

    @requires_approval(action="wipe_database", client=agent)
    def wipe(name):
        calls.append(name)

    decide("wipe_database", choice="deny", comment="not on a Friday")
    with pytest.raises(ApprovalDenied) as err:
        wipe("orders")
    assert calls == []
    assert err.value.status == "denied"
    assert err.value.request["status"] == "denied"
    assert err.value.request_id.startswith("req_")
    assert "denied by alice" in str(err.value) and "not on a Friday" in str(err.value)
    assert isinstance(err.value, ApprovalError)


def test_denied_returns_the_seed_shape_when_asked_not_to_raise(agent, decide):
    @requires_approval(action="send_email", raise_on_deny=False, client=agent)
    def send_email(to, body):
        raise AssertionError("must not run")

    decide("send_email", choice="deny")
    result = send_email("ceo@example.com", "hi")
    assert result["success"] is False
    assert result["error"].startswith("Action 'send_email' not approved")
    assert result["approval_id"].startswith("req_")
    assert result["status"] == "denied"


def test_approved_with_edited_arguments_does_not_run(server, tokens, agent):
    @requires_approval(action="transfer_funds", client=agent)
    def transfer(amount):
        raise AssertionError("must not run")

    def approve_with_edit():
        request = wait_until(lambda: pending_request(server, tokens.alice, "transfer_funds"),
                             "the request")
        server.call("POST", f"/v1/requests/{request['id']}/decisions",
                    {"choice": "approve", "arguments": {"amount": 5}}, token=tokens.alice)

    thread = threading.Thread(target=approve_with_edit, daemon=True)
    thread.start()
    with pytest.raises(ApprovalDenied) as err:
        transfer(500)
    thread.join()
    assert err.value.status == "approved"
    assert "edited arguments" in str(err.value)


def test_expired_on_the_server_raises_timed_out(agent):
    calls = []

    @requires_approval(action="rotate_keys", timeout=1, client=agent)
    def rotate():
        calls.append(1)

    with pytest.raises(ApprovalTimedOut) as err:
        rotate()
    assert calls == []
    assert err.value.status == "expired"


def test_wait_timeout_cancels_the_request_and_raises_timed_out(agent):
    @requires_approval(action="rotate_keys", wait_timeout=1, client=agent)
    def rotate():
        raise AssertionError("must not run")

    with pytest.raises(ApprovalTimedOut) as err:
        rotate()
    assert err.value.request["status"] == "cancelled"
    assert agent.get(err.value.request_id)["status"] == "cancelled"


def test_timed_out_returns_the_seed_shape(agent):
    @requires_approval(action="rotate_keys", timeout=1, raise_on_deny=False, client=agent)
    def rotate():
        raise AssertionError("must not run")

    result = rotate()
    assert result["success"] is False and result["status"] == "expired"
    assert "not approved" in result["error"]


def test_cancelled_by_someone_else_raises_cancelled(server, tokens, agent, decide):
    @requires_approval(action="deploy_production", client=agent)
    def deploy():
        raise AssertionError("must not run")

    decide("deploy_production", cancel=True, token=tokens.admin)
    with pytest.raises(ApprovalCancelled) as err:
        deploy()
    assert "cancelled by admin" in str(err.value)


def test_gate_error_when_the_server_cannot_be_asked():
    client = Client(f"http://127.0.0.1:{closed_port()}", "cs_x", backoff_initial=0.01,
                    backoff_max=0.02)

    @requires_approval(action="deploy_production", client=client, raise_on_deny=False)
    def deploy():
        raise AssertionError("must not run")

    result = deploy()
    assert result["success"] is False
    assert result["error"].startswith("Approval gate error: ")

    strict = requires_approval(action="deploy_production", client=client)(lambda: None)
    with pytest.raises(TransportError):
        strict()


def test_arguments_are_json_safe(agent, decide):
    class Opaque:
        def __repr__(self):
            return "<Opaque 7>"

    @dataclasses.dataclass
    class Target:
        host: str

    seen = {}

    @requires_approval(client=agent)
    def migrate(db, *versions, tags=frozenset(), target=None, **options):
        seen["approval"] = current_approval()
        return "migrated"

    decider = decide("migrate")
    assert migrate(Opaque(), 41, 42, tags={"b", "a"}, target=Target("db1"),
                   dry_run=False, ratio=0.5) == "migrated"
    asked = decider.finish()
    assert asked["action"] == "migrate"  # the function's name
    assert asked["title"] == "Run migrate"
    assert asked["arguments"] == {"db": "<Opaque 7>", "versions": [41, 42],
                                  "tags": ["a", "b"], "target": repr(Target("db1")),
                                  "options": {"dry_run": False, "ratio": 0.5}}
    approval = seen["approval"]
    assert isinstance(approval, Approval) and not approval.bypassed
    assert approval.request_id == asked["id"]
    assert approval.arguments == asked["arguments"]


def test_a_call_that_does_not_fit_the_signature_asks_nobody(server, tokens, agent):
    @requires_approval(action="deploy_production", client=agent)
    def deploy(ref):
        raise AssertionError("must not run")

    with pytest.raises(TypeError):
        deploy()
    assert pending_request(server, tokens.admin, "deploy_production") is None


def test_reason_template_that_does_not_fit_is_used_as_written(agent, decide):
    @requires_approval(action="purge", reason_template="Purge {missing}", client=agent)
    def purge(bucket):
        return bucket

    decider = decide("purge")
    assert purge("logs") == "logs"
    assert decider.finish()["title"] == "Purge {missing}"


def test_methods_do_not_send_self(agent, decide):
    class Repo:
        @requires_approval(action="repo.delete", reason_template="Delete {name}", client=agent)
        def delete(self, name, countersign_receipt=None):
            return name, countersign_receipt

    decider = decide("repo.delete")
    name, receipt = Repo().delete("infra")
    asked = decider.finish()
    assert name == "infra" and receipt
    assert asked["arguments"] == {"name": "infra"}


# -- bypass ----------------------------------------------------------------------------------
def test_bypass_role_runs_without_asking(server, tokens, agent):
    @requires_approval(action="deploy_production", bypass_roles=["admin"], role="admin",
                       client=agent)
    def deploy(ref, countersign_receipt="unset"):
        return ref, countersign_receipt, current_approval()

    ref, receipt, approval = deploy("v2")
    assert (ref, receipt) == ("v2", None)
    assert approval.bypassed and approval.request is None
    r = server.call("GET", "/v1/requests", token=tokens.admin)
    assert r.json["requests"] == []  # nobody was asked


def test_bypass_roles_and_role_from_the_client(server, tokens):
    client = Client(server.url, tokens.agent, role=["operator", "admin"], bypass_roles=["admin"])

    @requires_approval(action="deploy_production", client=client)
    def deploy():
        return current_approval().bypassed

    assert deploy() is True


def test_role_not_in_bypass_roles_asks(agent, decide):
    @requires_approval(action="deploy_production", bypass_roles=["admin"],
                       role=lambda: "operator", client=agent)
    def deploy():
        return current_approval().bypassed

    decide("deploy_production")
    assert deploy() is False


def test_a_role_source_that_fails_asks(agent, decide):
    def broken_roles():
        raise RuntimeError("RBAC down")

    @requires_approval(action="deploy_production", bypass_roles=["admin"], role=broken_roles,
                       client=agent)
    def deploy():
        return current_approval().bypassed

    decide("deploy_production")
    assert deploy() is False


def test_empty_bypass_roles_override_the_clients(server, tokens, decide):
    client = Client(server.url, tokens.agent, role="admin", bypass_roles=["admin"])

    @requires_approval(action="deploy_production", bypass_roles=[], client=client)
    def deploy():
        return current_approval().bypassed

    decide("deploy_production")
    assert deploy() is False


def test_invalid_action_is_refused_at_decoration():
    with pytest.raises(ValueError):
        requires_approval(action="Wipe production DB")(lambda: None)


# -- async -----------------------------------------------------------------------------------
def test_async_approved_runs_with_a_verified_receipt(agent, decide):
    @requires_approval(action="db.drop_table", reason_template="Drop {0}", client=agent)
    async def drop_table(table, countersign_receipt=None):
        await asyncio.sleep(0)
        return table, countersign_receipt, current_receipt()

    decider = decide("db.drop_table")
    table, receipt, from_context = asyncio.run(drop_table("users"))
    asked = decider.finish()
    assert table == "users" and receipt and receipt == from_context
    assert asked["title"] == "Drop users"
    verify_receipt(receipt, agent.keys(), action="db.drop_table", arguments={"table": "users"})
    assert asyncio.iscoroutinefunction(drop_table)


def test_async_denied(agent, decide):
    @requires_approval(action="wipe_database", client=agent)
    async def wipe():
        raise AssertionError("must not run")

    decide("wipe_database", choice="deny")
    with pytest.raises(ApprovalDenied):
        asyncio.run(wipe())


def test_async_denied_seed_shape(agent, decide):
    @requires_approval(action="wipe_database", client=agent, raise_on_deny=False)
    async def wipe():
        raise AssertionError("must not run")

    decide("wipe_database", choice="deny")
    result = asyncio.run(wipe())
    assert result["success"] is False and result["status"] == "denied"


def test_async_timed_out(agent):
    @requires_approval(action="rotate_keys", timeout=1, client=agent)
    async def rotate():
        raise AssertionError("must not run")

    with pytest.raises(ApprovalTimedOut) as err:
        asyncio.run(rotate())
    assert err.value.status == "expired"


def test_async_wait_timeout_cancels(agent):
    @requires_approval(action="rotate_keys", wait_timeout=1, client=agent)
    async def rotate():
        raise AssertionError("must not run")

    with pytest.raises(ApprovalTimedOut) as err:
        asyncio.run(rotate())
    assert agent.get(err.value.request_id)["status"] == "cancelled"


def test_cancelling_the_task_cancels_the_request(server, tokens, agent):
    @requires_approval(action="deploy_production", client=agent)
    async def deploy():
        raise AssertionError("must not run")

    async def scenario():
        task = asyncio.ensure_future(deploy())
        loop = asyncio.get_running_loop()
        request = await loop.run_in_executor(None, lambda: wait_until(
            lambda: pending_request(server, tokens.admin, "deploy_production"),
            "the request"))
        await loop.run_in_executor(None, lambda: wait_until(
            lambda: "countersign_waiters 1" in server.call("GET", "/metrics", token=None).body,
            "the long-poll"))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return request

    request = asyncio.run(scenario())
    assert agent.get(request["id"])["status"] == "cancelled"


def test_async_bypass(agent):
    @requires_approval(action="deploy_production", bypass_roles=["admin"], role="admin",
                       client=agent)
    async def deploy(countersign_receipt="unset"):
        return countersign_receipt, current_approval().bypassed

    assert asyncio.run(deploy()) == (None, True)
