"""A batch of LMS events, simple events and xAPI statements mixed (:mod:`recommender.events`)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

from pydantic import BaseModel, ConfigDict

from recommender.events.common import Context, StatementError, holds_nip, shape_problem
from recommender.events.record import Event
from recommender.events.simple import parse_simple
from recommender.events.xapi import parse_statement, statement_id_or_none

#: Most items one batch may hold; more raises :class:`BatchTooLargeError`.
MAX_BATCH: Final = 1000

_T = TypeVar("_T")
log = logging.getLogger(__name__)
#: 18 digits with optional single separators (a NIP in any spelling) and e-mail addresses.
_NIP_LIKE = re.compile(r"\d(?:[ .\-']?\d){17}")
_EMAIL_LIKE = re.compile(r"[^\s\"'<>(),;:]+@[^\s\"'<>(),;:]+")


class BatchTooLargeError(ValueError):
    """The batch holds more than the allowed number of items (HTTP 413)."""


class ItemError(BaseModel):
    """One problem of one item: ``index`` in the batch (from 0), its event id when known,
    ``field`` as a dotted path (``""`` = the whole item) and a message without personal data."""

    model_config = ConfigDict(frozen=True)

    index: int
    event_id: str | None
    field: str
    message: str


class BatchResult(BaseModel):
    """``events`` in batch order (good items only) and ``errors`` (possibly several per item)."""

    model_config = ConfigDict(frozen=True)

    received: int
    events: list[Event]
    errors: list[ItemError]

    @property
    def rejected(self) -> list[int]:
        """Indices of the items that were rejected, ascending, each once."""
        return sorted({e.index for e in self.errors})


def parse_batch(
    items: list[Any],
    pseudonymise: Callable[[str], str | None],
    now: datetime,
    *,
    hash_ifi: Callable[[str], str],
    max_items: int = MAX_BATCH,
) -> BatchResult:
    """Parse a batch: every good item becomes an :class:`Event`, every problem an ItemError.

    ``items``: the decoded JSON array (simple events and xAPI statements mixed).
    ``pseudonymise``: identifier -> employee pseudonym or None (not a NIP); ``hash_ifi``: IFI
    text -> keyed hash; both usually from :func:`identity_functions`. ``now``: aware datetime,
    the time of receipt. Raises :class:`BatchTooLargeError` when ``len(items) > max_items``,
    TypeError when ``items`` is not a list, ValueError when ``now`` is naive; never for a bad
    item.
    """
    if not isinstance(items, list):
        raise TypeError("a batch must be a JSON array of events")
    if len(items) > max_items:
        raise BatchTooLargeError(
            f"a batch holds at most {max_items} events; this one has {len(items)}: split it"
        )
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    ctx = Context(_memo(pseudonymise), _memo(hash_ifi), now)
    events: list[Event] = []
    errors: list[ItemError] = []
    for index, item in enumerate(items):
        event, problems = _parse_item(item, ctx)
        if event is not None:
            events.append(event)
        event_id = _event_id(item) if problems else None
        errors.extend(_error(index, event_id, f, m) for f, m in problems)
    return BatchResult(received=len(items), events=events, errors=errors)


def _parse_item(item: Any, ctx: Context) -> tuple[Event | None, list[tuple[str, str]]]:
    """One item -> its event, or None and its problems ``(field, message)``. A value error the
    checks did not foresee is still one item's problem (logged by type only), never the
    batch's."""
    try:
        return _parse_checked(item, ctx)
    except (ValueError, TypeError, ArithmeticError, RecursionError) as exc:
        log.warning("an event item could not be read: %s", type(exc).__name__)
        return None, [("", "could not be read (malformed value)")]


def _parse_checked(item: Any, ctx: Context) -> tuple[Event | None, list[tuple[str, str]]]:
    if not isinstance(item, dict):
        return None, [("", "an event must be a JSON object")]
    shape = shape_problem(item)  # before anything walks the item recursively
    if shape is not None:
        return None, [shape]
    if "type" not in item and any(k in item for k in ("actor", "verb", "object")):
        try:
            return parse_statement(item, ctx), []
        except StatementError as p:
            return None, [(p.field, p.message)]
    return parse_simple(item, ctx)


def _event_id(item: Any) -> str | None:
    """The id to name a bad item by: its ``event_id`` or statement id when it can be shown."""
    if not isinstance(item, dict) or shape_problem(item) is not None:
        return None
    if "type" not in item and any(k in item for k in ("actor", "verb", "object")):
        return statement_id_or_none(item)
    event_id = item.get("event_id")
    return event_id if isinstance(event_id, str) else None


def _memo(func: Callable[[str], _T]) -> Callable[[str], _T]:
    """``func`` with a cache for one batch (a person often appears several times)."""
    cache: dict[str, _T] = {}

    def cached(text: str) -> _T:
        if text not in cache:
            cache[text] = func(text)
        return cache[text]

    return cached


def _redact(text: str) -> str:
    return _EMAIL_LIKE.sub("<e-mail>", _NIP_LIKE.sub("<NIP>", text))


def _error(index: int, event_id: str | None, field: str, message: str) -> ItemError:
    eid = _redact(event_id.strip())[:128] if event_id and not holds_nip(event_id) else None
    return ItemError(index=index, event_id=eid, field=_redact(field), message=_redact(message))
