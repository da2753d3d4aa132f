"""The application database on SQLite and PostgreSQL: migrations, API keys, events (idempotent,
concurrent replays, voiding), the recommendation log, reviews, no NIP anywhere, and the CLI."""

from __future__ import annotations

import hashlib
import re
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from recommender.config import get_settings
from recommender.store import db, keys, repo
from recommender.store.models import TABLES, ApiKey, Base, Event
from recommender.store.repo import NewEvent, PersonalDataError, RankedItem
from training.cli import app

NIP = "198501012010011001"
NIP_RUN = re.compile(r"\d{18}")
EMP = "e_abcdefghij234567"
OTHER = "e_zyxwvutsrq765432"
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
XAPI = "http://adlnet.gov/expapi/verbs/"


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Event)) or 0


def _simple(
    event_id: str, kind: str = "click", item: str = "P001", employee: str = EMP, **kw: Any
) -> NewEvent:
    return NewEvent(event_id, employee, kind, T0, item_id=item, **kw)


VERBS = {"complete": "completed", "pass": "passed", "fail": "failed", "void": "voided"}


def _xapi(event_id: str, kind: str, item: str | None = "P001", **kw: Any) -> NewEvent:
    verb = XAPI + VERBS[kind]
    return NewEvent(
        event_id,
        EMP,
        kind,
        T0,
        item_id=item,
        source="xapi",
        verb=verb,
        **({"raw": {"id": event_id, "verb": {"id": verb}, "actor": {"key": EMP}}} | kw),
    )


def _void(event_id: str, target: str) -> NewEvent:
    return _xapi(event_id, "void", item=target, item_kind="statement", voids=target)


# -- migrations -------------------------------------------------------------------------------


def test_upgrade_from_empty_creates_every_table_and_downgrades(empty_url: str) -> None:
    assert db.current_revision(empty_url) is None
    db.upgrade(empty_url)
    engine = db.make_engine(empty_url)
    try:
        assert set(TABLES) | {"alembic_version"} == set(inspect(engine).get_table_names())
        assert db.current_revision(engine) == db.head_revision()
        db.upgrade(engine)  # at head: nothing to do
        db.downgrade(engine)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        db.upgrade(engine)
        assert set(TABLES) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migration_0004_keeps_every_event_as_legacy(empty_url: str) -> None:
    db.upgrade(empty_url, "0003")
    engine = db.make_engine(empty_url)
    try:
        columns = [
            "event_id", "actor_key", "employee_id", "type", "occurred_at", "received_at",
            "source", "voided", "item_kind", "item_id",
        ]  # fmt: skip
        with engine.begin() as conn:
            for i in range(3):
                conn.exec_driver_sql(
                    f"INSERT INTO events ({', '.join(columns)}) VALUES "
                    f"('old-{i}', '{EMP}', '{EMP}', 'complete', '2025-03-01 08:00:00+00:00', "
                    "'2025-03-01 08:00:00+00:00', 'simple', false, 'program', 'P001')"
                )
        db.upgrade(engine)
        factory = db.make_sessionmaker(engine)
        with factory() as s:
            rows = s.scalars(select(Event).order_by(Event.event_id)).all()
            assert [(r.event_id, r.sender) for r in rows] == [
                (f"old-{i}", "legacy") for i in range(3)
            ]
            assert repo.completed_programs(s, EMP) == {"P001"}
        with factory.begin() as s:  # a replay from tools (legacy) is still a duplicate
            assert [r.status for r in repo.add_events(s, [_simple("old-0", "complete")])] == [
                "duplicate"
            ]
            assert repo.add_events(s, [_simple("old-0")], sender="k_other")[0].status == "inserted"
    finally:
        engine.dispose()


def test_models_match_the_migrations(engine: Engine) -> None:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, Base.metadata) == []


