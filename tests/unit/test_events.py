"""Tests for recommender.events: simple events and xAPI statements, ids, voids, privacy."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from recommender import events as ev
from recommender.pseudonym import pseudonymise as pseudonymise_nip
from tests.conftest import TEST_KEY, require_shared

#: ``shared/`` lies beside the repository.
SPEC_EXAMPLES = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "data"
    / "external"
    / "xapi"
    / "spec_examples.json"
)
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
NIP = "198501012010011001"
NIP_SPELLED = "19850101 201001 1 001"
OTHER_NIP = "199003152015032002"
IDS = ev.identity_functions(TEST_KEY)
PSEUDONYM = pseudonymise_nip(NIP, TEST_KEY)
PROGRAM_IRI = "https://lms.example.go.id/programs/PL001"


def parse(items: list[Any], **kwargs: Any) -> ev.BatchResult:
    return ev.parse_batch(items, IDS.pseudonymise, NOW, hash_ifi=IDS.hash_ifi, **kwargs)


def simple(**overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "type": "complete",
        "event_id": "evt-1",
        "request_id": "req-9",
        "employee": NIP_SPELLED,
        "program_id": "PL001",
        "time": "2024-05-01T09:30:00+07:00",
    }
    item.update(overrides)
    return {k: v for k, v in item.items() if v is not None}


def completed(**overrides: Any) -> dict[str, Any]:
    stmt: dict[str, Any] = {
        "id": "1f6c7a52-2a3e-4c2e-9d55-0e4f3a1b2c3d",
        "actor": {
            "objectType": "Agent",
            "name": "Budi Santoso",
            "account": {"homePage": "https://lms.example.go.id", "name": NIP_SPELLED},
        },
        "verb": {
            "id": "http://adlnet.gov/expapi/verbs/completed",
            "display": {"en-US": "completed"},
        },
        "object": {"objectType": "Activity", "id": PROGRAM_IRI},
        "result": {"score": {"raw": 80, "min": 0, "max": 100}, "completion": True},
        "context": {
            "extensions": {"https://lms.example.go.id/xapi/extensions/request_id": "req-42"}
        },
        "timestamp": "2024-05-20T10:00:00+07:00",
    }
    stmt.update(overrides)
    return {k: v for k, v in stmt.items() if v is not None}


def assert_no_nip(text: str, *nips: str) -> None:
    """No NIP, no 10-digit piece of one in any run of digits and separators, no 18-digit run."""
    runs = [re.sub(r"\D", "", run) for run in re.findall(r"[\d .\-']+", text)]
    for nip in nips:
        assert nip not in text
        digits = re.sub(r"\D", "", nip)
        for i in range(len(digits) - 10 + 1):
            assert not any(digits[i : i + 10] in run for run in runs), digits[i : i + 10]
    assert not re.search(r"\d(?:[ .\-']?\d){17}", text), "an 18-digit run survives"


# --------------------------------------------------------------------------------------------
# The xAPI specification's examples
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spec_examples() -> list[dict[str, Any]]:
    examples: list[dict[str, Any]] = json.loads(require_shared(SPEC_EXAMPLES).read_text())
    return examples


def test_every_spec_example_is_accepted(spec_examples: list[dict[str, Any]]) -> None:
    for i, stmt in enumerate(spec_examples):
        result = parse([stmt])
        assert not result.errors, f"example {i}: {result.errors}"
        assert len(result.events) == 1, f"example {i}"
        event = result.events[0]
        assert event.source == "xapi", f"example {i}"
        assert event.verb == stmt["verb"]["id"], f"example {i}"
        assert event.actor_key.startswith(ev.ACTOR_PREFIX), f"example {i}"
        assert event.employee_id is None, f"example {i}: no example actor is a NIP"
        assert event.occurred_at.tzinfo is not None, f"example {i}"
    whole = parse(spec_examples)
    assert not whole.errors
    assert len(whole.events) == len(spec_examples) == 9


def test_spec_examples_keep_no_personal_data(spec_examples: list[dict[str, Any]]) -> None:
    text = parse(spec_examples).model_dump_json()
    for secret in (
        "@",
        "mailto",
        "ebd31e95054c018b10727ccffd2ef2ec3a016ee9",  # mbox_sha1sum
        "toby.openid",
        "13936749",  # account name
        "Andrew Downes",
        "Example Learner",
        "Team PB",
    ):
        assert secret not in text, secret
    # what is not about people is kept as sent
    assert "We agreed on some example actions." in text
    assert "http://www.example.com/meetings/series/267" in text


def test_spec_example_kinds_and_types(spec_examples: list[dict[str, Any]]) -> None:
    events = parse(spec_examples).events
    assert [e.type for e in events] == ["void"] + ["other"] * 8  # unused verbs stored as "other"
    assert [e.item_kind for e in events] == [
        "statement",
        "activity",
        "statement",
        "substatement",
        "activity",
        "activity",
        "statement",
        "activity",
        "activity",
    ]
    attempted = events[4]
    assert (attempted.score, attempted.success, attempted.completion) == (0.95, True, True)
    assert attempted.occurred_at == datetime(2015, 12, 18, 12, 17, tzinfo=UTC)
    assert events[0].occurred_at == NOW  # no timestamp, no stored: the time of receipt
    # a Group and its member share keys with the same people elsewhere in the statement
    raw = events[5].raw
    assert raw is not None
    assert raw["context"]["instructor"]["key"] == raw["actor"]["member"][0]["key"]
    assert raw["context"]["team"]["key"] == raw["actor"]["key"] == events[5].actor_key
    # examples 7 and 8 share an id (the second adds an attachment): a replay for the store
    assert events[7].event_id == events[8].event_id == "33cff416-e331-4c9d-969e-5373a1756120"


def test_voided_statement_voids_the_named_id(spec_examples: list[dict[str, Any]]) -> None:
    event = parse([spec_examples[0]]).events[0]
    assert event.type == "void"
    assert event.voids == "e05aa883-acaf-40ad-bf54-02c8ce485fb0"
    stmt = copy.deepcopy(spec_examples[0])
    stmt["object"]["id"] = stmt["object"]["id"].upper()
    assert parse([stmt]).events[0].voids == "e05aa883-acaf-40ad-bf54-02c8ce485fb0"


def test_voiding_needs_a_statement_ref() -> None:
    stmt = completed(verb={"id": ev.VOIDED})
    result = parse([stmt])
    assert not result.events
    assert [(e.index, e.field) for e in result.errors] == [(0, "object.objectType")]


# --------------------------------------------------------------------------------------------
# Ids
# --------------------------------------------------------------------------------------------


def test_statement_without_id_gets_a_stable_uuid5() -> None:
    stmt = completed(id=None)
    first = parse([stmt]).events[0].event_id
    again = parse([json.loads(json.dumps(stmt))]).events[0].event_id
    reordered = dict(reversed(list(stmt.items())))
    other_key = ev.parse_batch(
        [reordered],
        ev.identity_functions("another-key-" + "x" * 32).pseudonymise,
        NOW + timedelta(days=3),
        hash_ifi=ev.identity_functions("another-key-" + "x" * 32).hash_ifi,
    )
    assert first == again == other_key.events[0].event_id
    assert uuid.UUID(first).version == 5
    changed = completed(id=None, timestamp="2024-05-20T10:00:01+07:00")
    assert parse([changed]).events[0].event_id != first


def test_statement_id_is_canonical_and_checked() -> None:
    event = parse([completed(id="1F6C7A52-2A3E-4C2E-9D55-0E4F3A1B2C3D")]).events[0]
    assert event.event_id == "1f6c7a52-2a3e-4c2e-9d55-0e4f3a1b2c3d"
    result = parse([completed(id="not-a-uuid")])
    assert [(e.index, e.field, e.event_id) for e in result.errors] == [(0, "id", None)]


# --------------------------------------------------------------------------------------------
# A completed statement for a programme
# --------------------------------------------------------------------------------------------


def test_completed_statement_maps_nip_and_program() -> None:
    seen: list[str] = []

    def pseudonymise(identifier: str) -> str | None:
        seen.append(identifier)
        return "e_fromcallable" if identifier == NIP_SPELLED else None

    result = ev.parse_batch([completed()], pseudonymise, NOW, hash_ifi=IDS.hash_ifi)
    assert not result.errors
    event = result.events[0]
    assert seen == [NIP_SPELLED]
    assert event.employee_id == event.actor_key == "e_fromcallable"
    assert (event.type, event.item_kind, event.item_id, event.program_id) == (
        "complete",
        "program",
        "PL001",
        "PL001",
    )
    assert event.request_id == "req-42"
    assert event.score == pytest.approx(0.8)
    assert event.completion is True
    assert event.occurred_at == datetime(2024, 5, 20, 3, 0, tzinfo=UTC)
    assert event.raw is not None
    assert event.raw["actor"] == {"objectType": "Agent", "key": "e_fromcallable"}


def test_identity_functions_match_ingest_pseudonyms() -> None:
    assert IDS.pseudonymise(NIP_SPELLED) == IDS.pseudonymise("1985.0101.201001.1.001") == PSEUDONYM
    assert IDS.pseudonymise("13936749") is None
    assert IDS.pseudonymise("198501012010013001") is None  # sex digit 3
    assert IDS.hash_ifi("mbox:mailto:a@b.c").startswith("a_")
    assert IDS.hash_ifi("mbox:mailto:a@b.c") != ev.identity_functions("k" * 32).hash_ifi(
        "mbox:mailto:a@b.c"
    )
    assert parse([completed()]).events[0].employee_id == PSEUDONYM


@pytest.mark.parametrize(
    ("iri", "kind", "item_id"),
    [
        ("https://lms.example.go.id/programs/PL001", "program", "PL001"),
        ("https://lms.example.go.id/programs/PL001/", "program", "PL001"),
        ("http://other-lms.id/api/v2/programs/PL%20007", "program", "PL 007"),
        ("https://lms.example.go.id/programs/PL001/modules/2", "activity", None),
        ("https://lms.example.go.id/programs/PL001?attempt=2", "activity", None),
        ("https://lms.example.go.id/courses/PL001", "activity", None),
    ],
)
def test_program_iri_convention(iri: str, kind: str, item_id: str | None) -> None:
    event = parse([completed(object={"id": iri})]).events[0]
    assert event.item_kind == kind
    assert event.item_id == (item_id if item_id is not None else iri)


def test_verbs_map_to_types() -> None:
    verbs = {"completed": "complete", "passed": "pass", "failed": "fail", "scored": "score"}
    verbs |= {"registered": "enrol", "attempted": "other", "launched": "other"}
    for verb, expected in verbs.items():
        stmt = completed(verb={"id": ev.ADL_VERBS + verb}, id=None)
        assert parse([stmt]).events[0].type == expected, verb
    assert parse([completed(verb={"id": "https://w3id.org/xapi/x/verbs/y"})]).events[0].type == (
        "other"
    )


def test_non_nip_actors_are_hashed_not_kept() -> None:
    stmt = completed(actor={"mbox": "mailto:budi@kemnaker.go.id", "name": "Budi"})
    event = parse([stmt]).events[0]
    assert event.employee_id is None
    assert event.actor_key == IDS.hash_ifi("mbox:mailto:budi@kemnaker.go.id")
    assert "budi" not in json.dumps(dataclasses.asdict(event), default=str).lower()


def test_anonymous_group_key_ignores_member_order() -> None:
    members = [{"mbox": "mailto:a@x.id"}, {"openid": "https://id.example/b"}]
    one = parse([completed(actor={"objectType": "Group", "member": members})]).events[0]
    two = parse([completed(actor={"objectType": "Group", "member": members[::-1]})]).events[0]
    assert one.actor_key == two.actor_key
    assert one.employee_id is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"actor": {"name": "nobody"}}, "actor"),
        ({"actor": {"mbox": "mailto:a@x.id", "openid": "https://id.example/a"}}, "actor"),
        ({"actor": {"mbox": "a@x.id"}}, "actor.mbox"),
        ({"actor": {"account": {"name": NIP}}}, "actor.account.homePage"),
        ({"actor": {"objectType": "Group"}}, "actor"),
        ({"verb": None}, "verb"),
        ({"verb": {"id": "completed"}}, "verb.id"),
        ({"object": {"objectType": "Activity"}}, "object.id"),
        ({"object": {"objectType": "Thing", "id": PROGRAM_IRI}}, "object.objectType"),
        ({"result": {"score": {"scaled": 1.5}}}, "result.score.scaled"),
        ({"result": {"score": {"raw": 120, "min": 0, "max": 100}}}, "result.score.raw"),
        ({"result": {"score": {"scaled": True}}}, "result.score.scaled"),
        ({"result": {"completion": "yes"}}, "result.completion"),
        ({"timestamp": "20 May 2024"}, "timestamp"),
        ({"timestamp": "2030-01-01T00:00:00Z"}, "timestamp"),
    ],
)
def test_bad_statements_name_the_field(change: dict[str, Any], field: str) -> None:
    result = parse([simple(), completed(**change), simple(event_id="evt-2")])
    assert [e.event_id for e in result.events] == ["evt-1", "evt-2"]
    assert [(e.index, e.field) for e in result.errors] == [(1, field)]
    assert result.errors[0].event_id == "1f6c7a52-2a3e-4c2e-9d55-0e4f3a1b2c3d"
    assert_no_nip(result.model_dump_json(), NIP)
    assert "@" not in result.model_dump_json()


# --------------------------------------------------------------------------------------------
# Simple events
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["impression", "click", "enrol", "complete", "dismiss"])
def test_each_simple_type(kind: str) -> None:
    result = parse([simple(type=kind, position_id="M-SETJEN-1", score=0.5)])
    assert not result.errors
    event = result.events[0]
    assert event.type == kind
    assert (event.source, event.verb, event.raw) == ("simple", None, None)
    assert event.employee_id == event.actor_key == PSEUDONYM
    assert (event.item_kind, event.program_id, event.position_id) == (
        "program",
        "PL001",
        "M-SETJEN-1",
    )
    assert (event.event_id, event.request_id, event.score) == ("evt-1", "req-9", 0.5)
    assert event.occurred_at == datetime(2024, 5, 1, 2, 30, tzinfo=UTC)


def test_simple_event_accepts_a_program_iri_and_no_request_id() -> None:
    event = parse([simple(program_id=PROGRAM_IRI + "/", request_id=None)]).events[0]
    assert (event.program_id, event.request_id) == ("PL001", None)
    result = parse([simple(program_id="https://lms.example.go.id/courses/PL001")])
    assert [(e.field, e.index) for e in result.errors] == [("program_id", 0)]


@pytest.mark.parametrize("missing", ["type", "event_id", "employee", "program_id", "time"])
def test_missing_field_is_named_and_the_rest_kept(missing: str) -> None:
    items = [simple(event_id="a"), simple(**{"event_id": "b", missing: None}), simple(event_id="c")]
    result = parse(items)
    assert [e.event_id for e in result.events] == ["a", "c"]
    assert [(e.index, e.field) for e in result.errors] == [(1, missing)]
    assert result.errors[0].event_id == (None if missing == "event_id" else "b")
    assert result.rejected == [1]
    assert result.received == 3


def test_extra_field_is_rejected() -> None:
    result = parse([simple(note="hi")])
    assert not result.events
    assert [(e.index, e.field, e.message) for e in result.errors] == [
        (0, "note", "unknown field (not permitted)")
    ]


@pytest.mark.parametrize(
    "time",
    ["yesterday", "2024-05-01", "01/05/2024 09:30", 1714530600, "2024-13-01T00:00:00", None],
)
def test_bad_time(time: Any) -> None:
    result = parse([simple(time=time) if time is not None else simple(time="")])
    assert [(e.index, e.field) for e in result.errors] == [(0, "time")]
    assert "ISO 8601" in result.errors[0].message


def test_time_zones() -> None:
    naive = parse([simple(time="2024-05-01T09:30:00")]).events[0]
    assert naive.occurred_at == datetime(2024, 5, 1, 9, 30, tzinfo=UTC)  # no offset: UTC
    zulu = parse([simple(time="2024-05-01T09:30:00.250Z")]).events[0]
    assert zulu.occurred_at == datetime(2024, 5, 1, 9, 30, 0, 250000, tzinfo=UTC)
    skew = parse([simple(time=(NOW + timedelta(minutes=4)).isoformat())])
    assert not skew.errors
    future = parse([simple(time=(NOW + timedelta(hours=1)).isoformat())])
    assert [(e.field, e.message) for e in future.errors] == [("time", "lies in the future")]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "view"}, "type"),
        ({"event_id": ""}, "event_id"),
        ({"event_id": "x" * 129}, "event_id"),
        ({"employee": 198501012010011001}, "employee"),
        ({"employee": "198501012010013001"}, "employee"),  # invalid sex digit
        ({"employee": "budi@kemnaker.go.id"}, "employee"),
        ({"score": 2}, "score"),
        ({"program_id": "a/b"}, "program_id"),
    ],
)
def test_bad_simple_fields(change: dict[str, Any], field: str) -> None:
    result = parse([simple(**change)])
    assert not result.events
    assert [(e.index, e.field) for e in result.errors] == [(0, field)]


def test_mixed_batch_with_non_objects() -> None:
    result = parse([simple(), "not an event", None, completed(), []])
    assert [e.source for e in result.events] == ["simple", "xapi"]
    assert [(e.index, e.field) for e in result.errors] == [(1, ""), (2, ""), (4, "")]


# --------------------------------------------------------------------------------------------
# Privacy and limits
# --------------------------------------------------------------------------------------------


def test_nip_never_appears_in_the_result() -> None:
    items: list[Any] = [
        simple(),
        simple(employee=NIP, event_id=NIP),  # an LMS that uses the NIP as event id
        simple(employee=OTHER_NIP.replace("2002", "3002")),  # invalid NIP
        simple(**{NIP: 1}),  # the NIP as a field name
        simple(employee=f"{NIP} budi@kemnaker.go.id"),
        completed(),
        completed(actor={"account": {"homePage": "https://lms", "name": NIP}}, id=None),
        completed(actor={"mbox": f"mailto:{NIP}@kemnaker.go.id"}, id=None),
        completed(
            object={"id": PROGRAM_IRI}, context={"instructor": {"mbox": f"mailto:{NIP}@x.id"}}
        ),
        completed(actor={"mbox": f"{NIP}@kemnaker.go.id"}),  # not a mailto: IRI -> error
    ]
    result = parse(items)
    assert len(result.events) == 5
    assert [(e.index, e.field) for e in result.errors] == [
        (1, "event_id"),  # an id that holds the employee's NIP is refused
        (2, "employee"),
        (3, "<NIP>"),  # field names are masked too
        (4, "employee"),
        (9, "actor.mbox"),
    ]
    for text in (
        repr(result),
        str(result),
        result.model_dump_json(),
        json.dumps(result.model_dump(mode="json")),
    ):
        assert_no_nip(text, NIP, NIP_SPELLED, OTHER_NIP)
        assert "kemnaker.go.id" not in text
        assert "@" not in text


def test_batch_size_limit() -> None:
    ok = parse([simple(event_id=f"e{i}") for i in range(ev.MAX_BATCH)])
    assert len(ok.events) == ev.MAX_BATCH
    with pytest.raises(ev.BatchTooLargeError, match="at most 1000"):
        parse([simple()] * (ev.MAX_BATCH + 1))
    with pytest.raises(ev.BatchTooLargeError, match="at most 2"):
        parse([simple()] * 3, max_items=2)


def test_bad_arguments() -> None:
    with pytest.raises(TypeError):
        parse({"type": "complete"})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timezone"):
        ev.parse_batch([], IDS.pseudonymise, datetime(2024, 1, 1), hash_ifi=IDS.hash_ifi)
    assert parse([]) == ev.BatchResult(received=0, events=[], errors=[])


def test_one_event_record_for_the_parser_and_the_store() -> None:
    """The parser's events are the records the store writes (no conversion in between)."""
    from recommender.store import repo

    assert repo.NewEvent is ev.Event
    events = parse([simple(), completed()]).events
    assert [type(e) for e in events] == [ev.Event, ev.Event]
    for i, event in enumerate(events):
        repo.check_event(event, f"items[{i}]")  # storable as parsed


