"""Reading and writing the application tables: small functions, keyword-only arguments.

Each function works inside the caller's session and transaction (it flushes, never commits):
``with factory.begin() as session: add_events(session, batch)``.

Personal data: people are given by their pseudonym (``employee_id``); a value that looks like a
NIP (18 digits, however spaced) is refused with :class:`PersonalDataError` before anything is
written, in identifiers and review texts; in raw xAPI statements (free text as the LMS sent it)
it is stored as ``[masked]``.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Insert, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recommender.events.record import (
    COMPLETION_TYPES,
    EVENT_ITEM_KINDS,
    EVENT_TYPES,
    SIMPLE_TYPES,
    SOURCES,
)
from recommender.events.record import Event as EventRecord
from recommender.store.models import LEGACY_SENDER, Event, RecommendationLog, Review, utcnow

#: The event record the store writes: :class:`recommender.events.Event`, which the LMS parser
#: produces (one record; the old name is kept for callers).
NewEvent = EventRecord

#: What a review is about.
ITEM_KINDS = ("program", "position")
#: What replaces a NIP-looking number in a raw xAPI statement.
MASK = "[masked]"
DECISIONS = ("approve", "reject", "replace")
EventStatus = Literal["inserted", "duplicate"]

_CHUNK = 500  # rows per INSERT (19 parameters each: far below every backend's limit)
_ID_SEPARATORS = re.compile(r"[\s.\-_/]")
_NIP_RUN = re.compile(r"\d{18}")
_NIP_STRICT = re.compile(r"(?<![0-9A-Za-z])\d{18}(?![0-9A-Za-z])")
_NIP_SPACED = re.compile(r"(?<!\d)(?:\d[ .\-]?){17}\d(?!\d)")
# In raw statements hyphens do not join digits (UUIDs may hold long runs of digit groups).
_NIP_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])\d(?:[ .]?\d){17}(?![0-9A-Za-z])")


class PersonalDataError(ValueError):
    """A value looks like a NIP: only pseudonyms may be stored."""


def check_pseudonym(value: str, what: str = "employee_id") -> str:
    """Return ``value`` if it can be stored as a person's id; raise otherwise.

    Refused: empty, longer than 64 characters, or holding 18 digits once separators are
    removed (a NIP). The message never repeats the value.
    """
    if not value or not value.strip():
        raise ValueError(f"{what} is empty")
    if len(value) > 64:
        raise ValueError(f"{what} is longer than 64 characters")
    if _NIP_RUN.search(_ID_SEPARATORS.sub("", value)):
        raise PersonalDataError(f"{what} looks like a NIP; store the pseudonym (e_...)")
    return value


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _check_text(value: str | None, what: str, *, spaced: bool = True) -> None:
    if value is None:
        return
    if _CONTROL.search(value):
        raise ValueError(f"{what} contains control characters")
    pattern = _NIP_SPACED if spaced else _NIP_STRICT
    if pattern.search(value):
        raise PersonalDataError(f"{what} contains a NIP-looking number; use the pseudonym")


def _check_id(
    value: str | None, what: str, *, required: bool = True, max_length: int = 128
) -> None:
    if value is None:
        if required:
            raise ValueError(f"{what} is missing")
        return
    if not value.strip() or len(value) > max_length:
        raise ValueError(f"{what} must have 1 to {max_length} characters")
    _check_text(value, what, spaced=False)


def _check_choice(value: str | None, allowed: Sequence[str], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}")


# -- recommendation log ----------------------------------------------------------------------


@dataclass(frozen=True)
class RankedItem:
    """One served item: id, score and reason codes (not texts)."""

    item_id: str
    score: float
    reasons: tuple[str, ...] = ()


def _item_json(item: RankedItem | Mapping[str, Any], index: int) -> dict[str, Any]:
    score: float | None
    if isinstance(item, RankedItem):
        item_id, score, reasons = item.item_id, item.score, list(item.reasons)
    else:
        if "item_id" not in item:
            raise ValueError(f"items[{index}] has no item_id")
        item_id = str(item["item_id"])
        score = item.get("score")
        reasons = [str(r) for r in item.get("reasons", ())]
    _check_id(item_id, f"items[{index}].item_id")
    for code in reasons:
        _check_text(code, f"items[{index}].reasons", spaced=False)
    return {
        "item_id": item_id,
        "score": None if score is None else float(score),
        "reasons": reasons,
    }


def log_recommendation(
    session: Session,
    *,
    request_id: str,
    employee_id: str,
    model_name: str,
    model_version: str,
    endpoint: str,
    items: Sequence[RankedItem | Mapping[str, Any]],
    language: str = "id",
    created_at: datetime | None = None,
) -> RecommendationLog:
    """Write one served list to the audit trail (ranked order kept). A repeated request id
    raises :class:`sqlalchemy.exc.IntegrityError`."""
    _check_id(request_id, "request_id")
    check_pseudonym(employee_id)
    for value, what in ((model_name, "model_name"), (model_version, "model_version")):
        _check_text(value, what, spaced=False)
    _check_text(endpoint, "endpoint", spaced=False)
    row = RecommendationLog(
        request_id=request_id,
        employee_id=employee_id,
        model_name=model_name,
        model_version=str(model_version),
        endpoint=endpoint,
        items=[_item_json(item, i) for i, item in enumerate(items)],
        language=language,
        created_at=created_at or utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def log_recommendations(session: Session, records: Sequence[Mapping[str, Any]]) -> int:
    """Write many served lists in one INSERT (the service's background writer); each record
    has the keyword arguments of :func:`log_recommendation` and is checked the same way. A
    request id already logged is skipped (PostgreSQL, SQLite), so the writer may retry a batch
    whose commit it did not see. Returns the number of records given."""
    rows = []
    for record in records:
        _check_id(str(record["request_id"]), "request_id")
        check_pseudonym(str(record["employee_id"]))
        rows.append(
            {
                "request_id": record["request_id"],
                "employee_id": record["employee_id"],
                "model_name": str(record["model_name"]),
                "model_version": str(record["model_version"]),
                "endpoint": str(record["endpoint"]),
                "items": [_item_json(item, i) for i, item in enumerate(record["items"])],
                "language": record.get("language", "id"),
                "created_at": record.get("created_at") or utcnow(),
            }
        )
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):  # a retried batch (commit lost in flight) is no error
        make = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = make(RecommendationLog).on_conflict_do_nothing(
            index_elements=[RecommendationLog.request_id]
        )
        session.execute(stmt, rows)
    else:
        session.execute(insert(RecommendationLog), rows)
    return len(rows)


def get_recommendation(session: Session, request_id: str) -> RecommendationLog | None:
    """One logged list by request id."""
    return session.get(RecommendationLog, request_id)


def recommendations_for(
    session: Session, employee_id: str, *, limit: int = 100
) -> list[RecommendationLog]:
    """The lists served to one person, newest first."""
    query = (
        select(RecommendationLog)
        .where(RecommendationLog.employee_id == employee_id)
        .order_by(RecommendationLog.created_at.desc(), RecommendationLog.request_id)
        .limit(limit)
    )
    return list(session.scalars(query))


# -- events -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventResult:
    """What happened to one event of a batch."""

    event_id: str
    status: EventStatus


def check_event(e: NewEvent, where: str = "event") -> None:
    """Raise ValueError (or :class:`PersonalDataError`) if ``e`` cannot be stored; the
    message starts with ``where`` and a field name and never repeats a NIP."""
    _check_id(e.event_id, f"{where}.event_id")
    if e.employee_id is not None:
        check_pseudonym(e.employee_id, f"{where}.employee_id")
    actor = e.actor_key if e.actor_key is not None else e.employee_id
    if actor is None:
        raise ValueError(f"{where}: an event needs employee_id or actor_key")
    check_pseudonym(actor, f"{where}.actor_key")
    _check_choice(e.source, SOURCES, f"{where}.source")
    if e.source == "simple":
        _check_choice(e.type, SIMPLE_TYPES, f"{where}.type")
        if e.employee_id is None:
            raise ValueError(f"{where}.employee_id is missing (simple events name an employee)")
    else:
        _check_choice(e.type, EVENT_TYPES, f"{where}.type")
    if (e.type == "void") != (e.voids is not None):
        raise ValueError(f"{where}: voids is given for, and only for, a void event")
    if e.item_kind is not None:
        _check_choice(e.item_kind, EVENT_ITEM_KINDS, f"{where}.item_kind")
    _check_id(e.item_id, f"{where}.item_id", required=False, max_length=2048)
    _check_id(e.verb, f"{where}.verb", required=False, max_length=2048)
    for value, name in ((e.request_id, "request_id"), (e.position_id, "position_id")):
        _check_id(value, f"{where}.{name}", required=False)
    _check_id(e.voids, f"{where}.voids", required=False)
    if e.score is not None and not math.isfinite(e.score):
        raise ValueError(f"{where}.score is not a finite number")


def _mask_json(value: Any) -> Any:
    """A copy of a JSON value with every NIP-looking number replaced by ``[masked]``."""
    if isinstance(value, Mapping):
        return {_mask_text(str(k)): _mask_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_json(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return MASK if _NIP_STRICT.search(str(value)) else value
    if isinstance(value, str):
        return _mask_text(value)
    return value


def _mask_text(text: str) -> str:
    return _NIP_IN_TEXT.sub(MASK, text)


def _insert_ignoring_duplicates(session: Session, rows: list[dict[str, Any]]) -> set[str]:
    """Insert rows (all of one sender), skipping event ids the sender has already stored (also
    by a concurrent transaction); return the ids actually inserted. Rows go in event-id order,
    so that two transactions replaying overlapping batches take their row locks in the same
    order (no deadlock)."""
    rows = sorted(rows, key=lambda row: str(row["event_id"]))
    dialect = session.get_bind().dialect.name
    inserted: set[str] = set()
    if dialect in ("postgresql", "sqlite"):
        make = pg_insert if dialect == "postgresql" else sqlite_insert
        for start in range(0, len(rows), _CHUNK):
            stmt: Insert = (
                make(Event)
                .values(rows[start : start + _CHUNK])
                .on_conflict_do_nothing(index_elements=[Event.event_id, Event.sender])
                .returning(Event.event_id)
            )
            inserted.update(session.scalars(stmt))
        return inserted
    for row in rows:  # other backends: one savepoint per row, the primary key decides
        try:
            with session.begin_nested():
                session.execute(insert(Event).values(row))
        except IntegrityError:
            continue
        inserted.add(row["event_id"])
    return inserted


def _event_row(e: NewEvent, sender: str, now: datetime) -> dict[str, Any]:
    """The ``events`` row of a checked event sent by ``sender``, received at ``now``."""
    return {
        "event_id": e.event_id,
        "sender": sender,
        "request_id": e.request_id,
        "employee_id": e.employee_id,
        "actor_key": e.actor_key if e.actor_key is not None else e.employee_id,
        "item_kind": e.item_kind,
        "item_id": e.item_id,
        "position_id": e.position_id,
        "type": e.type,
        "occurred_at": e.occurred_at,
        "received_at": now,
        "source": e.source,
        "verb": e.verb,
        "score": e.score,
        "success": e.success,
        "completion": e.completion,
        "raw": None if e.raw is None else _mask_json(e.raw),
        "voids": e.voids,
        "voided": False,
        "voided_by": None,
    }


def add_events(
    session: Session, events: Iterable[NewEvent], *, sender: str = LEGACY_SENDER
) -> list[EventResult]:
    """Store a batch sent by ``sender`` (an API key id; tools: ``legacy``); one result per
    event, in order: ``inserted`` or ``duplicate``.

    Idempotent on ``(event_id, sender)``: replaying a batch (even concurrently, from another
    process) changes nothing and reports every event as a duplicate; a repeat inside one batch
    is a duplicate too; the same id from another sender is another event. A newly stored
    voiding statement voids its target (see :func:`void_targets`); a target that arrives after
    its voiding statement from the same sender is stored voided. This function trusts its
    caller: the LMS path (:mod:`recommender.store.ingest`) refuses voids of events that do not
    exist or that the key may not see before calling it. ValueError (nothing written) if any
    event or ``sender`` is invalid (see :func:`check_event`, which a caller can run per item
    first); :class:`PersonalDataError` if an id holds a NIP-looking value. In ``raw``,
    NIP-looking numbers (free text as sent by the LMS) are stored as ``[masked]``.
    """
    batch = list(events)
    _check_id(sender, "sender", max_length=64)
    for i, e in enumerate(batch):
        check_event(e, f"events[{i}]")
    now = utcnow()
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for e in batch:
        if e.event_id in seen:
            continue
        seen.add(e.event_id)
        rows.append(_event_row(e, sender, now))
    inserted = _insert_ignoring_duplicates(session, rows) if rows else set()
    _apply_voiding(session, [e for e in batch if e.event_id in inserted], sender)
    results: list[EventResult] = []
    reported: set[str] = set()
    for e in batch:
        new = e.event_id in inserted and e.event_id not in reported
        reported.add(e.event_id)
        results.append(EventResult(e.event_id, "inserted" if new else "duplicate"))
    return results


def _apply_voiding(session: Session, new: list[NewEvent], sender: str) -> None:
    for e in new:
        if e.voids is not None:
            targets = void_targets(session, event_id=e.voids, sender=sender)
            if len(targets) == 1:
                void_event(
                    session, event_id=e.voids, sender=targets[0].sender, voided_by=e.event_id
                )
    plain = [e.event_id for e in new if e.voids is None]
    for start in range(0, len(plain), _CHUNK):
        chunk = plain[start : start + _CHUNK]
        late = session.execute(  # the sender's own voids that named these ids and voided none
            select(Event.voids, Event.event_id)
            .where(Event.sender == sender, Event.voids.in_(chunk))
            .order_by(Event.received_at, Event.event_id)
        ).all()
        for target, voiding in late:
            if target is not None and not _has_voided(session, voiding):
                void_event(session, event_id=target, sender=sender, voided_by=voiding)


def _has_voided(session: Session, voiding: str) -> bool:
    found = session.scalars(select(Event.event_id).where(Event.voided_by == voiding).limit(1))
    return found.first() is not None


def void_targets(session: Session, *, event_id: str, sender: str) -> list[Event]:
    """The stored events a void from ``sender`` naming ``event_id`` may mean: the sender's own
    event with that id when there is one, else every other sender's event with that id (none,
    one, or several when several senders use the id; voiding statements included)."""
    rows = list(
        session.scalars(select(Event).where(Event.event_id == event_id).order_by(Event.sender))
    )
    own = [r for r in rows if r.sender == sender]
    return own or rows


def void_event(
    session: Session, *, event_id: str, voided_by: str, sender: str = LEGACY_SENDER
) -> bool:
    """Mark the event ``(event_id, sender)`` voided by another (an xAPI ``voided`` statement).
    True if it changed; False if the event is unknown, already voided, or is itself a voiding
    statement."""
    result = session.execute(
        update(Event)
        .where(
            Event.event_id == event_id,
            Event.sender == sender,
            Event.voided.is_(False),
            Event.voids.is_(None),
        )
        .values(voided=True, voided_by=voided_by)
    )
    return bool(getattr(result, "rowcount", 0))


def events_for(session: Session, employee_id: str, *, include_voided: bool = False) -> list[Event]:
    """One person's events, oldest first (voided ones only if asked)."""
    query = select(Event).where(Event.employee_id == employee_id)
    if not include_voided:
        query = query.where(Event.voided.is_(False))
    return list(session.scalars(query.order_by(Event.occurred_at, Event.event_id)))