def test_sqlite_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path}/sub/dir/x.db")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_plain_postgresql_urls_use_psycopg() -> None:
    assert db.normalise_url("postgres://u:pw@h/d").drivername == "postgresql+psycopg"
    assert db.display_url("postgresql://u:secret@h/d") == "postgresql+psycopg://u:***@h/d"


# -- API keys ---------------------------------------------------------------------------------


def test_key_create_verify_revoke_and_only_the_hash_is_stored(
    factory: sessionmaker[Session],
) -> None:
    with factory.begin() as s:
        lms = keys.create_key(s, ["lms"], ["UNIT-A", "UNIT-B", "UNIT-A"], "Moodle")
        admin = keys.create_key(s, ["admin", "lms"])
    assert re.fullmatch(r"jk_[A-Za-z0-9_-]{43}", lms)
    with factory.begin() as s:
        info = keys.verify(s, lms)
        assert info is not None
        assert info.scopes == {"lms"} and info.units == {"UNIT-A", "UNIT-B"}
        assert info.key_id == keys.key_id_of(lms) and info.label == "Moodle"
        assert info.allows_unit("UNIT-A") and not info.allows_unit("UNIT-C")
        assert not info.allows_unit(None) and not info.has_scope("admin")
        full = keys.verify(s, admin)
        assert full is not None and full.units is None and full.allows_unit("ANY")
        assert full.scopes == {"admin", "lms"}
        wrong = lms[:-1] + ("A" if lms[-1] != "A" else "B")  # same prefix, other secret
        for bad in (wrong, "", None, "jk_", "not-a-key", lms + "x"):
            assert keys.verify(s, bad) is None
        rows = s.scalars(select(ApiKey)).all()
        stored = {r.key_id: r for r in rows}
        row = stored[keys.key_id_of(lms)]
        assert row.key_hash == hashlib.sha256(lms.encode()).hexdigest()
        assert row.units == ["UNIT-A", "UNIT-B"] and row.scopes == ["lms"]
        for r in rows:  # the secret part is in no column
            values = " ".join(str(getattr(r, c.key)) for c in ApiKey.__table__.columns)
            assert lms[12:] not in values and admin[12:] not in values
    with factory.begin() as s:
        assert keys.revoke(s, keys.key_id_of(lms))
        assert not keys.revoke(s, keys.key_id_of(lms))
        assert not keys.revoke(s, "k_unknown")
    with factory.begin() as s:
        assert keys.verify(s, lms) is None
        assert keys.verify(s, admin) is not None
        listed = {k.key_id: k for k in keys.list_keys(s)}
        assert not listed[keys.key_id_of(lms)].active and listed[keys.key_id_of(admin)].active
        assert [k.key_id for k in keys.list_keys(s, include_revoked=False)] == [
            keys.key_id_of(admin)
        ]


@pytest.mark.parametrize("scopes", [[], ["owner"], ["lms", "root"]])
def test_key_scopes_are_checked(factory: sessionmaker[Session], scopes: list[str]) -> None:
    with factory.begin() as s, pytest.raises(ValueError, match="scope"):
        keys.create_key(s, scopes)


# -- events -----------------------------------------------------------------------------------


def test_replaying_a_batch_changes_nothing(factory: sessionmaker[Session]) -> None:
    batch = [
        _simple("ev-1", "impression", request_id="req-1"),
        _simple("ev-2", "click", request_id="req-1"),
        _simple("ev-2", "click", request_id="req-1"),  # repeated inside the batch
        _simple("ev-3", "enrol"),
        _xapi("st-1", "complete", score=0.9, success=True, completion=True),
    ]
    with factory.begin() as s:
        first = repo.add_events(s, batch)
    assert [r.status for r in first] == [
        "inserted",
        "inserted",
        "duplicate",
        "inserted",
        "inserted",
    ]
    with factory.begin() as s:
        before = {e.event_id: (e.received_at, e.type, e.raw) for e in repo.events_for(s, EMP)}
    with factory.begin() as s:
        again = repo.add_events(s, batch)
        assert {r.status for r in again} == {"duplicate"}
        assert [r.event_id for r in again] == [e.event_id for e in batch]
        assert _count(s) == 4
        after = {e.event_id: (e.received_at, e.type, e.raw) for e in repo.events_for(s, EMP)}
    assert after == before
    assert after["st-1"][2] == batch[4].raw