# --------------------------------------------------------------------------------------------
# Malformed items found by the probe (issue 22): each is one item error, never an exception
# --------------------------------------------------------------------------------------------


def _nested(levels: int) -> Any:
    value: Any = []
    for _ in range(levels - 1):
        value = [value]
    return value


EDGE_TIMES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]


@pytest.mark.parametrize("when", EDGE_TIMES)
def test_times_at_the_edge_of_the_calendar_are_item_errors(when: str) -> None:
    items = [simple(time=when), completed(timestamp=when), completed(timestamp=None, stored=when)]
    result = parse([*items, simple()])
    fields = [(e.index, e.field) for e in result.errors]
    assert fields == [(0, "time"), (1, "timestamp"), (2, "stored")]
    assert "calendar" in result.errors[0].message and len(result.events) == 1
    with pytest.raises(ValueError, match="calendar"):
        ev.parse_time(when)


def test_times_before_1970_are_refused() -> None:
    result = parse([simple(time="1969-12-31T23:59:59Z"), completed(timestamp="0001-01-02T00:00Z")])
    assert [(e.field, e.message) for e in result.errors] == [
        ("time", "lies before 1970-01-01"),
        ("timestamp", "lies before 1970-01-01"),
    ]


def test_a_malformed_extension_iri_is_an_item_error() -> None:
    stmt = completed(context={"extensions": {"http://[::1": "x"}})
    result = parse([stmt, simple()])
    assert [(e.index, e.field) for e in result.errors] == [(0, "context.extensions")]
    assert len(result.events) == 1


