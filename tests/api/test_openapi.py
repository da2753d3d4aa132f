"""The OpenAPI document describes every ``/v1`` answer, and the real answers fit it.

Every ``/v1`` operation declares a 200 answer whose schema is an object with named properties
(an LMS team can generate a client from ``/openapi.json``), and the answers of the tiny
organisation validate against both the pydantic models (:mod:`recommender.api.schemas`, which
forbid unknown properties) and the JSON schema the document publishes: a field added to or
dropped from an answer without the schema fails here.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import jsonschema
import pytest
from fastapi.testclient import TestClient

from recommender.api.schemas import V1_ANSWERS
from recommender.service import Service

NOW = datetime.now(UTC).replace(microsecond=0).isoformat()


@pytest.fixture
def doc(client: TestClient) -> dict[str, Any]:
    """The app's OpenAPI document."""
    document: dict[str, Any] = client.get("/openapi.json").json()
    return document


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with a top-level ``$ref`` into ``components`` followed."""
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"][name]
    return schema


def _answer_schema(doc: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    """The JSON schema of the 200 answer of one operation."""
    ok = doc["paths"][path][method]["responses"]["200"]
    schema: dict[str, Any] = ok["content"]["application/json"]["schema"]
    return schema


def _v1_operations(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (method, path)
        for path, operations in doc["paths"].items()
        if path.startswith("/v1/")
        for method in operations
    ]


def test_every_v1_operation_has_an_answer_schema_with_named_properties(
    doc: dict[str, Any],
) -> None:
    operations = _v1_operations(doc)
    assert set(operations) == set(V1_ANSWERS), "a /v1 route without a response model"
    for method, path in operations:
        schema = _resolve(doc, _answer_schema(doc, method, path))
        assert schema.get("type") == "object", (method, path)
        properties = schema.get("properties", {})
        assert properties, (method, path, schema)
        assert schema.get("additionalProperties") is False, (method, path)
        for name, prop in properties.items():  # nested objects are named too
            inner = _resolve(doc, prop.get("items", prop))
            if inner.get("type") == "object":
                assert inner.get("properties"), (method, path, name)


def _check(doc: dict[str, Any], method: str, path: str, response: httpx.Response) -> None:
    """``response`` is a 200 whose body fits the model and the published JSON schema."""
    assert response.status_code == 200, response.text
    V1_ANSWERS[(method, path)].model_validate_json(response.content)
    schema = {**_answer_schema(doc, method, path), "components": doc["components"]}
    jsonschema.validate(response.json(), schema)


def _profile(service: Service) -> dict[str, str]:
    someone = service.world.snap.people.iloc[0]
    return {
        "position_id": str(someone["position_id"]),
        "unit_id": str(someone["unit_id"]),
        "grade": "3b",
        "education": "Strata 1",
    }


def test_employee_answers_fit_their_schemas(
    client: TestClient, doc: dict[str, Any], nips: list[str]
) -> None:
    base = "/v1/employees/{employee}"
    for nip in nips[:6]:
        for lang in ("id", "en"):
            h = {"Accept-Language": lang}
            for suffix, params in (
                ("/recommendations/programs", {"k": 10}),
                ("/recommendations/positions", {"k": 5}),
                ("/development-plan", {}),
                ("/development-plan", {"budget": 1000}),  # infeasible: problems, no items
            ):
                r = client.get(f"/v1/employees/{nip}{suffix}", params=params, headers=h)
                _check(doc, "get", base + suffix, r)


def test_cold_start_events_and_operations_fit_their_schemas(
    client: TestClient,
    doc: dict[str, Any],
    service: Service,
    nips: list[str],
    keys: dict[str, str],
) -> None:
    r = client.post("/v1/recommendations/programs", json={"profile": _profile(service), "k": 5})
    _check(doc, "post", "/v1/recommendations/programs", r)
    program = r.json()["items"][0]["program_id"]
    event_id = f"openapi-{uuid.uuid4().hex}"
    good = {"event_id": event_id, "type": "impression", "employee": nips[0], "time": NOW}
    batch = [{**good, "program_id": program}, {"event_id": "x", "type": "teleport"}]
    r = client.post("/v1/events", json=batch)
    _check(doc, "post", "/v1/events", r)
    assert r.json()["results"] and r.json()["errors"]  # both lists carry items
    _check(doc, "get", "/v1/models", client.get("/v1/models"))
    admin = {"X-API-Key": keys["admin"]}
    _check(doc, "post", "/v1/admin/reload", client.post("/v1/admin/reload", headers=admin))


def test_answers_are_not_validated_per_request(client: TestClient, nips: list[str]) -> None:
    """The cached answer is spliced into its envelope as is: the envelope comes first and the
    plan's own ``language`` stays (a validating response model would rebuild the body)."""
    r = client.get(f"/v1/employees/{nips[0]}/development-plan")
    assert r.status_code == 200
    assert r.content.startswith(b'{"request_id": "')
    assert r.content.count(b'"language"') == 2