def test_concurrent_replays_insert_once(factory: sessionmaker[Session]) -> None:
    batch = [_simple(f"ev-{i:04d}", "impression", item=f"P{i % 40:03d}") for i in range(300)]
    statuses: list[list[str]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def replay(events: list[NewEvent]) -> None:
        try:
            barrier.wait(timeout=10)
            with factory.begin() as s:
                statuses.append([r.status for r in repo.add_events(s, events)])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=replay, args=(batch,)),
        threading.Thread(target=replay, args=(batch[::-1],)),  # other order: no deadlock
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(statuses) == 2
    assert statuses[0].count("inserted") + statuses[1].count("inserted") == 300
    with factory.begin() as s:
        assert _count(s) == 300


def test_voiding_in_either_order_and_completed_programs(factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        repo.add_events(
            s,
            [
                _simple("c-1", "complete", item="P001"),
                _xapi("x-1", "complete", item="P002"),
                _xapi("x-2", "pass", item="P003"),
                _xapi("x-3", "complete", item="P004"),
                _xapi("x-4", "fail", item="P005"),
                _simple("c-2", "click", item="P006"),
                _simple("c-3", "complete", item="J01", item_kind="position"),
                _simple("c-4", "complete", item="P007", employee=OTHER),
            ],
        )
        assert repo.completed_programs(s, EMP) == {"P001", "P002", "P003", "P004"}
    with factory.begin() as s:  # void x-3; then a voiding statement that arrives before x-9
        res = repo.add_events(
            s,
            [_void("v-1", "x-3"), _void("v-2", "x-9")],
        )
        assert [r.status for r in res] == ["inserted", "inserted"]
    with factory.begin() as s:
        repo.add_events(s, [_xapi("x-9", "complete", item="P009")])
    with factory.begin() as s:
        assert repo.completed_programs(s, EMP) == {"P001", "P002", "P003"}
        shown = {e.event_id for e in repo.events_for(s, EMP)}
        assert "x-3" not in shown and "x-9" not in shown
        every = {e.event_id: e for e in repo.events_for(s, EMP, include_voided=True)}
        assert every["x-3"].voided and every["x-3"].voided_by == "v-1"
        assert every["x-9"].voided and every["x-9"].voided_by == "v-2"
        assert not every["v-1"].voided
        # a voiding statement cannot be voided; unknown and already voided: no change
        assert not repo.void_event(s, event_id="v-1", voided_by="v-3")
        assert not repo.void_event(s, event_id="nope", voided_by="v-3")
        assert not repo.void_event(s, event_id="x-3", voided_by="v-3")
        assert repo.void_event(s, event_id="c-1", voided_by="admin-fix")
    with factory.begin() as s:  # replaying the voiding changes nothing
        assert {r.status for r in repo.add_events(s, [_void("v-1", "x-2")])} == {"duplicate"}
        assert repo.completed_programs(s, EMP) == {"P002", "P003"}
        assert repo.completed_programs(s, OTHER) == {"P007"}
        every_completion = set(repo.program_completions(s))
        assert every_completion == {(EMP, "P002"), (EMP, "P003"), (OTHER, "P007")}
        assert repo.program_completions(s, since=T0 + timedelta(seconds=1)) == []
        assert set(repo.program_completions(s, since=T0, until=T0 + timedelta(days=1))) == (
            every_completion
        )


def test_event_ids_are_per_sender_and_voids_stay_with_their_sender(
    factory: sessionmaker[Session],
) -> None:
    with factory.begin() as s:
        a = repo.add_events(s, [_xapi("same", "complete", item="P001")], sender="k_a")
        b = repo.add_events(s, [_simple("same", "click", employee=OTHER)], sender="k_b")
        assert [r.status for r in a + b] == ["inserted", "inserted"]
        again = repo.add_events(s, [_simple("same", "click", employee=OTHER)], sender="k_b")
        assert [r.status for r in again] == ["duplicate"]
        # a void names the sender's own event first: k_b's void leaves k_a's completion alone
        repo.add_events(s, [_void("v-b", "same")], sender="k_b")
        rows = {r.sender: r for r in s.scalars(select(Event).where(Event.event_id == "same"))}
        assert rows["k_b"].voided and not rows["k_a"].voided
        assert [r.sender for r in repo.void_targets(s, event_id="same", sender="k_c")] == [
            "k_a",
            "k_b",
        ]
        # a void stored ahead of its target voids only the same sender's later event
        repo.add_events(s, [_void("v-a", "later")], sender="k_a")
        repo.add_events(s, [_xapi("later", "complete", item="P002")], sender="k_b")
        repo.add_events(s, [_xapi("later", "complete", item="P002")], sender="k_a")
        late = {
            r.sender: r.voided for r in s.scalars(select(Event).where(Event.event_id == "later"))
        }
        assert late == {"k_a": True, "k_b": False}
        with pytest.raises(ValueError, match="sender"):
            repo.add_events(s, [_simple("x")], sender="")


@pytest.mark.parametrize(
    "event",
    [
        NewEvent("e1", EMP, "bought", T0, item_id="P1"),
        NewEvent("e1", EMP, "click", T0, item_id="P1", source="csv"),
        NewEvent("e1", EMP, "click", T0, item_id="P1", item_kind="course"),
        NewEvent("", EMP, "click", T0, item_id="P1"),
        NewEvent("e1", "", "click", T0, item_id="P1"),
        NewEvent("e1", None, "click", T0, item_id="P1", actor_key="a_abc"),
        NewEvent("e1", None, "other", T0, item_id="P1", source="xapi"),
        NewEvent("e1", EMP, "completed", T0, item_id="P1", source="xapi"),
        NewEvent("e1", EMP, "click", T0, item_id="P1", voids="e0"),
        NewEvent("e1", EMP, "void", T0, source="xapi"),
        NewEvent("e1", EMP, "score", T0, item_id="P1", source="xapi", score=float("nan")),
    ],
    ids=[
        "type",
        "source",
        "kind",
        "no-id",
        "empty-employee",
        "simple-without-employee",
        "no-actor",
        "xapi-type",
        "voids-on-click",
        "void-without-target",
        "nan-score",
    ],
)
def test_an_invalid_event_writes_nothing(factory: sessionmaker[Session], event: NewEvent) -> None:
    with factory.begin() as s:
        with pytest.raises(ValueError):
            repo.add_events(s, [_simple("ok-1"), event])
        assert _count(s) == 0


# -- recommendation log and reviews ----------------------------------------------------------


def test_recommendation_log_round_trip(factory: sessionmaker[Session]) -> None:
    wib = timezone(timedelta(hours=7))
    with factory.begin() as s:
        repo.log_recommendation(
            s,
            request_id="req-a",
            employee_id=EMP,
            model_name="jenjang-programs",
            model_version="3",
            endpoint="/v1/employees/{id}/programs",
            items=[
                RankedItem("P010", 0.91, ("gap:K01", "prioritas")),
                {"item_id": "P002", "score": 0.5, "reasons": ["populer"]},
            ],
            language="en",
            created_at=datetime(2025, 3, 1, 15, 0, tzinfo=wib),
        )
        repo.log_recommendation(
            s,
            request_id="req-b",
            employee_id=EMP,
            model_name="jenjang-careers",
            model_version="1",
            endpoint="/v1/employees/{id}/positions",
            items=[],
        )
    with factory.begin() as s:
        row = repo.get_recommendation(s, "req-a")
        assert row is not None
        assert row.items == [
            {"item_id": "P010", "score": 0.91, "reasons": ["gap:K01", "prioritas"]},
            {"item_id": "P002", "score": 0.5, "reasons": ["populer"]},
        ]
        assert (row.model_name, row.model_version, row.language) == ("jenjang-programs", "3", "en")
        assert row.created_at == datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
        assert row.created_at.tzinfo is not None
        assert [r.request_id for r in repo.recommendations_for(s, EMP)] == ["req-b", "req-a"]
        assert repo.get_recommendation(s, "req-x") is None
    with pytest.raises(IntegrityError), factory.begin() as s:
        repo.log_recommendation(
            s,
            request_id="req-a",
            employee_id=EMP,
            model_name="m",
            model_version="1",
            endpoint="/x",
            items=[],
        )


def test_review_round_trip(factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        ok = repo.add_review(
            s,
            employee_id=EMP,
            item_kind="program",
            item_id="P010",
            decision="approve",
            reason="sesuai rencana pengembangan",
            reviewer="hr_rina",
            request_id="req-a",
            created_at=T0,
        )
        repo.add_review(
            s,
            employee_id=EMP,
            item_kind="position",
            item_id="J07",
            decision="replace",
            replacement_id="J09",
            reason="formasi J07 sudah terisi",
            reviewer="hr_rina",
            created_at=T0 + timedelta(days=1),
        )
        with pytest.raises(ValueError, match="replacement_id"):
            repo.add_review(
                s,
                employee_id=EMP,
                item_kind="program",
                item_id="P1",
                decision="replace",
                reason="x",
                reviewer="hr",
            )
        with pytest.raises(ValueError, match="decision"):
            repo.add_review(
                s,
                employee_id=EMP,
                item_kind="program",
                item_id="P1",
                decision="maybe",
                reason="x",
                reviewer="hr",
            )
        with pytest.raises(ValueError, match="reason"):
            repo.add_review(
                s,
                employee_id=EMP,
                item_kind="program",
                item_id="P1",
                decision="reject",
                reason="  ",
                reviewer="hr",
            )
    with factory.begin() as s:
        got = repo.reviews_for(s, EMP)
        assert [r.decision for r in got] == ["approve", "replace"]
        assert got[0].review_id == ok.review_id and got[0].request_id == "req-a"
        assert got[1].replacement_id == "J09" and got[1].request_id is None
        assert got[1].created_at == T0 + timedelta(days=1)


# -- personal data ----------------------------------------------------------------------------


def test_no_column_is_named_like_a_nip(engine: Engine) -> None:
    found = inspect(engine)
    for table in TABLES:
        for column in found.get_columns(table):
            assert "nip" not in column["name"].lower(), (table, column["name"])
    for table in Base.metadata.tables.values():
        assert not [c.name for c in table.columns if "nip" in c.name.lower()]


def _dump(session: Session) -> str:
    return "\n".join(
        str(tuple(row))
        for table in TABLES
        for row in session.execute(Base.metadata.tables[table].select())
    )


@pytest.mark.parametrize("nip", [NIP, "19850101 201001 1 001", "19850101.201001.1.001"])
def test_a_nip_is_never_stored(factory: sessionmaker[Session], nip: str) -> None:
    attempts = [
        lambda s: repo.add_events(s, [_simple("n-1", employee=nip)]),
        lambda s: repo.add_events(s, [_simple("n-2", actor_key=nip)]),
        lambda s: repo.add_events(s, [_simple(f"n-{NIP}")]),
        lambda s: repo.add_events(s, [_simple("n-3", request_id=NIP)]),
        lambda s: repo.log_recommendation(
            s,
            request_id="r-1",
            employee_id=nip,
            model_name="m",
            model_version="1",
            endpoint="/x",
            items=[],
        ),
        lambda s: repo.add_review(
            s,
            employee_id=nip,
            item_kind="program",
            item_id="P1",
            decision="approve",
            reason="ok",
            reviewer="hr",
        ),
        lambda s: repo.add_review(
            s,
            employee_id=EMP,
            item_kind="program",
            item_id="P1",
            decision="reject",
            reason=f"pegawai {nip} sudah pensiun",
            reviewer="hr",
        ),
    ]
    for attempt in attempts:
        with factory.begin() as s, pytest.raises(PersonalDataError) as caught:
            attempt(s)
        assert nip not in str(caught.value)
    free_text = {
        "actor": {"account": {"name": NIP}},
        "result": {"response": f"NIP saya {nip}, terima kasih", "extensions": {"x": int(NIP)}},
        "id": "1f6c7a52-2a3e-4c2e-9d55-012345678901",  # digits joined by hyphens: not a NIP
    }
    with factory.begin() as s:  # free text of a raw statement is masked, the rest kept
        res = repo.add_events(
            s, [_xapi("fine-1", "complete"), _xapi("raw-1", "pass", raw=free_text)]
        )
        assert [r.status for r in res] == ["inserted", "inserted"]
    with factory.begin() as s:
        raw = {e.event_id: e.raw for e in repo.events_for(s, EMP)}["raw-1"]
        assert raw == {
            "actor": {"account": {"name": "[masked]"}},
            "result": {
                "response": "NIP saya [masked], terima kasih",
                "extensions": {"x": "[masked]"},
            },
            "id": "1f6c7a52-2a3e-4c2e-9d55-012345678901",
        }
        dump = _dump(s)
    assert "fine-1" in dump
    assert not NIP_RUN.search(re.sub(r"[ .]", "", dump))


def test_events_of_actors_that_are_not_employees(factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        repo.add_events(
            s,
            [
                NewEvent(
                    "g-1",
                    None,
                    "complete",
                    T0,
                    source="xapi",
                    actor_key="a_q2w3e4r5t6y7u2i3",
                    item_kind="activity",
                    item_id="https://lms.example.go.id/activities/" + "x" * 1500,
                    verb=XAPI + "completed",
                ),
                _simple("g-2", "enrol", position_id="J07"),
            ],
        )
    with factory.begin() as s:
        rows = {e.event_id: e for e in s.scalars(select(Event))}
        assert rows["g-1"].employee_id is None and rows["g-1"].actor_key == "a_q2w3e4r5t6y7u2i3"
        assert len(rows["g-1"].item_id or "") > 1500
        assert rows["g-2"].actor_key == EMP and rows["g-2"].position_id == "J07"
        assert [e.event_id for e in repo.events_for(s, EMP)] == ["g-2"]
        assert repo.completed_programs(s, EMP) == set()


def test_batches_parsed_by_the_events_module_store_as_they_are(
    factory: sessionmaker[Session],
) -> None:
    from recommender import events as lms
    from recommender.pseudonym import pseudonymise
    from tests.conftest import TEST_KEY

    ids = lms.identity_functions(TEST_KEY)
    me = pseudonymise(NIP, TEST_KEY)
    account = {"homePage": "https://lms.example.go.id", "name": "19850101 201001 1 001"}
    statement_id = "1f6c7a52-2a3e-4c2e-9d55-0e4f3a1b2c3d"
    items = [
        {
            "type": "complete",
            "event_id": "evt-1",
            "employee": NIP,
            "program_id": "PL001",
            "time": "2024-05-01T09:30:00+07:00",
        },
        {
            "id": statement_id,
            "actor": {"objectType": "Agent", "name": "Budi Santoso", "account": account},
            "verb": {"id": XAPI + "passed"},
            "object": {"id": "https://lms.example.go.id/programs/PL002"},
            "result": {"score": {"scaled": 0.8}, "success": True, "response": f"NIP {NIP}"},
            "timestamp": "2024-05-02T10:00:00Z",
        },
    ]
    parsed = lms.parse_batch(items, ids.pseudonymise, datetime.now(UTC), hash_ifi=ids.hash_ifi)
    assert not parsed.errors
    batch: list[NewEvent] = list(parsed.events)  # the one event record: stored as parsed
    with factory.begin() as s:
        assert [r.status for r in repo.add_events(s, batch)] == ["inserted", "inserted"]
        assert repo.completed_programs(s, me) == {"PL001", "PL002"}
        stored = {e.event_id: e for e in repo.events_for(s, me)}[statement_id]
        assert stored.score == 0.8 and stored.success is True and stored.type == "pass"
        assert NIP not in str(stored.raw) and "Budi" not in str(stored.raw)
    void = {
        "actor": {"objectType": "Agent", "account": account},
        "verb": {"id": XAPI + "voided"},
        "object": {"objectType": "StatementRef", "id": statement_id},
    }
    voiding = lms.parse_batch([void], ids.pseudonymise, datetime.now(UTC), hash_ifi=ids.hash_ifi)
    with factory.begin() as s:
        repo.add_events(s, voiding.events)
        assert repo.completed_programs(s, me) == {"PL001"}


# -- command line -----------------------------------------------------------------------------


def test_cli_keys_create_list_revoke(migrated_url: str, engine: Engine) -> None:
    runner = CliRunner()
    made = runner.invoke(
        app,
        [
            "keys",
            "create",
            "--scope",
            "lms",
            "--unit",
            "UNIT-A",
            "--label",
            "LMS",
            "--url",
            migrated_url,
        ],
    )
    assert made.exit_code == 0, made.output
    lines = made.stdout.strip().splitlines()
    key = lines[-1]
    assert re.fullmatch(r"jk_[A-Za-z0-9_-]{43}", key)
    assert len(lines) > 1 and key not in "\n".join(lines[:-1])
    with db.make_sessionmaker(engine).begin() as s:
        info = keys.verify(s, key)
    assert info is not None and info.scopes == {"lms"} and info.units == {"UNIT-A"}

    listed = runner.invoke(app, ["keys", "list", "--url", migrated_url])
    assert listed.exit_code == 0, listed.output
    assert keys.key_id_of(key) in listed.output
    assert key not in listed.output and key[12:] not in listed.output
    as_json = runner.invoke(app, ["keys", "list", "--json", "--url", migrated_url])
    assert key[12:] not in as_json.output and '"units": ["UNIT-A"]' in as_json.output

    revoked = runner.invoke(app, ["keys", "revoke", keys.key_id_of(key), "--url", migrated_url])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    with db.make_sessionmaker(engine).begin() as s:
        assert keys.verify(s, key) is None
    unknown = runner.invoke(app, ["keys", "revoke", "k_000000000000", "--url", migrated_url])
    assert unknown.exit_code == 2 and "no API key" in unknown.output


def test_cli_bad_scope_exits_2(migrated_url: str, engine: Engine) -> None:
    result = CliRunner().invoke(app, ["keys", "create", "--scope", "owner", "--url", migrated_url])
    assert result.exit_code == 2
    assert "unknown scope owner" in result.output and "lms or admin" in result.output
    missing = CliRunner().invoke(app, ["keys", "create", "--url", migrated_url])
    assert missing.exit_code == 2


def test_cli_db_upgrade_uses_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path}/app/jenjang.db"
    monkeypatch.setenv("JENJANG_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        early = runner.invoke(app, ["keys", "list"])
        assert early.exit_code == 2 and "jenjang db upgrade" in early.output
        up = runner.invoke(app, ["db", "upgrade"])
        assert up.exit_code == 0, up.output
        assert f"revision {db.head_revision()}" in up.output
        assert db.current_revision(url) == db.head_revision()
        again = runner.invoke(app, ["db", "upgrade"])
        assert again.exit_code == 0 and "already at" in again.output
        made = runner.invoke(app, ["keys", "create", "--scope", "admin"])
        assert made.exit_code == 0
        assert made.stdout.strip().splitlines()[-1].startswith("jk_")
        empty = runner.invoke(app, ["keys", "list"])
        assert empty.exit_code == 0 and "admin" in empty.output
    finally:
        get_settings.cache_clear()
