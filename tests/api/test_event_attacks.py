"""The LMS event path under attack (issue 22, findings 1-3): cross-unit voiding, event-id
squatting, and 500s on malformed items, each reproduced with two unit-limited keys."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from recommender.pseudonym import pseudonymise
from recommender.service import Service
from recommender.store.keys import create_key, key_id_of
from recommender.store.models import Event
from tests.conftest import TEST_KEY

NOW = datetime.now(UTC).replace(microsecond=0).isoformat()
ADL = "http://adlnet.gov/expapi/verbs/"
VOIDED = ADL + "voided"
SIMPLE_TYPES = ("impression", "click", "enrol", "complete", "dismiss")
XAPI_VERBS = ("completed", "passed", "failed", "scored", "registered", "attempted")
PROGRAM = "PL-ATTACK"


class Side:
    """One unit's LMS key and two people of that unit."""

    def __init__(self, key: str, unit: str, nips: list[str]) -> None:
        self.key, self.unit, self.nips = key, unit, nips
        self.sender = key_id_of(key)
        self.headers = {"X-API-Key": key, "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def sides(store, service: Service, keys: dict[str, str], nips: list[str]) -> tuple[Side, Side]:  # type: ignore[no-untyped-def]
    """Two keys limited to two unrelated units (``keys["unit"]`` and a second one)."""
    people = service.world.snap.people
    ancestors = service._ancestors
    unit_a = keys["unit_id"]

    def of(unit: str) -> list[str]:
        return [n for n in nips if people.loc[pseudonymise(n, TEST_KEY), "unit_id"] == unit][:2]

    counts = people["unit_id"].value_counts()
    unit_b = next(
        str(u)
        for u in counts.index
        if str(u) != unit_a
        and unit_a not in ancestors[str(u)]
        and str(u) not in ancestors[unit_a]
        and len(of(str(u))) == 2
    )
    with store.begin() as session:
        key_b = create_key(session, ["lms"], units=[unit_b])
    return Side(keys["unit"], unit_a, of(unit_a)), Side(key_b, unit_b, of(unit_b))


@pytest.fixture
def api(client: TestClient) -> Iterator[TestClient]:
    """The test client (any key: every request names its own)."""
    yield client


def _post(client: TestClient, side: Side, batch: Any) -> dict[str, Any]:
    r = client.post("/v1/events", content=json.dumps(batch), headers=side.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _rows(store, event_id: str) -> list[Event]:  # type: ignore[no-untyped-def]
    with store() as session:
        return list(session.scalars(select(Event).where(Event.event_id == event_id)))


def _statement(nip: str, verb: str, sid: str | None = None, **extra: Any) -> dict[str, Any]:
    stmt: dict[str, Any] = {
        "id": sid or str(uuid.uuid4()),
        "actor": {"account": {"homePage": "https://lms.example", "name": nip}},
        "verb": {"id": ADL + verb},
        "object": {"id": f"https://lms.example/programs/{PROGRAM}"},
        "timestamp": NOW,
    }
    if verb == "scored":
        stmt["result"] = {"score": {"scaled": 0.5}}
    stmt.update(extra)
    return stmt


def _void(target: str, actor: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "actor": actor or {"mbox": "mailto:attacker@example.com"},
        "verb": {"id": VOIDED},
        "object": {"objectType": "StatementRef", "id": target},
        "timestamp": NOW,
    }


def _simple(nip: str, kind: str, event_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "event_id": event_id,
        "employee": nip,
        "program_id": PROGRAM,
        "time": NOW,
        **extra,
    }


# ----------------------------------------------------------------- finding 1: cross-unit voids
def test_finding1_a_unit_key_cannot_void_another_units_completion(
    api: TestClient, sides: tuple[Side, Side], store, keys: dict[str, str]
) -> None:  # type: ignore[no-untyped-def]
    a, b = sides
    completion = _statement(b.nips[0], "completed")
    assert _post(api, b, [completion])["inserted"] == 1
    body = _post(api, a, [_void(completion["id"])])  # actor: any mbox
    assert body["inserted"] == 0 and [e["index"] for e in body["errors"]] == [0]
    assert body["errors"][0]["field"] == "object.id"
    assert not any(row.voided for row in _rows(store, completion["id"]))
    # the sending key may void its own statement; a voiding statement cannot be voided
    own_void = _void(completion["id"])
    assert _post(api, b, [own_void])["inserted"] == 1
    assert all(row.voided for row in _rows(store, completion["id"]))
    again = _post(api, b, [_void(own_void["id"])])
    assert [(e["field"], e["message"]) for e in again["errors"]] == [
        ("object.id", "names a voiding statement, which cannot be voided")
    ]
    # a key that sees every unit may void another key's statement; a void may follow its
    # statement in the same batch
    other = _statement(b.nips[1], "completed")
    assert _post(api, b, [other])["inserted"] == 1
    every = Side(keys["lms"], "", [])
    assert _post(api, every, [_void(other["id"])])["inserted"] == 1
    assert all(row.voided for row in _rows(store, other["id"]))
    late = _statement(a.nips[0], "completed")
    assert _post(api, a, [_void(late["id"]), late])["inserted"] == 2
    assert all(row.voided for row in _rows(store, late["id"]))


def test_finding1_no_pre_emptive_voids(api: TestClient, sides: tuple[Side, Side], store) -> None:  # type: ignore[no-untyped-def]
    a, b = sides
    later = str(uuid.uuid4())
    for side in (a, b):  # neither the other unit's key nor the sender itself may void ahead
        body = _post(api, side, [_void(later)])
        assert body["inserted"] == 0 and body["errors"][0]["field"] == "object.id"
    assert _post(api, b, [_statement(b.nips[0], "completed", later)])["inserted"] == 1
    assert [row.voided for row in _rows(store, later)] == [False]


# ----------------------------------------------------------------- finding 2: id squatting
def test_finding2_event_ids_are_per_key(api: TestClient, sides: tuple[Side, Side], store) -> None:  # type: ignore[no-untyped-def]
    a, b = sides
    squat = f"squat-{uuid.uuid4().hex[:8]}"
    assert _post(api, a, [_simple(a.nips[0], "click", squat)])["inserted"] == 1
    real = _post(api, b, [_simple(b.nips[0], "complete", squat)])
    assert real["inserted"] == 1 and real["duplicates"] == 0, real
    assert _post(api, b, [_simple(b.nips[0], "complete", squat)])["duplicates"] == 1  # replay
    rows = {row.sender: row for row in _rows(store, squat)}
    assert set(rows) == {a.sender, b.sender}
    assert rows[b.sender].type == "complete" and rows[a.sender].type == "click"
    sid = str(uuid.uuid4())  # statement ids too
    assert _post(api, a, [_statement(a.nips[0], "attempted", sid)])["inserted"] == 1
    assert _post(api, b, [_statement(b.nips[0], "completed", sid)])["inserted"] == 1


# ----------------------------------------------------------------- finding 3: no 500s
def _deep(levels: int) -> Any:
    value: Any = []
    for _ in range(levels - 1):
        value = [value]
    return value


BAD_ITEMS: dict[str, tuple[Any, str]] = {
    "simple-time-min": ({"time": "0001-01-01T00:00:00+14:00"}, "time"),
    "simple-time-max": ({"time": "9999-12-31T23:59:59-14:00"}, "time"),
    "xapi-timestamp-min": ({"timestamp": "0001-01-01T00:00:00+14:00"}, "timestamp"),
    "xapi-timestamp-max": ({"timestamp": "9999-12-31T23:59:59-14:00"}, "timestamp"),
    "xapi-extension-iri": ({"context": {"extensions": {"http://[::1": "x"}}}, "context.extensions"),
    "xapi-deep-600": ({"result": {"extensions": {"http://x.example/e": _deep(600)}}}, "result"),
    "xapi-deep-900": ({"result": {"extensions": {"http://x.example/e": _deep(900)}}}, "result"),
    "simple-surrogate-id": ({"event_id": "ev-\ud800"}, "event_id"),
    "xapi-surrogate-text": ({"result": {"response": "\udfff"}}, "result"),
    "simple-nip-in-id": ({"event_id": "evt198501012010011001"}, "event_id"),
    "simple-nip-spelled-in-id": ({"event_id": "evt_19850101_201001_1_001"}, "event_id"),
}


@pytest.mark.parametrize("case", sorted(BAD_ITEMS))
def test_finding3_a_bad_item_is_a_per_item_error(
    api: TestClient, sides: tuple[Side, Side], store, case: str
) -> None:  # type: ignore[no-untyped-def]
    a, _ = sides
    change, field = BAD_ITEMS[case]
    good_id = f"good-{uuid.uuid4().hex[:8]}"
    if case.startswith("simple"):
        bad = {**_simple(a.nips[1], "click", f"bad-{uuid.uuid4().hex[:8]}"), **change}
    else:
        bad = {**_statement(a.nips[1], "attempted"), **change}
    batch = [_simple(a.nips[0], "click", good_id), bad]
    text = json.dumps(batch)  # ensure_ascii: a lone surrogate travels as \\udXXX
    r = api.post("/v1/events", content=text, headers=a.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["inserted"] == 1 and body["results"][0]["event_id"] == good_id
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(1, field)], body["errors"]
    assert "198501012010011001" not in r.text and "19850101_201001" not in r.text
    assert len(_rows(store, good_id)) == 1
    assert api.post("/v1/events", content=text, headers=a.headers).json()["duplicates"] == 1


# ----------------------------------------------------------------- every route and verb
def _attacks(
    attacker: Side, victim: Side, target_ids: dict[str, str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every way ``attacker`` could touch ``victim``'s events, as two batches: voids of each of
    the victim's events (from an mbox actor and from the attacker's own employee, who is
    visible to the attacker), then events about the victim's people (every simple type, every
    mapped verb) and events about the attacker's people reusing the victim's ids."""
    own = {"account": {"homePage": "https://lms.example", "name": attacker.nips[0]}}
    voids = [_void(t) for t in target_ids.values()]
    voids += [_void(t, actor=own) for t in target_ids.values()]
    nip = victim.nips[1]
    items: list[dict[str, Any]] = []
    for kind in SIMPLE_TYPES:
        items.append(_simple(nip, kind, f"x-{kind}-{uuid.uuid4().hex[:6]}"))
        items.append(_simple(attacker.nips[0], kind, target_ids[kind]))  # shadow attempt
    for verb in XAPI_VERBS:
        items.append(_statement(nip, verb))
        items.append(_statement(attacker.nips[0], verb, target_ids[verb]))  # shadow attempt
    return voids, items


def _snapshot(store, sender: str, ids: list[str]) -> dict[str, tuple[Any, ...]]:  # type: ignore[no-untyped-def]
    with store() as session:
        rows = session.scalars(
            select(Event).where(Event.sender == sender, Event.event_id.in_(ids))
        ).all()
    return {r.event_id: (r.type, r.employee_id, r.voided, r.voided_by, r.item_id) for r in rows}


@pytest.mark.parametrize("direction", ["a-attacks-b", "b-attacks-a"])
@pytest.mark.parametrize("shape", ["array", "object"])
def test_a_unit_key_cannot_change_void_or_shadow_another_units_events(
    api: TestClient, sides: tuple[Side, Side], store, direction: str, shape: str
) -> None:  # type: ignore[no-untyped-def]
    attacker, victim = sides if direction == "a-attacks-b" else sides[::-1]
    ids = {kind: f"v-{kind}-{uuid.uuid4().hex[:6]}" for kind in SIMPLE_TYPES}
    ids |= {verb: str(uuid.uuid4()) for verb in XAPI_VERBS}
    genuine = [_simple(victim.nips[0], kind, ids[kind]) for kind in SIMPLE_TYPES]
    genuine += [_statement(victim.nips[0], verb, ids[verb]) for verb in XAPI_VERBS]
    assert _post(api, victim, genuine)["inserted"] == len(genuine)
    before = _snapshot(store, victim.sender, list(ids.values()))
    voids, items = _attacks(attacker, victim, ids)
    body = _post(api, attacker, voids if shape == "array" else {"events": voids})
    assert body["inserted"] == 0 and {e["index"] for e in body["errors"]} == set(range(len(voids)))
    assert {e["field"] for e in body["errors"]} == {"object.id"}
    body = _post(api, attacker, items if shape == "array" else {"events": items})
    refused = {e["index"] for e in body["errors"]}
    about_victim = {i for i, item in enumerate(items) if victim.nips[1] in json.dumps(item)}
    assert refused == about_victim
    # the attacker's events under the victim's ids are its own: inserted, never duplicates
    assert body["duplicates"] == 0 and body["inserted"] == len(items) - len(about_victim)
    assert _snapshot(store, victim.sender, list(ids.values())) == before
    assert not any(row[2] for row in before.values())
    with store() as session:
        victim_pid = pseudonymise(victim.nips[1], TEST_KEY)
        leaked = session.scalars(
            select(Event).where(Event.sender == attacker.sender, Event.employee_id == victim_pid)
        ).all()
    assert leaked == []
