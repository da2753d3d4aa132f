"""The one event record: what :func:`recommender.events.parse_batch` produces and
:func:`recommender.store.repo.add_events` stores (pure: no database, no HTTP)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

SimpleType = Literal["impression", "click", "enrol", "complete", "dismiss"]
EventType = Literal[
    "impression", "click", "enrol", "complete", "dismiss", "pass", "fail", "score", "void", "other"
]
#: What an xAPI statement's object can be.
ObjectKind = Literal["program", "activity", "statement", "substatement", "agent", "group"]
#: What a stored event can be about (``position`` for events written by other callers).
ItemKind = Literal["program", "position", "activity", "statement", "substatement", "agent", "group"]
Source = Literal["simple", "xapi"]

SIMPLE_TYPES: Final[tuple[SimpleType, ...]] = (
    "impression",
    "click",
    "enrol",
    "complete",
    "dismiss",
)
#: Simple types, and what xAPI verbs map to (completed -> complete, passed -> pass, ...).
EVENT_TYPES: Final[tuple[EventType, ...]] = (
    *SIMPLE_TYPES,
    "pass",
    "fail",
    "score",
    "void",
    "other",
)
#: Event types that mean "this programme is done": ``complete`` (simple event or xAPI
#: ``completed``) and ``pass`` (xAPI ``passed``).
COMPLETION_TYPES: Final[tuple[EventType, ...]] = ("complete", "pass")
#: What an event is about (``program``; xAPI objects that are not programmes keep their kind).
EVENT_ITEM_KINDS: Final[tuple[ItemKind, ...]] = (
    "program",
    "position",
    "activity",
    "statement",
    "substatement",
    "agent",
    "group",
)
SOURCES: Final[tuple[Source, ...]] = ("simple", "xapi")


@dataclass(frozen=True)
class Event:
    """One normalised event, ready to store. Holds no NIP, e-mail or personal name.

    ``employee_id`` is the pseudonym (None for xAPI actors that are not NIPs); ``actor_key`` is
    the pseudonym or the keyed hash of the actor (None: the store takes ``employee_id``);
    ``type`` a simple type for ``source="simple"``, for ``"xapi"`` also pass, fail, score, void,
    other, with the verb IRI in ``verb`` (None for simple events); ``item_kind``/``item_id`` name
    the object (``program`` + programme id for programmes); ``voids`` the event id a ``void``
    cancels; ``raw`` the scrubbed xAPI statement (None for simple events). ``occurred_at`` is
    timezone-aware UTC.

    Built by the parser, the record is valid; built by hand (tests, tools), it is checked by
    :func:`recommender.store.repo.check_event` before anything is written (the dataclass itself
    validates nothing).
    """

    event_id: str
    employee_id: str | None
    type: EventType
    occurred_at: datetime
    request_id: str | None = None
    source: Source = "simple"
    verb: str | None = None
    actor_key: str | None = None
    item_kind: ItemKind | None = "program"
    item_id: str | None = None
    position_id: str | None = None
    score: float | None = None
    success: bool | None = None
    completion: bool | None = None
    voids: str | None = None
    raw: dict[str, Any] | None = None

    @property
    def program_id(self) -> str | None:
        """The programme id when the object is a programme, else None."""
        return self.item_id if self.item_kind == "program" else None
