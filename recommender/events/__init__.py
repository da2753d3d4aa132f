"""Parse and validate a batch of LMS events (``POST /v1/events``; pure: no database, no HTTP).

A batch is a JSON array mixing two kinds of item:

* **simple events** (:class:`SimpleEvent`): ``{"type": "complete", "event_id": "...",
  "employee": "<NIP>", "program_id": "PL001", "time": "2024-05-01T09:30:00+07:00", ...}``;
* **xAPI 1.0.x statements**: any object with ``actor``, ``verb`` or ``object`` and no ``type``
  (the three are then all required). What the service uses is validated; the rest is kept.

:func:`parse_batch` turns the good items into :class:`Event` records (the one event record,
which :func:`recommender.store.repo.add_events` stores as it is) and reports every problem of
a bad item as an :class:`ItemError`; a bad item never stops the others.

Conventions
-----------
**People.** The LMS names people by NIP. The NIP never leaves this package: ``pseudonymise`` (the
caller's, see :func:`identity_functions`) maps an identifier to the employee pseudonym, or None
when it is not a (known) NIP. Simple events: ``employee`` must be such a NIP, else the item is
rejected. xAPI: only ``actor.account.name`` is tried as a NIP (any ``homePage``); an actor that is
not a NIP (an ``mbox`` e-mail, an ``openid``, a Group, another account) is accepted and stored with
``employee_id=None`` under ``actor_key = hash_ifi(<its identifier>)``, a keyed hash
(``a_`` + 16 base-32 characters); for NIP actors ``actor_key`` is the employee pseudonym. The
inverse functional identifier (IFI) hashed is ``"mbox:<mailto IRI>"``, ``"mbox_sha1sum:<hex>"``,
``"openid:<URI>"`` or ``"account:<homePage> <name>"``; an anonymous Group is hashed over its sorted
members' IFIs. In ``Event.raw`` every Agent or Group anywhere in the statement (actor, members,
object, sub-statement, ``context.instructor``/``team``, ``authority``) is replaced by
``{"objectType": ..., "key": <pseudonym or hash>}`` (members kept, replaced the same way): no
e-mail, NIP, openid, account or person's name remains. Free text (``result.response``, extension
values) is kept as sent.

**Programmes.** A simple event's ``program_id`` is a bare programme id (``PL001``) or an IRI
following the xAPI convention. An xAPI Activity names a programme when its id IRI's path *ends*
with ``/programs/<program_id>`` (optional trailing slash, any host, no query or fragment; the
segment is percent-decoded), e.g. ``https://lms.example.go.id/programs/PL001`` ->
``item_kind="program"``, ``item_id="PL001"``. Any other Activity is ``item_kind="activity"`` with
the full IRI as ``item_id`` (a module ``.../programs/PL001/modules/2`` is not the programme).
Other objects: StatementRef -> ``"statement"`` (its UUID), SubStatement -> ``"substatement"``
(None), Agent/Group -> ``"agent"``/``"group"`` (their key).

**Verbs.** ADL verbs ``completed``, ``passed``, ``failed``, ``scored``, ``registered`` map to
``complete``, ``pass``, ``fail``, ``score``, ``enrol``; ``voided`` (object must be a StatementRef)
is ``void`` with ``voids`` = the named statement id (the store takes a void only when that
statement is stored and the sender may see it: :func:`recommender.store.ingest.void_problem`);
every other verb (``attempted``, ``experienced``, ``attended``, any non-ADL IRI) is ``other``:
stored and acknowledged, never rejected. The type follows the verb only: ``attempted`` with
``result.completion = true`` stays ``other`` (``Event.completion`` carries the flag).

**Ids.** Simple events carry ``event_id`` (1-128 characters, surrounding blanks stripped). An xAPI
statement uses its ``id`` (a UUID, written in canonical lower-case form) or, without one,
``uuid5(XAPI_NAMESPACE, canonical JSON of the statement as received)`` (sorted keys, no blanks,
UTF-8), so a replayed statement keeps its id. Simple events and statements share one id space
per sender (the API key that sent them, :func:`recommender.store.ingest.ingest_events`): the
store keeps a sender's first event of an id (replays change nothing); the same id from another
sender is another event. ``parse_batch`` does not de-duplicate: two items with one id both come
back as events. An id (or request id) holding a valid NIP, in any spelling, is refused.

**Times.** ISO 8601 text with a date and a time; without an offset it is taken as UTC. Every
``occurred_at`` is timezone-aware UTC. A statement without ``timestamp`` takes ``stored``, else
``now``. Times more than :data:`MAX_CLOCK_SKEW` after ``now``, before 1970, or that leave the
calendar once converted to UTC (``0001-01-01T00:00:00+14:00``) are rejected.

**Input limits.** An item nesting arrays or objects deeper than 32 levels, holding text that is
not valid Unicode (a lone surrogate) or a NUL character, or a number that is not finite, is
rejected before it is parsed (checked without recursion); such an item is named by index only.

**Request id.** Simple events: ``request_id``. xAPI: the value of a ``context.extensions`` entry
whose IRI's last path segment is ``request_id`` (e.g.
``https://lms.example.go.id/xapi/extensions/request_id``).

**Scores** are scaled scores in [-1, 1] as xAPI ``result.score.scaled``; a statement with only
``raw``, ``min`` and ``max`` gets ``(raw - min) / (max - min)``; ``raw`` alone gives no score.

Error messages, field paths and echoed event ids never contain a NIP or an e-mail address (18-digit
runs and addresses are masked); a simple event whose ids hold the employee's own NIP is refused,
so no NIP reaches the store through an id.
"""

from recommender.events.batch import (
    MAX_BATCH,
    BatchResult,
    BatchTooLargeError,
    ItemError,
    parse_batch,
)
from recommender.events.common import MAX_CLOCK_SKEW, parse_time
from recommender.events.identity import ACTOR_PREFIX, IdentityFunctions, identity_functions
from recommender.events.record import (
    COMPLETION_TYPES,
    EVENT_ITEM_KINDS,
    EVENT_TYPES,
    SIMPLE_TYPES,
    SOURCES,
    Event,
    EventType,
    ItemKind,
    ObjectKind,
    SimpleType,
    Source,
)
from recommender.events.simple import SimpleEvent
from recommender.events.xapi import ADL_VERBS, VERB_TYPES, VOIDED, XAPI_NAMESPACE

__all__ = [
    "ACTOR_PREFIX",
    "ADL_VERBS",
    "COMPLETION_TYPES",
    "EVENT_ITEM_KINDS",
    "EVENT_TYPES",
    "MAX_BATCH",
    "MAX_CLOCK_SKEW",
    "SIMPLE_TYPES",
    "SOURCES",
    "VERB_TYPES",
    "VOIDED",
    "XAPI_NAMESPACE",
    "BatchResult",
    "BatchTooLargeError",
    "Event",
    "EventType",
    "IdentityFunctions",
    "ItemError",
    "ItemKind",
    "ObjectKind",
    "SimpleEvent",
    "SimpleType",
    "Source",
    "identity_functions",
    "parse_batch",
    "parse_time",
]
