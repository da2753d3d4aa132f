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

#: What an event hidden from the caller's units is answered with (as for an unknown person).
NOT_VISIBLE = "no active employee with this identifier"


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
    visible: Callable[[str], bool] | None = None,
    now: datetime | None = None,
) -> Ingested:
    """Parse ``items`` (simple events and xAPI statements) with the pseudonym ``key``, and store
    the good ones; every bad item is reported with its index while the good ones are kept; a
    replayed event id changes nothing. ``visible(employee_id)`` False rejects an event about a
    person outside the caller's units (None: every person). ``now``: time of receipt (default:
    the clock). Raises BatchTooLargeError (a ValueError) and TypeError for a batch that is not
    a list, StoreUnavailableError when the database cannot be reached (nothing is stored)."""
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
        results = repo.add_events(session, [e for _, e in new])
    answer: EventsAnswer = {
        "received": parsed.received,
        "inserted": sum(r.status == "inserted" for r in results),
        "duplicates": sum(r.status == "duplicate" for r in results),
        "results": [
            {"index": i, "event_id": r.event_id, "status": r.status}
            for (i, _), r in zip(new, results, strict=True)
        ],
        "errors": [e.model_dump() for e in sorted(errors, key=lambda e: e.index)],
    }
    inserted = [e for (_, e), r in zip(new, results, strict=True) if r.status == "inserted"]
    return Ingested(answer, inserted)


def _error(index: int, event_id: str | None, field: str, message: str) -> ItemError:
    return ItemError(index=index, event_id=event_id, field=field, message=message)