def completed_programs(session: Session, employee_id: str) -> set[str]:
    """Programmes a person has completed: ``complete`` (simple, or xAPI ``completed``) and
    ``pass`` (xAPI ``passed``) events on a programme, not voided."""
    query = (
        select(Event.item_id)
        .where(
            Event.employee_id == employee_id,
            Event.item_kind == "program",
            Event.type.in_(COMPLETION_TYPES),
            Event.voided.is_(False),
            Event.item_id.is_not(None),
        )
        .distinct()
    )
    return {item for item in session.scalars(query) if item is not None}


def program_completions(
    session: Session,
    since: datetime | None = None,
    until: datetime | None = None,
    employee_ids: Sequence[str] | None = None,
) -> list[tuple[str, str]]:
    """(employee_id, program_id) of every programme completion event of an employee, not
    voided, that occurred in ``[since, until)`` (either bound optional), of ``employee_ids``
    only when given."""
    query = select(Event.employee_id, Event.item_id).where(
        Event.type.in_(COMPLETION_TYPES),
        Event.item_kind == "program",
        Event.voided.is_(False),
        Event.employee_id.is_not(None),
        Event.item_id.is_not(None),
    )
    if since is not None:
        query = query.where(Event.occurred_at >= since)
    if until is not None:
        query = query.where(Event.occurred_at < until)
    if employee_ids is None:
        return [(str(e), str(i)) for e, i in session.execute(query).all()]
    out: list[tuple[str, str]] = []
    for start in range(0, len(employee_ids), 500):
        part = query.where(Event.employee_id.in_(employee_ids[start : start + 500]))
        out += [(str(e), str(i)) for e, i in session.execute(part).all()]
    return out


