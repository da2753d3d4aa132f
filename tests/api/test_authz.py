"""Object-level authorization (issue 8, part 4) for every route that takes an employee or a
unit: API keys (scope and units, sub-units included) and HR reviewers (their units and the
units below). Out of reach is the same 404 as unknown, word for word.

``test_every_employee_or_unit_route_has_a_case`` reads the app's routes: a new route with an
``employee``/``unit`` parameter and no case here fails the suite.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from recommender.config import Settings
from recommender.pseudonym import pseudonymise
from recommender.service import NOT_VISIBLE, Service
from recommender.store import users
from recommender.store.keys import create_key
from tests.api.conftest import ADMIN_PASSWORD
from tests.api.routing import app_routes
from tests.api.test_pages import csrf_of, sign_in
from tests.conftest import TEST_KEY

GUARDED = re.compile(r"employee|unit", re.I)
REVIEWER, REVIEWER_PASSWORD = "authz.reviewer", "authz-reviewer-pass"
UNKNOWN_NIP = "199901012020011001"


@dataclass(frozen=True)
class World:
    """Who may see what: ``parent`` has staff in its sub-unit ``child``; ``other`` is outside
    ``parent``. The scoped key and the reviewer are bound to ``parent``."""

    parent: str
    child: str
    other: str
    inside: str  # pseudonym of a person in ``child``
    outside: str  # pseudonym of a person in ``other``
    nip_inside: str
    nip_outside: str
    keys: dict[str, str]


@dataclass
class Clients:
    """``api`` (no key by default), ``reviewer`` and ``admin`` (signed in to the HR pages)."""

    api: TestClient
    reviewer: TestClient
    admin: TestClient


@pytest.fixture(scope="module")
def world(service: Service, store, nips: list[str]) -> World:  # type: ignore[no-untyped-def]
    people = service.world.snap.people
    units = service.world.tables["units"]
    parent_of = dict(zip(units["unit_id"].astype(str), units["parent_id"], strict=True))
    ancestors = service._ancestors
    staffed = [str(u) for u in people["unit_id"].value_counts().index]
    child = next(u for u in staffed if isinstance(parent_of.get(u), str))
    parent = str(parent_of[child])
    other = next(u for u in staffed if parent not in ancestors[u])
    by_pid = {pseudonymise(n, TEST_KEY): n for n in nips}
    inside = next(p for p in by_pid if people.at[p, "unit_id"] == child)
    outside = next(p for p in by_pid if people.at[p, "unit_id"] == other)
    with store.begin() as session:
        keys = {
            "scoped": create_key(session, ["lms"], units=[parent]),
            "lms": create_key(session, ["lms"]),
            "admin": create_key(session, ["admin"]),
        }
        if users.get_user(session, REVIEWER) is None:
            users.create_user(
                session,
                username=REVIEWER,
                password=REVIEWER_PASSWORD,
                role="reviewer",
                units=[parent],
            )
    return World(parent, child, other, inside, outside, by_pid[inside], by_pid[outside], keys)


@pytest.fixture(scope="module")
def clients(
    api_settings: Settings,
    service: Service,
    hr_users: dict[str, str],
    world: World,
) -> Iterator[Clients]:
    from recommender.api.app import create_app

    app = create_app(api_settings, service)
    with (
        TestClient(app) as api,
        TestClient(app, follow_redirects=False) as reviewer,
        TestClient(app, follow_redirects=False) as admin,
    ):
        sign_in(reviewer, REVIEWER, REVIEWER_PASSWORD)
        sign_in(admin, hr_users["admin"], ADMIN_PASSWORD)
        yield Clients(api, reviewer, admin)


# ------------------------------------------------------------------------------ API cases
def _api_employee(c: Clients, w: World, path: str) -> None:
    """An employee route of the LMS API: scope, units (sub-units included), same 404."""

    def get(employee: str, key: str | None) -> tuple[int, str]:
        headers = {"X-API-Key": w.keys[key]} if key else {}
        r = c.api.get(path.replace("{employee}", employee), headers=headers)
        return r.status_code, r.json().get("detail") if r.status_code != 200 else ""

    assert get(w.nip_inside, "scoped")[0] == 200, "a person of a sub-unit of the key's unit"
    out, unknown, malformed = (get(n, "scoped") for n in (w.nip_outside, UNKNOWN_NIP, "x.y"))
    assert out == unknown == malformed == (404, NOT_VISIBLE), "out of reach = unknown"
    assert get(w.nip_outside, "lms")[0] == 200, "a key without units sees everyone"
    assert get(w.nip_inside, "admin")[0] == 403, "an admin key has no lms scope"
    assert get(w.nip_inside, None)[0] == 401


# ------------------------------------------------------------------------------ page cases
def _same_404(client: TestClient, refused: str, unknown: str) -> None:
    a, b = client.get(refused), client.get(unknown)
    assert a.status_code == b.status_code == 404, (refused, a.status_code)
    assert a.text == b.text, "the refusal is word for word the unknown page"


def _unit_page(c: Clients, w: World, path: str) -> None:
    """A unit route of the HR pages (``{unit_id}`` in the path, or ``?unit=``)."""

    def url(unit: str) -> str:
        return path.replace("{unit_id}", unit) if "{unit_id}" in path else f"{path}?unit={unit}"

    for unit in (w.parent, w.child):
        assert c.reviewer.get(url(unit)).status_code == 200, (url(unit), "own unit and below")
    _same_404(c.reviewer, url(w.other), url("NO-SUCH-UNIT"))
    assert c.admin.get(url(w.other)).status_code == 200, "an HR admin sees every unit"


def _employee_page(c: Clients, w: World, path: str) -> None:
    url = path.replace("{employee_id}", w.inside)
    assert c.reviewer.get(url).status_code == 200
    _same_404(c.reviewer, path.replace("{employee_id}", w.outside), "/employees/e_nosuchperson000")
    assert c.admin.get(path.replace("{employee_id}", w.outside)).status_code == 200


def _review_form(c: Clients, w: World, path: str) -> None:
    """POST a decision (with the right CSRF token): refused 404 out of reach; within reach it
    gets to the form's own checks (a made-up request id: back to the page with an error)."""

    def post(client: TestClient, employee: str) -> tuple[int, str]:
        token = csrf_of(client.get("/units").text)
        form = {
            "csrf_token": token,
            "request_id": "0" * 32,
            "item_kind": "program",
            "item_id": "P-NONE",
            "decision": "approve",
        }
        r = client.post(path.replace("{employee_id}", employee), data=form)
        return r.status_code, r.headers.get("location", r.text)

    status, where = post(c.reviewer, w.inside)
    assert status == 303 and "error=not_shown" in where
    refused, unknown = post(c.reviewer, w.outside), post(c.reviewer, "e_nosuchperson000")
    assert refused[0] == unknown[0] == 404 and refused[1] == unknown[1]
    assert post(c.admin, w.outside)[0] == 303