@pytest.mark.parametrize("levels", [33, 600, 900, 50_000])
def test_deep_nesting_is_refused_without_recursion(levels: int) -> None:
    stmt = completed(result={"extensions": {"https://x.example/e": _nested(levels)}})
    result = parse([stmt, simple()])
    assert [(e.index, e.field) for e in result.errors] == [(0, "result")]
    assert "32 levels" in result.errors[0].message and len(result.events) == 1
    ok = completed(result={"extensions": {"https://x.example/e": _nested(28)}})
    assert not parse([ok]).errors


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"event_id": "ev-\ud800"}, "event_id"),
        ({"program_id": "PL\udfff"}, "program_id"),
        ({"\ud800": 1}, ""),
        ({"event_id": "ev-\x00"}, "event_id"),
        ({"score": float("nan")}, "score"),
    ],
)
def test_text_that_cannot_be_stored_or_answered_is_an_item_error(
    change: dict[str, Any], field: str
) -> None:
    result = parse([simple(**change), simple(event_id="evt-2")])
    assert [(e.index, e.field, e.event_id) for e in result.errors] == [(0, field, None)]
    json.dumps([e.model_dump() for e in result.errors]).encode()  # the answer can be encoded
    stmt = completed(result={"response": "\ud800", "extensions": {"https://x/e": float("inf")}})
    assert [e.field for e in parse([stmt]).errors] == ["result"]