# -- reviews ----------------------------------------------------------------------------------


def add_review(
    session: Session,
    *,
    employee_id: str,
    item_kind: str,
    item_id: str,
    decision: str,
    reason: str,
    reviewer: str,
    request_id: str | None = None,
    replacement_id: str | None = None,
    review_id: str | None = None,
    created_at: datetime | None = None,
    model_version: str | None = None,
) -> Review:
    """Record an HR decision (approve, reject or replace) on one recommended item.

    ``replace`` needs ``replacement_id``; every decision needs a reason. The review id is
    made if not given. ``model_version`` is the version of the model whose suggestion was
    reviewed (at most 64 characters; None when not known). ValueError on a bad argument,
    :class:`PersonalDataError` if an id or the reason holds a NIP-looking number.
    """
    check_pseudonym(employee_id)
    _check_choice(item_kind, ITEM_KINDS, "item_kind")
    _check_id(item_id, "item_id")
    _check_choice(decision, DECISIONS, "decision")
    if decision == "replace":
        _check_id(replacement_id, "replacement_id")
    elif replacement_id is not None:
        raise ValueError("replacement_id is only for decision=replace")
    if not reason or not reason.strip():
        raise ValueError("a review needs a reason")
    _check_text(reason, "reason")
    check_pseudonym(reviewer, "reviewer")
    _check_id(request_id, "request_id", required=False)
    _check_id(model_version, "model_version", required=False, max_length=64)
    row = Review(
        review_id=review_id or uuid.uuid4().hex,
        request_id=request_id,
        employee_id=employee_id,
        item_kind=item_kind,
        item_id=item_id,
        decision=decision,
        replacement_id=replacement_id,
        reason=reason.strip(),
        reviewer=reviewer,
        created_at=created_at or utcnow(),
        model_version=model_version,
    )
    session.add(row)
    session.flush()
    return row


def reviews_for(session: Session, employee_id: str) -> list[Review]:
    """One person's reviews, oldest first."""
    query = (
        select(Review)
        .where(Review.employee_id == employee_id)
        .order_by(Review.created_at, Review.review_id)
    )
    return list(session.scalars(query))
