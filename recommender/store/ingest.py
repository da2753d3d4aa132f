"""Store a batch of LMS events (``POST /v1/events``): parse (:mod:`recommender.events`), check
each item, store the good ones in one transaction (:func:`recommender.store.repo.add_events`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypedDict

from sqlalchemy.orm import Session, sessionmaker

from recommender.events import Event, ItemError, identity_functions, parse_batch
from recommender.store import db, repo
from recommender.store.models import LEGACY_SENDER

#: What an event hidden from the caller's units is answered with (as for an unknown person).
NOT_VISIBLE = "no active employee with this identifier"
#: What a void of a statement that is not stored, or that the key may not see, is answered with.
NOT_VOIDABLE = "names no stored statement this key may void (a void follows what it voids)"


class ItemResult(TypedDict):
    """What happened to one stored item: its index in the batch, event id and status."""

    index: int
    event_id: str
    status: Literal["inserted", "duplicate"]


class EventsAnswer(TypedDict):
    """The answer to a batch: items received, inserted and duplicates, one result per stored
    item and every problem of the rejected items (``ItemError`` fields), by index."""

    received: int
    inserted: int
    duplicates: int
    results: list[ItemResult]
    errors: list[dict[str, Any]]


@dataclass(frozen=True)
class Ingested:
    """``answer`` for the LMS and ``inserted``: the events stored now (not replays), in order."""

    answer: EventsAnswer
    inserted: list[Event]


def ingest_events(
    *,
    store: sessionmaker[Session],
    key: str,
    items: list[Any],
    sender: str = LEGACY_SENDER,
    visible: Callable[[str], bool] | None = None,
    now: datetime | None = None,
) -> Ingested:
    """Parse ``items`` (simple events and xAPI statements) with the pseudonym ``key``, and store
    the good ones as sent by ``sender`` (the API key id; tools and tests may name their own);
    every bad item is reported with its index while the good ones are kept; a replayed event id
    (same sender) is a ``duplicate`` and changes nothing; the same id from another sender is
    another event. ``visible(employee_id)`` False rejects an event about a person outside the
    caller's units (None: every person). A void is stored only when the statement it names is
    stored already (earlier, or earlier in this batch) and was sent by ``sender`` or is about a
    person ``visible`` shows (see :func:`void_problem`); otherwise it is refused with the
    reason. ``now``: time of receipt (default: the clock). Raises BatchTooLargeError (a
    ValueError) and TypeError for a batch that is not a list, StoreUnavailableError when the
    database cannot be reached (nothing is stored)."""
    ids = identity_functions(key)
    parsed = parse_batch(items, ids.pseudonymise, now or datetime.now(UTC), hash_ifi=ids.hash_ifi)
    errors = list(parsed.errors)
    rejected = set(parsed.rejected)
    accepted = [i for i in range(parsed.received) if i not in rejected]
    new: list[tuple[int, Event]] = []
    for index, event in zip(accepted, parsed.events, strict=True):
        employee = event.employee_id
        if visible is not None and employee is not None and not visible(employee):
            errors.append(_error(index, event.event_id, "employee", NOT_VISIBLE))
            continue
        try:
            repo.check_event(event, f"items[{index}]")
        except ValueError as exc:
            errors.append(_error(index, None, "", str(exc)))
            continue
        new.append((index, event))
    # the database away: nothing of the batch is stored, 503, and the LMS sends it again
    with db.reachable("the events were not stored"), store.begin() as session:
        stored = _store(session, new, sender, visible, errors)
    return Ingested(_answer(parsed.received, stored, errors), _inserted(stored))


_Stored = list[tuple[tuple[int, Event], repo.EventResult]]


def _store(
    session: Session,
    new: list[tuple[int, Event]],
    sender: str,
    visible: Callable[[str], bool] | None,
    errors: list[ItemError],
) -> _Stored:
    """Store the checked events ``(index, event)``: first every event that is not a void, then
    the voids :func:`void_problem` lets through (so a void may follow its statement in one
    batch); refused voids go to ``errors``. Returns ``((index, event), result)`` by index."""
    plain = [(i, e) for i, e in new if e.voids is None]
    results = repo.add_events(session, [e for _, e in plain], sender=sender)
    stored: _Stored = list(zip(plain, results, strict=True))
    voids: list[tuple[int, Event]] = []
    for index, event in new:
        if event.voids is None:
            continue
        problem = void_problem(session, event=event, sender=sender, visible=visible)
        if problem is None:
            voids.append((index, event))
        else:
            errors.append(_error(index, event.event_id, "object.id", problem))
    results = repo.add_events(session, [e for _, e in voids], sender=sender)
    stored += zip(voids, results, strict=True)
    return sorted(stored, key=lambda pair: pair[0][0])


def void_problem(
    session: Session, *, event: Event, sender: str, visible: Callable[[str], bool] | None
) -> str | None:
    """Why the void ``event`` from ``sender`` cannot be stored, or None. A replay of a void the
    sender has stored passes (it is answered ``duplicate``). Refused: a target that is not
    stored (no pre-emptive voids), one about a person ``visible`` hides or about no employee
    when it came from another sender (both answered as if it did not exist), a target id that
    several other senders use, and a voiding statement."""
    same_id = repo.void_targets(session, event_id=event.event_id, sender=sender)
    if any(row.sender == sender for row in same_id):
        return None  # a replay: answered duplicate, changes nothing
    targets = [
        row
        for row in repo.void_targets(session, event_id=str(event.voids), sender=sender)
        if row.sender == sender
        or visible is None
        or (row.employee_id is not None and visible(row.employee_id))
    ]
    if not targets:
        return NOT_VOIDABLE
    if len(targets) > 1:
        return "names a statement id that several senders use; void it with the key that sent it"
    if targets[0].voids is not None:
        return "names a voiding statement, which cannot be voided"
    return None


def _answer(received: int, stored: _Stored, errors: list[ItemError]) -> EventsAnswer:
    return {
        "received": received,
        "inserted": sum(r.status == "inserted" for _, r in stored),
        "duplicates": sum(r.status == "duplicate" for _, r in stored),
        "results": [
            {"index": i, "event_id": r.event_id, "status": r.status} for (i, _), r in stored
        ],
        "errors": [e.model_dump() for e in sorted(errors, key=lambda e: e.index)],
    }


def _inserted(stored: _Stored) -> list[Event]:
    return [e for (_, e), r in stored if r.status == "inserted"]


def _error(index: int, event_id: str | None, field: str, message: str) -> ItemError:
    return ItemError(index=index, event_id=event_id, field=field, message=message)
