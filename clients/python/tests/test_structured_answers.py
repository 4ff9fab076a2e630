"""Structured answers through the client: create(response_schema=...), decide(response=...),
and ApiError.field naming the field a refused response got wrong."""

import asyncio

import pytest

from countersign import ApiError

SCHEMA = {
    "type": "object",
    "properties": {
        "env": {"type": "string", "title": "Environment",
                "oneOf": [{"const": "staging", "title": "Staging"},
                          {"const": "prod", "title": "Production"}]},
        "replicas": {"type": "integer", "minimum": 1, "maximum": 10},
        "notify": {"type": "boolean", "default": False},
        "checks": {"type": "array", "items": {"type": "string", "enum": ["smoke", "load"]},
                   "maxItems": 1},
    },
    "required": ["env", "replicas"],
}


def test_create_with_a_schema_and_decide_with_a_response(agent, alice):
    created = agent.create("deploy_production", "Deploy v2.0", response_schema=SCHEMA)
    assert created["response_schema"] == SCHEMA
    assert created["response"] is None
    response = {"env": "prod", "replicas": 3, "notify": True, "checks": ["smoke"]}
    decided = alice.decide(created["id"], "approve", response=response, comment="go")
    assert decided["status"] == "approved"
    assert decided["response"] == response
    assert decided["decisions"][0]["response"] == response
    assert agent.get(created["id"])["response"] == response


def test_a_refused_response_names_its_field(agent, alice):
    created = agent.create("deploy_production", "Deploy v2.0", response_schema=SCHEMA)
    cases = [
        ({"env": "prod"}, "response.replicas"),                       # missing, required
        ({"env": "prod", "replicas": 1.5}, "response.replicas"),      # not an integer
        ({"env": "dev", "replicas": 1}, "response.env"),              # not an option
        ({"env": "prod", "replicas": 1, "checks": ["smoke", "load"]}, "response.checks"),
        ({"env": "prod", "replicas": 1, "colour": "red"}, "response.colour"),
    ]
    for response, field in cases:
        with pytest.raises(ApiError) as err:
            alice.decide(created["id"], "approve", response=response)
        assert err.value.status == 422
        assert err.value.code == "invalid"
        assert err.value.field == field
        assert field in err.value.message
        assert not err.value.transient
    still = agent.get(created["id"])
    assert still["status"] == "pending"
    assert still["decisions"] == []


def test_a_bad_schema_names_the_keyword(agent):
    schema = {"type": "object", "properties": {"age": {"type": "integer", "minimum": "zero"}}}
    with pytest.raises(ApiError) as err:
        agent.create("deploy_production", "Deploy", response_schema=schema)
    assert err.value.status == 422
    assert err.value.field == "response_schema.properties.age.minimum"


def test_errors_without_a_field_leave_it_none(agent, alice):
    created = agent.create("deploy_production", "Deploy")
    with pytest.raises(ApiError) as err:
        alice.decide(created["id"], "no-such-choice")
    assert err.value.status == 422
    assert err.value.field is None
    with pytest.raises(ApiError) as err:
        alice.decide(created["id"], "approve", response={"env": "prod"})
    assert err.value.field == "response"  # this request has no form


def test_async_create_and_decide(agent, alice):
    async def scenario():
        created = await agent.create_async("deploy_production", "Deploy async",
                                           response_schema=SCHEMA)
        with pytest.raises(ApiError) as err:
            await alice.decide_async(created["id"], "approve", response={"replicas": 2})
        decided = await alice.decide_async(created["id"], "approve",
                                           response={"env": "staging", "replicas": 2})
        return err.value, decided

    error, decided = asyncio.run(scenario())
    assert error.field == "response.env"
    assert decided["response"] == {"env": "staging", "replicas": 2}