def test_a_huge_integer_score_is_an_item_error() -> None:
    stmt = completed(result={"score": {"raw": 10**400, "min": 0, "max": 100}})
    assert [e.field for e in parse([stmt]).errors] == ["result.score.raw"]


@pytest.mark.parametrize(
    "event_id", [f"evt{OTHER_NIP}", "evt_19900315_201503_2_002", "x/1990.0315.2015.0320.02"]
)
def test_an_event_id_holding_any_nip_is_refused(event_id: str) -> None:
    result = parse([simple(event_id=event_id), simple(event_id="evt-20240501-093000-1234")])
    assert [(e.index, e.field, e.event_id) for e in result.errors] == [(0, "event_id", None)]
    assert_no_nip(json.dumps([e.model_dump() for e in result.errors]), OTHER_NIP)
    assert [e.event_id for e in result.events] == ["evt-20240501-093000-1234"]


def test_an_unforeseen_value_error_stays_with_its_item(monkeypatch: pytest.MonkeyPatch) -> None:
    from recommender.events import batch

    def broken(stmt: dict[str, Any], ctx: Any) -> ev.Event:
        raise OverflowError("something no check foresaw")

    monkeypatch.setattr(batch, "parse_statement", broken)
    result = parse([completed(), simple()])
    assert [(e.index, e.field) for e in result.errors] == [(0, "")]
    assert [e.source for e in result.events] == ["simple"]
