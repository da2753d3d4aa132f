"""Property-based API tests: Schemathesis against the app's own OpenAPI document, in-process
(ASGI, no network), positive and negative data, every check, on every operation.

Goal: no server error (5xx other than a declared 503) and every answer conforms to the schema
(status declared, body of the declared shape, headers, content type). The number of examples
per operation is ``JENJANG_FUZZ_EXAMPLES`` (default 30: the short form of ``make test``;
``make bench-reliability`` runs the long form with many more).
"""

from __future__ import annotations

import os
import random
from typing import Any

import pytest
import schemathesis
from schemathesis import GenerationMode

from recommender.config import Settings
from recommender.service import Service

EXAMPLES = int(os.environ.get("JENJANG_FUZZ_EXAMPLES", "30"))
#: Share of schema-valid employee identifiers swapped for an active employee's NIP, so that
#: answers with real recommendations are fuzzed too (not only 404s).
REAL_EMPLOYEE_SHARE = 0.5
#: Answers that count as "accepted" for schema-valid cold-start profiles (Schemathesis'
#: default, plus 422 for semantic problems the schema cannot state).
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]


@pytest.fixture(scope="module")
def fuzz_service(api_settings: Settings, service: Service, store) -> Service:  # type: ignore[no-untyped-def]
    """A service of its own on the tiny organisation (reloads and events stay here)."""
    return Service(api_settings, service.world, service.models, store)


@pytest.fixture(scope="module")
def api_schema(api_settings: Settings, fuzz_service: Service) -> Any:
    """The app's OpenAPI document, loaded in-process, with all generation modes."""
    from recommender.api.app import create_app

    config = schemathesis.Config.from_dict(
        {
            "request-timeout": 120,  # a reload rebuilds the organisation: seconds on 2 cores
            "generation": {
                "mode": "all",
                "max-examples": EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            "operations": [
                {
                    # a schema-valid profile may still not fit the organisation (an unknown
                    # position id, a grade spelling no normaliser knows): 422 by design
                    "include-path": "/v1/recommendations/programs",
                    "include-method": "POST",
                    "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}},
                },
            ],
        }
    )
    app = create_app(api_settings, fuzz_service)
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


def _key_for(path: str, keys: dict[str, str]) -> str:
    """The admin key for ``/v1/admin/...``, the LMS key otherwise."""
    return keys["admin"] if path.startswith("/v1/admin") else keys["lms"]


def _maybe_real_employee(case: Any, nips: list[str], rng: random.Random) -> None:
    """Swap a schema-valid generated employee for an active one, now and then."""
    params = case.path_parameters or {}
    employee = params.get("employee")
    valid = isinstance(employee, str) and 1 <= len(employee) <= 64
    if valid and rng.random() < REAL_EMPLOYEE_SHARE:
        params["employee"] = rng.choice(nips)


RNG = random.Random(7)


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """Schemathesis 4.32 reads ``node._nodeid``, which pytest 9.2 no longer has."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


@schema.parametrize()
def test_api_conforms_and_never_fails(case: Any, keys: dict[str, str], nips: list[str]) -> None:
    _maybe_real_employee(case, nips, RNG)
    response = case.call_and_validate(headers={"X-API-Key": _key_for(case.path, keys)})
    assert response.status_code < 500 or response.status_code == 503, response.text


def test_generation_covers_every_v1_route(api_schema: Any) -> None:
    """Every /v1 route of the app is in the document Schemathesis reads, negative mode on."""
    paths = set(api_schema.raw_schema["paths"])
    expected = {
        "/v1/employees/{employee}/recommendations/programs",
        "/v1/employees/{employee}/recommendations/positions",
        "/v1/employees/{employee}/development-plan",
        "/v1/recommendations/programs",
        "/v1/events",
        "/v1/models",
        "/v1/admin/reload",
    }
    assert expected <= paths
    assert GenerationMode.NEGATIVE in api_schema.config.generation.modes