Case = Callable[[Clients, World, str], None]
CASES: dict[tuple[str, str], Case] = {
    ("GET", "/v1/employees/{employee}/recommendations/programs"): _api_employee,
    ("GET", "/v1/employees/{employee}/recommendations/positions"): _api_employee,
    ("GET", "/v1/employees/{employee}/development-plan"): _api_employee,
    ("GET", "/units/{unit_id}"): _unit_page,
    ("GET", "/units/{unit_id}/needs"): _unit_page,
    ("GET", "/units/{unit_id}/needs.csv"): _unit_page,
    ("GET", "/units/{unit_id}/needs.xlsx"): _unit_page,
    ("GET", "/queue"): _unit_page,
    ("GET", "/employees/{employee_id}"): _employee_page,
    ("POST", "/employees/{employee_id}/reviews"): _review_form,
}


def test_every_employee_or_unit_route_has_a_case(api_settings: Settings) -> None:
    from recommender.api.app import create_app

    app = create_app(api_settings, bench=True)
    guarded = {
        (method, path)
        for method, path, params, _ in app_routes(app)
        if any(GUARDED.search(p) for p in params)
    }
    assert guarded, "the routes were read"
    missing = sorted(guarded - set(CASES))
    assert not missing, (
        f"routes taking an employee or a unit without an authorization case: {missing}"
    )
    assert not set(CASES) - guarded, "a case for a route that no longer exists"


@pytest.mark.parametrize("route", sorted(CASES), ids=lambda r: f"{r[0]} {r[1]}")
def test_object_level_authorization(route: tuple[str, str], clients: Clients, world: World) -> None:
    CASES[route](clients, world, route[1])


def test_events_for_people_out_of_the_keys_units_are_refused_item_by_item(
    clients: Clients, world: World, service: Service
) -> None:
    program = str(service.world.cat.ids[0])
    batch = [
        {"event_id": f"authz-{n}", "type": "click", "employee": nip, "program_id": program}
        | {"time": "2026-03-01T10:00:00Z"}
        for n, nip in enumerate((world.nip_inside, world.nip_outside, UNKNOWN_NIP))
    ]
    r = clients.api.post("/v1/events", json=batch, headers={"X-API-Key": world.keys["scoped"]})
    body = r.json()
    assert r.status_code == 200 and body["inserted"] == 1
    errors = {e["index"]: (e["field"], e["message"]) for e in body["errors"]}
    assert errors[1] == ("employee", NOT_VISIBLE), "out of the key's units: refused"
    assert errors[2][0] == "employee" and world.nip_outside not in r.text
