"""Property-based test of ``POST /v1/events`` (issue 22): generated event bodies (valid,
invalid, deeply nested, edge dates, odd unicode, voids of stored and unknown ids) sent to the
in-process app by an unlimited and two unit-limited keys. No answer is a 5xx; every answer is
JSON without a NIP; exactly the items answered ``inserted`` are stored (an answer with an
error, or a 4xx, stores nothing else); a unit-limited key never stores an event about, or
voids an event of, a person outside its units.

500 bodies run by default on SQLite and PostgreSQL; 10,000 (SQLite, about 3 minutes on two
cores) in the ``slow`` run (``pytest -m slow``).
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from recommender.api.app import create_app
from recommender.config import Settings
from recommender.pseudonym import pseudonymise
from recommender.service import Models, Service, build_world
from recommender.store.db import make_engine, make_sessionmaker, upgrade
from recommender.store.keys import create_key, key_id_of
from recommender.store.models import Event
from tests.conftest import TEST_KEY
from tests.store.conftest import BACKENDS, fresh_database

AT = pd.Timestamp("2026-03-01")
ADL = "http://adlnet.gov/expapi/verbs/"
VERBS = [ADL + v for v in ("completed", "passed", "failed", "scored", "registered", "voided")]
DEEP = "__deep__"  # replaced in the JSON text by arrays nested this many levels


@dataclass
class Rig:
    """The app, its database and keys, and the people the generated events name."""

    client: TestClient
    store: Any
    keys: dict[str, str]  # name -> key: "all" (every unit), "a" and "b" (one unit each)
    units: dict[str, str]  # "a"/"b" -> unit
    nips: list[str]
    unit_of: dict[str, str]  # pseudonym -> unit
    backend: str = "sqlite"


@pytest.fixture(scope="module", params=BACKENDS)
def rig(
    request: pytest.FixtureRequest,
    tiny_clean: Path,
    tiny_raw: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Rig]:
    """The app on SQLite and on PostgreSQL (which refuses NUL characters and NaN in JSON)."""
    tmp = tmp_path_factory.mktemp("fuzz")
    with fresh_database(request.param, tmp) as url:
        for rig in _rig(url, tiny_clean, tiny_raw, tmp):
            rig.backend = request.param
            yield rig


def _rig(url: str, tiny_clean: Path, tiny_raw: Path, tmp: Path) -> Iterator[Rig]:
    cfg = Settings(
        pseudonym_key=TEST_KEY,  # type: ignore[arg-type]
        data_dir=tiny_clean.parent,
        models_dir=tmp / "models",
        mlflow_tracking_uri=f"sqlite:///{tmp / 'mlruns.db'}",
        mlflow_artifact_root=str(tmp / "art"),
        database_url=url,
        rate_limit_per_key=0,
    )
    engine = make_engine(cfg.database_url)
    upgrade(engine)
    store = make_sessionmaker(engine)
    service = Service(cfg, build_world(cfg, AT), Models({}, {}), store)
    people = service.world.snap.people
    units = [str(u) for u in people["unit_id"].value_counts().index[:2]]
    raw = pd.read_parquet(tiny_raw / "employees.parquet")["nip"].astype(str)
    active = [n for n in raw if pseudonymise(n, TEST_KEY) in people.index]
    unit = {n: str(people.loc[pseudonymise(n, TEST_KEY), "unit_id"]) for n in active}
    nips = [n for u in units for n in [n for n in active if unit[n] == u][:4]]
    nips += [n for n in active if unit[n] not in units][:4]
    with store.begin() as session:
        keys = {
            "all": create_key(session, ["lms"]),
            "a": create_key(session, ["lms"], units=[units[0]]),
            "b": create_key(session, ["lms"], units=[units[1]]),
        }
    unit_of = {str(p): str(u) for p, u in people["unit_id"].items()}
    with TestClient(create_app(cfg, service)) as client:
        yield Rig(client, store, keys, {"a": units[0], "b": units[1]}, nips, unit_of)
    engine.dispose()


# -------------------------------------------------------------------------- strategies
ODD_TEXT = st.sampled_from(
    ["", " ", "\ud800", "a\udfffb", "\x00", "\u202eevil", "𝔘𝔫𝔦", "é", "\ufeff", "x" * 300]
)
TEXT = st.one_of(st.text(max_size=12), ODD_TEXT)
EDGE_TIMES = st.sampled_from(
    [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00:00-14:00",
        "1969-12-31T23:59:59Z",
        "2024-02-30T00:00:00Z",
        "2024-05-01T09:30:00+07:00",
        "2025-01-01T00:00:00",
        "2099-01-01T00:00:00Z",
        "20240501T093000Z",
    ]
)
TIMES = st.one_of(EDGE_TIMES, TEXT, st.integers(), st.none())
JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(),  # NaN and infinities included
    TEXT,
    st.just(DEEP),
)
JSON = st.recursive(
    JSON_LEAF,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=8,
)
IDS = [f"ev-{i}" for i in range(6)] + [str(uuid.UUID(int=i)) for i in range(1, 7)]
_FRESH = itertools.count(1000)
#: A new statement id on every draw (hypothesis would otherwise repeat its simplest UUIDs).
FRESH_UUIDS = st.builds(lambda: str(uuid.UUID(int=next(_FRESH))))


def _nip(rig_nips: list[str]) -> st.SearchStrategy[Any]:
    spelled = st.sampled_from(rig_nips).map(lambda n: f"{n[:8]} {n[8:14]} {n[14]} {n[15:]}")
    return st.one_of(st.sampled_from(rig_nips), spelled, TEXT, st.integers())


@st.composite
def simple_event(draw: st.DrawFn, nips: list[str]) -> dict[str, Any]:
    item: dict[str, Any] = {
        "type": draw(st.sampled_from(["impression", "click", "enrol", "complete", "dismiss", "x"])),
        "event_id": draw(st.one_of(st.sampled_from(IDS), TEXT, st.just("evt198501012010011001"))),
        "employee": draw(_nip(nips)),
        "program_id": draw(st.one_of(st.just("PL001"), st.just("https://l/programs/P9"), TEXT)),
        "time": draw(TIMES),
    }
    if draw(st.booleans()):
        item["score"] = draw(st.one_of(st.floats(), st.integers(), TEXT))
    if draw(st.booleans()):
        item[draw(TEXT)] = draw(JSON)
    return item


@st.composite
def statement(draw: st.DrawFn, nips: list[str]) -> dict[str, Any]:
    actor = draw(
        st.one_of(
            st.builds(lambda n: {"account": {"homePage": "https://l", "name": n}}, _nip(nips)),
            st.just({"mbox": "mailto:someone@example.com"}),
            JSON,
        )
    )
    verb = draw(st.one_of(st.sampled_from(VERBS), TEXT))
    obj = draw(
        st.one_of(
            st.builds(lambda i: {"objectType": "StatementRef", "id": i}, st.sampled_from(IDS)),
            st.just({"id": "https://l/programs/PL001"}),
            st.builds(lambda i: {"id": i}, TEXT),
            JSON,
        )
    )
    stmt: dict[str, Any] = {"actor": actor, "verb": {"id": verb}, "object": obj}
    if draw(st.booleans()):
        stmt["id"] = draw(st.one_of(st.sampled_from(IDS[6:]), TEXT))
    if draw(st.booleans()):
        stmt["timestamp"] = draw(TIMES)
    if draw(st.booleans()):
        key = draw(st.one_of(st.just("http://[::1"), st.just("https://l/request_id"), TEXT))
        stmt["context"] = {"extensions": {key: draw(JSON)}}
    if draw(st.booleans()):
        stmt["result"] = {
            "score": draw(st.dictionaries(st.sampled_from(["scaled", "raw", "min", "max"]), JSON)),
            "extensions": {"https://l/e": draw(JSON)},
        }
    return stmt


GOOD_TIMES = st.builds(
    lambda when, hours: (
        (when.replace(tzinfo=UTC) - timedelta(hours=hours))
        .astimezone(timezone(timedelta(hours=hours)))
        .isoformat()
    ),
    st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2026, 1, 1)),
    st.integers(min_value=-14, max_value=14),
)


@st.composite
def good_simple(draw: st.DrawFn, nips: list[str]) -> dict[str, Any]:
    return {
        "type": draw(st.sampled_from(["impression", "click", "enrol", "complete", "dismiss"])),
        "event_id": draw(st.one_of(st.sampled_from(IDS[:6]), FRESH_UUIDS, FRESH_UUIDS)),
        "employee": draw(st.sampled_from(nips)),
        "program_id": draw(st.sampled_from(["PL001", "PL002", "https://l/programs/PL003"])),
        "time": draw(GOOD_TIMES),
    }


@st.composite
def good_statement(draw: st.DrawFn, nips: list[str]) -> dict[str, Any]:
    verb = draw(st.sampled_from(VERBS))
    target = draw(st.sampled_from(IDS[6:]))
    stmt: dict[str, Any] = {
        "id": draw(st.one_of(st.sampled_from(IDS[6:]), FRESH_UUIDS, FRESH_UUIDS)),
        "actor": draw(
            st.one_of(
                st.builds(lambda n: {"account": {"homePage": "https://l", "name": n}}, _nip(nips)),
                st.just({"mbox": "mailto:someone@example.com"}),
            )
        ),
        "verb": {"id": verb},
        "object": {"objectType": "StatementRef", "id": target}
        if verb.endswith("voided")
        else {"id": "https://l/programs/PL001"},
        "timestamp": draw(GOOD_TIMES),
    }
    return stmt


@st.composite
def body(draw: st.DrawFn, nips: list[str]) -> tuple[str, Any, int]:
    """``(key name, body, nesting of the DEEP marker)``."""
    good = st.one_of(good_simple(nips), good_statement(nips))
    item = st.one_of(good, good, good, simple_event(nips), statement(nips), JSON)
    items = draw(st.lists(item, min_size=0, max_size=5))
    shape = draw(st.sampled_from(["array", "object", "other"]))
    sent: Any = items if shape == "array" else {"events": items}
    if shape == "other":
        sent = draw(JSON)
    key = draw(st.sampled_from(["all", "a", "b"]))
    return key, sent, draw(st.sampled_from([1, 2, 31, 40, 700, 5000]))


# -------------------------------------------------------------------------- the property
def _counts(rig: Rig, sender: str) -> tuple[int, int]:
    with rig.store() as session:
        stored = session.scalar(
            select(func.count()).select_from(Event).where(Event.sender == sender)
        )
        voided = session.scalar(select(func.count()).select_from(Event).where(Event.voided))
    return stored or 0, voided or 0


def _check_units(rig: Rig, key: str, sender: str) -> None:
    """No event stored by a unit key is about, or voided a row of, a person of another unit."""
    if key == "all":
        return
    with rig.store() as session:
        own = session.execute(
            select(Event.employee_id).where(Event.sender == sender, Event.employee_id.is_not(None))
        ).all()
        victims = session.execute(
            select(Event.employee_id, Event.sender)
            .where(Event.voided, Event.sender != sender, Event.employee_id.is_not(None))
            .where(Event.voided_by.in_(select(Event.event_id).where(Event.sender == sender)))
        ).all()
    unit = rig.units[key]
    assert all(rig.unit_of.get(e) == unit for (e,) in own)
    # a void from this key may only have hit another sender's row about a person of its unit
    assert all(rig.unit_of.get(e) == unit for e, _ in victims)


def _send(rig: Rig, key: str, sent: Any, levels: int) -> dict[str, Any]:
    text = json.dumps(sent)  # ensure_ascii: lone surrogates travel as \\udXXX escapes
    deep = "[" * levels + "]" * levels
    text = text.replace(json.dumps(DEEP), deep)
    sender = key_id_of(rig.keys[key])
    before, voided_before = _counts(rig, sender)
    r = rig.client.post(
        "/v1/events",
        content=text.encode(),
        headers={"X-API-Key": rig.keys[key], "Content-Type": "application/json"},
    )
    assert r.status_code < 500, (r.status_code, r.text[:500])
    answer = r.json()
    after, voided_after = _counts(rig, sender)
    for nip in rig.nips:
        assert nip not in r.text
    if r.status_code != 200:
        assert (after, voided_after) == (before, voided_before), r.text[:300]
        return {"status": r.status_code, "inserted": 0, "voided": 0, "errors": 0}
    assert after - before == answer["inserted"], answer
    assert answer["inserted"] + answer["duplicates"] == len(answer["results"])
    refused = {e["index"] for e in answer["errors"]}
    assert refused.isdisjoint(r_["index"] for r_ in answer["results"])
    assert len(refused) + len(answer["results"]) == answer["received"]
    assert voided_after - voided_before <= answer["inserted"]
    _check_units(rig, key, sender)
    return {
        "status": 200,
        "inserted": answer["inserted"],
        "voided": voided_after - voided_before,
        "errors": len(answer["errors"]),
    }


def _property(rig: Rig, examples: int) -> dict[str, int]:
    """Send ``examples`` generated bodies; totals of what they did (to show the generator
    reaches every path: stored items, voids, item errors, whole-body refusals)."""
    totals = {"bodies": 0, "ok": 0, "refused": 0, "inserted": 0, "voided": 0, "errors": 0}

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(body(rig.nips))
    def run(case: tuple[str, Any, int]) -> None:
        done = _send(rig, *case)
        totals["bodies"] += 1
        totals["ok" if done["status"] == 200 else "refused"] += 1
        for name in ("inserted", "voided", "errors"):
            totals[name] += done[name]

    run()
    return totals


def _assert_coverage(totals: dict[str, int], examples: int) -> None:
    assert totals["bodies"] >= examples * 0.9, totals
    assert totals["refused"] > examples // 50 and totals["errors"] > examples, totals
    # At least a tenth of the bodies store items: 23-28 % were seen (500 bodies), the share
    # moves with what earlier tests of the same worker left in Hypothesis' global state.
    assert totals["inserted"] > examples // 10 and totals["voided"] > 0, totals


def test_generated_event_bodies_never_fail_or_half_store(rig: Rig) -> None:
    _assert_coverage(_property(rig, 500), 500)


@pytest.mark.slow
def test_ten_thousand_generated_event_bodies(rig: Rig) -> None:
    if rig.backend != "sqlite":  # 10 minutes there; PostgreSQL gets the 500-body run
        pytest.skip("10,000 bodies run on SQLite only")
    _assert_coverage(_property(rig, 10_000), 10_000)
