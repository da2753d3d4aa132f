"""Parse and validate a batch of LMS events for ``POST /v1/events`` (pure: no database, no HTTP).

A batch is a JSON array mixing two kinds of item:

* **simple events** (:class:`SimpleEvent`): ``{"type": "complete", "event_id": "...",
  "employee": "<NIP>", "program_id": "PL001", "time": "2024-05-01T09:30:00+07:00", ...}``;
* **xAPI 1.0.x statements**: any object with ``actor``, ``verb`` or ``object`` and no ``type``
  (the three are then all required). What the service uses is validated; the rest is kept.

:func:`parse_batch` turns the good items into :class:`Event` records and reports every problem of
a bad item as an :class:`ItemError`; a bad item never stops the others.

Conventions
-----------
**People.** The LMS names people by NIP. The NIP never leaves this module: ``pseudonymise`` (the
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
is ``void`` with ``voids`` = the named statement id; every other verb (``attempted``,
``experienced``, ``attended``, any non-ADL IRI) is ``other``: stored and acknowledged, never
rejected. The type follows the verb only: ``attempted`` with ``result.completion = true`` stays
``other`` (``Event.completion`` carries the flag).

**Ids.** Simple events carry ``event_id`` (1-128 characters, surrounding blanks stripped). An xAPI
statement uses its ``id`` (a UUID, written in canonical lower-case form) or, without one,
``uuid5(XAPI_NAMESPACE, canonical JSON of the statement as received)`` (sorted keys, no blanks,
UTF-8), so a replayed statement keeps its id. Simple events and statements share one id space;
the store keeps the first event of an id (replays change nothing). ``parse_batch`` does not
de-duplicate: two items with one id both come back as events.

**Times.** ISO 8601 text with a date and a time; without an offset it is taken as UTC. Every
``occurred_at`` is timezone-aware UTC. A statement without ``timestamp`` takes ``stored``, else
``now``. Times more than :data:`MAX_CLOCK_SKEW` after ``now`` are rejected.

**Request id.** Simple events: ``request_id``. xAPI: the value of a ``context.extensions`` entry
whose IRI's last path segment is ``request_id`` (e.g.
``https://lms.example.go.id/xapi/extensions/request_id``).

**Scores** are scaled scores in [-1, 1] as xAPI ``result.score.scaled``; a statement with only
``raw``, ``min`` and ``max`` gets ``(raw - min) / (max - min)``; ``raw`` alone gives no score.

Error messages, field paths and echoed event ids never contain a NIP or an e-mail address (18-digit
runs and addresses are masked); a simple event whose ids hold the employee's own NIP is refused,
so no NIP reaches the store through an id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import re
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Final, Literal, NamedTuple, TypeVar
from urllib.parse import unquote, urlsplit

import pandas as pd
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictStr,
    StringConstraints,
    ValidationError,
)

from recommender.data.normalize import normalize_nip
from recommender.pseudonym import DIGEST_CHARS
from recommender.pseudonym import pseudonymise as _pseudonymise_nip

#: Most items one batch may hold; more raises :class:`BatchTooLargeError`.
MAX_BATCH: Final = 1000
#: How far after ``now`` an event time may lie (clocks of LMS and service differ a little).
MAX_CLOCK_SKEW: Final = timedelta(minutes=5)
#: Namespace of the UUID5 ids given to statements that come without an ``id``.
XAPI_NAMESPACE: Final = uuid.UUID("6b1f3c3e-2f59-5c57-9a43-5a0d8e1c7a10")
#: Prefix of keyed hashes of xAPI actors that are not employees (pseudonyms start with ``e_``).
ACTOR_PREFIX: Final = "a_"

SimpleType = Literal["impression", "click", "enrol", "complete", "dismiss"]
EventType = Literal[
    "impression", "click", "enrol", "complete", "dismiss", "pass", "fail", "score", "void", "other"
]
ItemKind = Literal["program", "activity", "statement", "substatement", "agent", "group"]

ADL_VERBS: Final = "http://adlnet.gov/expapi/verbs/"
VOIDED: Final = ADL_VERBS + "voided"
VERB_TYPES: Final[dict[str, EventType]] = {
    ADL_VERBS + "completed": "complete",
    ADL_VERBS + "passed": "pass",
    ADL_VERBS + "failed": "fail",
    ADL_VERBS + "scored": "score",
    ADL_VERBS + "registered": "enrol",
    VOIDED: "void",
}

_T = TypeVar("_T")
_IFI_KEYS: Final = ("mbox", "mbox_sha1sum", "openid", "account")
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")
_SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
_ISO_START = re.compile(r"^\d{4}-?\d{2}-?\d{2}[Tt ]\d")
_PROGRAM_PATH = re.compile(r"/programs/([^/]+)/?$")
_NIP_DIGITS: Final = 18
#: 18 digits with optional single separators (a NIP in any spelling) and e-mail addresses.
_NIP_LIKE = re.compile(r"\d(?:[ .\-']?\d){17}")
_EMAIL_LIKE = re.compile(r"[^\s\"'<>(),;:]+@[^\s\"'<>(),;:]+")


class BatchTooLargeError(ValueError):
    """The batch holds more than the allowed number of items (HTTP 413)."""


# --------------------------------------------------------------------------------------------
# Identity helpers
# --------------------------------------------------------------------------------------------


class IdentityFunctions(NamedTuple):
    """The two functions :func:`parse_batch` needs, bound to one pseudonym key."""

    #: identifier as the LMS sends it -> employee pseudonym, or None when it is not a valid NIP.
    pseudonymise: Callable[[str], str | None]
    #: IFI text (see the module docstring) -> keyed hash ``a_...``.
    hash_ifi: Callable[[str], str]


def identity_functions(key: str) -> IdentityFunctions:
    """Bind the NIP pseudonymiser and the actor hasher to ``key`` (the service's pseudonym key).

    ``pseudonymise`` normalises the NIP exactly as ingest does (spaces, dots, dashes allowed; the
    date and sex digits checked) and returns ``recommender.pseudonym.pseudonymise(nip, key)``, so
    ids match the clean tables; it never raises. ``hash_ifi`` is HMAC-SHA256 under ``key`` with a
    domain prefix, so it never equals a pseudonym.
    """

    def pseudonymise(identifier: str) -> str | None:
        nip = normalize_nip(pd.Series([identifier], dtype=object)).values.iloc[0]
        return None if nip is None else _pseudonymise_nip(str(nip), key)

    def hash_ifi(ifi: str) -> str:
        digest = hmac.new(key.encode(), b"xapi-actor\x00" + ifi.encode(), hashlib.sha256).digest()
        return ACTOR_PREFIX + base64.b32encode(digest).decode().lower()[:DIGEST_CHARS]

    return IdentityFunctions(pseudonymise, hash_ifi)


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


class Event(BaseModel):
    """One normalised event, ready to store. Holds no NIP, e-mail or personal name.

    ``employee_id`` is the pseudonym (None for xAPI actors that are not NIPs); ``actor_key`` is
    the pseudonym or the keyed hash of the actor; ``item_kind``/``item_id`` name the object
    (``program`` + programme id for programmes); ``verb`` is the xAPI verb IRI (None for simple
    events); ``voids`` the event id a ``void`` cancels; ``raw`` the scrubbed statement (None for
    simple events). ``occurred_at`` is timezone-aware UTC.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str
    request_id: str | None
    source: Literal["simple", "xapi"]
    type: EventType
    verb: str | None
    employee_id: str | None
    actor_key: str
    item_kind: ItemKind
    item_id: str | None
    position_id: str | None = None
    score: float | None = None
    success: bool | None = None
    completion: bool | None = None
    occurred_at: datetime
    voids: str | None = None
    raw: dict[str, Any] | None = None

    @property
    def program_id(self) -> str | None:
        """The programme id when the object is a programme, else None."""
        return self.item_id if self.item_kind == "program" else None


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


# --------------------------------------------------------------------------------------------
# Simple events
# --------------------------------------------------------------------------------------------


def parse_time(value: Any) -> datetime:
    """ISO 8601 text (date and time, optional offset; ``Z`` allowed) or a datetime -> aware UTC.

    No offset means UTC. Raises ValueError (message without the value) for anything else,
    including numbers (epoch seconds are ambiguous) and dates without a time.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and _ISO_START.match(value.strip()):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(_TIME_MESSAGE) from None
    else:
        raise ValueError(_TIME_MESSAGE)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


_TIME_MESSAGE: Final = "must be an ISO 8601 date and time, e.g. 2024-05-01T09:30:00+07:00"

Id128 = Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


class SimpleEvent(BaseModel):
    """A simple LMS event. Unknown fields are rejected; strings must be JSON strings.

    ``employee`` is the NIP as the LMS knows it (text: a JSON number would lose digits);
    ``program_id`` a bare programme id or a programme IRI; ``time`` ISO 8601 (no offset = UTC);
    ``score`` a scaled score in [-1, 1].
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: SimpleType
    event_id: Id128
    request_id: Id128 | None = None
    employee: Annotated[StrictStr, StringConstraints(min_length=1, max_length=64)]
    program_id: Annotated[
        StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=512)
    ]
    position_id: Id128 | None = None
    time: Annotated[datetime, BeforeValidator(parse_time)]
    score: Annotated[float, Field(ge=-1.0, le=1.0, allow_inf_nan=False)] | None = None


# --------------------------------------------------------------------------------------------
# Batch
# --------------------------------------------------------------------------------------------


class _StatementError(Exception):
    """A problem with one item at ``field`` (raised and caught inside this module)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


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
    ctx = _Context(_memo(pseudonymise), _memo(hash_ifi), now)
    events: list[Event] = []
    errors: list[ItemError] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append(_error(index, None, "", "an event must be a JSON object"))
        elif "type" not in item and any(k in item for k in ("actor", "verb", "object")):
            event_id = _statement_id_or_none(item)
            try:
                events.append(_parse_statement(item, ctx))
            except _StatementError as p:
                errors.append(_error(index, event_id, p.field, p.message))
        else:
            event, problems = _parse_simple(item, ctx)
            if event is not None:
                events.append(event)
            event_id = item.get("event_id") if isinstance(item.get("event_id"), str) else None
            errors.extend(_error(index, event_id, f, m) for f, m in problems)
    return BatchResult(received=len(items), events=events, errors=errors)


class _Context(NamedTuple):
    pseudonymise: Callable[[str], str | None]
    hash_ifi: Callable[[str], str]
    now: datetime


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
    eid = _redact(event_id.strip())[:128] if event_id else None
    return ItemError(index=index, event_id=eid, field=_redact(field), message=_redact(message))


def _check_time(when: datetime, now: datetime, field: str) -> datetime:
    if when > now + MAX_CLOCK_SKEW:
        raise _StatementError(field, "lies in the future")
    return when


def _parse_simple(
    item: dict[str, Any], ctx: _Context
) -> tuple[Event | None, list[tuple[str, str]]]:
    try:
        ev = SimpleEvent.model_validate(item)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False, include_input=False):
            field = ".".join(str(p) for p in err["loc"])
            message = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = "unknown field (not permitted)"
            problems.append((field, message))
        return None, problems
    employee_id = ctx.pseudonymise(ev.employee)
    problems = []
    if employee_id is None:
        problems.append(("employee", "not a valid NIP"))
    nip = re.sub(r"\D", "", ev.employee)
    for name in ("event_id", "request_id", "program_id", "position_id"):
        value = getattr(ev, name)
        if len(nip) == _NIP_DIGITS and value is not None and nip in re.sub(r"\D", "", value):
            problems.append((name, "must not contain the employee's NIP"))
    program_id: str | None = ev.program_id
    if "/" in ev.program_id:
        program_id = _program_from_iri(ev.program_id) if _IRI.match(ev.program_id) else None
        if program_id is None:
            problems.append(
                (
                    "program_id",
                    "must be a programme id or an IRI ending with /programs/<program_id>",
                )
            )
    if ev.time > ctx.now + MAX_CLOCK_SKEW:
        problems.append(("time", "lies in the future"))
    if problems or employee_id is None or program_id is None:
        return None, problems
    event = Event(
        event_id=ev.event_id,
        request_id=ev.request_id,
        source="simple",
        type=ev.type,
        verb=None,
        employee_id=employee_id,
        actor_key=employee_id,
        item_kind="program",
        item_id=program_id,
        position_id=ev.position_id,
        score=ev.score,
        occurred_at=ev.time,
    )
    return event, []


def _program_from_iri(iri: str) -> str | None:
    """``.../programs/<id>`` (optional trailing slash, no query/fragment) -> ``<id>``, else None."""
    try:
        parts = urlsplit(iri)
    except ValueError:
        return None
    if parts.query or parts.fragment:
        return None
    match = _PROGRAM_PATH.search(parts.path)
    if match is None:
        return None
    program_id = unquote(match.group(1)).strip()
    return program_id if program_id and "/" not in program_id else None


# --------------------------------------------------------------------------------------------
# xAPI statements
# --------------------------------------------------------------------------------------------


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _uuid(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise _StatementError(field, "must be a UUID")
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        raise _StatementError(field, "must be a UUID") from None


def _statement_id_or_none(stmt: dict[str, Any]) -> str | None:
    try:
        return _statement_id(stmt)
    except _StatementError:
        return None


def _statement_id(stmt: dict[str, Any]) -> str:
    """The statement's ``id`` (canonical UUID) or the UUID5 of its canonical JSON."""
    if "id" in stmt and stmt["id"] is not None:
        return _uuid(stmt["id"], "id")
    try:
        text = _canonical(stmt)
    except (TypeError, ValueError):
        raise _StatementError("", "is not plain JSON") from None
    return str(uuid.uuid5(XAPI_NAMESPACE, text))


def _object(stmt: Mapping[str, Any], name: str, path: str) -> dict[str, Any]:
    value = stmt.get(name)
    if value is None:
        raise _StatementError(_join(path, name), "required")
    if not isinstance(value, dict):
        raise _StatementError(_join(path, name), "must be an object")
    return value


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _iri(value: Any, field: str) -> str:
    if not isinstance(value, str) or not _IRI.match(value.strip()):
        raise _StatementError(field, "must be an IRI (e.g. http://...)")
    return value.strip()


def _ifi(agent: Mapping[str, Any], path: str) -> str | None:
    """The agent's single IFI as text (see the module docstring), None when it has none.

    Raises _StatementError when it has several or a malformed one.
    """
    present = [k for k in _IFI_KEYS if agent.get(k) is not None]
    if len(present) > 1:
        raise _StatementError(path, f"has {len(present)} identifiers ({', '.join(present)}); one")
    if not present:
        return None
    key = present[0]
    value = agent[key]
    field = _join(path, key)
    if key == "mbox":
        if not isinstance(value, str) or not value.startswith("mailto:") or "@" not in value:
            raise _StatementError(field, "must be a mailto: IRI")
        return f"mbox:{value.strip()}"
    if key == "mbox_sha1sum":
        if not isinstance(value, str) or not _SHA1.match(value):
            raise _StatementError(field, "must be 40 hexadecimal digits")
        return f"mbox_sha1sum:{value.lower()}"
    if key == "openid":
        return f"openid:{_iri(value, field)}"
    if not isinstance(value, dict):
        raise _StatementError(field, "must be an object with homePage and name")
    home, name = value.get("homePage"), value.get("name")
    if not isinstance(home, str) or not home.strip():
        raise _StatementError(_join(field, "homePage"), "required (text)")
    if not isinstance(name, str) or not name.strip():
        raise _StatementError(_join(field, "name"), "required (text)")
    return f"account:{home.strip()} {name.strip()}"


class _Actor(NamedTuple):
    kind: Literal["agent", "group"]
    employee_id: str | None
    key: str


def _actor(agent: dict[str, Any], path: str, ctx: _Context) -> _Actor:
    """Validate an Agent or Group; return its kind, employee pseudonym (or None) and key."""
    kind = agent.get("objectType", "Agent")
    if kind not in ("Agent", "Group"):
        raise _StatementError(_join(path, "objectType"), "must be Agent or Group")
    ifi = _ifi(agent, path)
    if kind == "Agent":
        if ifi is None:
            raise _StatementError(path, "needs one of mbox, mbox_sha1sum, openid, account")
        account = agent.get("account")
        if isinstance(account, dict):
            employee_id = ctx.pseudonymise(str(account["name"]).strip())
            if employee_id is not None:
                return _Actor("agent", employee_id, employee_id)
        return _Actor("agent", None, ctx.hash_ifi(ifi))
    members = agent.get("member")
    if members is not None and not isinstance(members, list):
        raise _StatementError(_join(path, "member"), "must be a list of Agents")
    if ifi is None:
        if not members:
            raise _StatementError(path, "an anonymous Group needs members")
        ifis = []
        for i, m in enumerate(members):
            mpath = f"{path}.member.{i}"
            if not isinstance(m, dict) or m.get("objectType", "Agent") != "Agent":
                raise _StatementError(mpath, "must be an Agent")
            member_ifi = _ifi(m, mpath)
            if member_ifi is None:
                raise _StatementError(mpath, "needs one of mbox, mbox_sha1sum, openid, account")
            ifis.append(member_ifi)
        ifi = "group:" + "\n".join(sorted(ifis))
    return _Actor("group", None, ctx.hash_ifi(ifi))


def _score(result: Mapping[str, Any]) -> float | None:
    score = result.get("score")
    if score is None:
        return None
    if not isinstance(score, dict):
        raise _StatementError("result.score", "must be an object")
    numbers: dict[str, float] = {}
    for name in ("scaled", "raw", "min", "max"):
        value = score.get(name)
        if value is None:
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise _StatementError(f"result.score.{name}", "must be a number")
        numbers[name] = float(value)
    if "scaled" in numbers and not -1.0 <= numbers["scaled"] <= 1.0:
        raise _StatementError("result.score.scaled", "must lie between -1 and 1")
    low, high, raw = numbers.get("min"), numbers.get("max"), numbers.get("raw")
    if low is not None and high is not None and low >= high:
        raise _StatementError("result.score.max", "must be greater than min")
    if raw is not None and ((low is not None and raw < low) or (high is not None and raw > high)):
        raise _StatementError("result.score.raw", "must lie between min and max")
    if "scaled" in numbers:
        return numbers["scaled"]
    if raw is not None and low is not None and high is not None:
        return (raw - low) / (high - low)
    return None


def _flag(result: Mapping[str, Any], name: str) -> bool | None:
    value = result.get(name)
    if value is not None and not isinstance(value, bool):
        raise _StatementError(f"result.{name}", "must be true or false")
    return value


def _request_id(stmt: Mapping[str, Any]) -> str | None:
    context = stmt.get("context")
    if context is None:
        return None
    if not isinstance(context, dict):
        raise _StatementError("context", "must be an object")
    extensions = context.get("extensions")
    if not isinstance(extensions, dict):
        return None
    for iri, value in extensions.items():
        if urlsplit(str(iri)).path.rstrip("/").rsplit("/", 1)[-1] == "request_id":
            if not isinstance(value, str) or not 1 <= len(value.strip()) <= 128:
                raise _StatementError("context.extensions.request_id", "must be 1-128 characters")
            return value.strip()
    return None


def _occurred_at(stmt: Mapping[str, Any], now: datetime) -> datetime:
    for name in ("timestamp", "stored"):
        value = stmt.get(name)
        if value is not None:
            if not isinstance(value, str):
                raise _StatementError(name, _TIME_MESSAGE)
            try:
                when = parse_time(value)
            except ValueError as exc:
                raise _StatementError(name, str(exc)) from None
            return _check_time(when, now, name)
    return now


def _target(obj: dict[str, Any], ctx: _Context) -> tuple[ItemKind, str | None]:
    """Validate the statement's object; return (item_kind, item_id)."""
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        iri = _iri(obj.get("id"), "object.id")
        program_id = _program_from_iri(iri)
        return ("program", program_id) if program_id is not None else ("activity", iri)
    if kind == "StatementRef":
        return "statement", _uuid(obj.get("id"), "object.id")
    if kind in ("Agent", "Group"):
        actor = _actor(obj, "object", ctx)
        return actor.kind, actor.key
    if kind == "SubStatement":
        for name in ("actor", "verb", "object"):
            _object(obj, name, "object")
        _actor(obj["actor"], "object.actor", ctx)
        _iri(obj["verb"].get("id"), "object.verb.id")
        if obj["object"].get("objectType") == "SubStatement":
            raise _StatementError("object.object.objectType", "a SubStatement cannot nest another")
        return "substatement", None
    raise _StatementError(
        "object.objectType", "must be Activity, Agent, Group, StatementRef or SubStatement"
    )


def _parse_statement(stmt: dict[str, Any], ctx: _Context) -> Event:
    event_id = _statement_id(stmt)
    actor = _actor(_object(stmt, "actor", ""), "actor", ctx)
    verb = _iri(_object(stmt, "verb", "").get("id"), "verb.id")
    obj = _object(stmt, "object", "")
    item_kind, item_id = _target(obj, ctx)
    event_type = VERB_TYPES.get(verb, "other")
    voids = None
    if event_type == "void":
        if item_kind != "statement":
            raise _StatementError(
                "object.objectType", "a voided statement must name a StatementRef"
            )
        voids = item_id
    result = stmt.get("result")
    if result is not None and not isinstance(result, dict):
        raise _StatementError("result", "must be an object")
    result = result or {}
    return Event(
        event_id=event_id,
        request_id=_request_id(stmt),
        source="xapi",
        type=event_type,
        verb=verb,
        employee_id=actor.employee_id,
        actor_key=actor.key,
        item_kind=item_kind,
        item_id=item_id,
        score=_score(result),
        success=_flag(result, "success"),
        completion=_flag(result, "completion"),
        occurred_at=_occurred_at(stmt, ctx.now),
        voids=voids,
        raw=_scrub(stmt, ctx),
    )


def _looks_like_agent(value: Mapping[str, Any]) -> bool:
    return value.get("objectType") in ("Agent", "Group") or any(k in value for k in _IFI_KEYS)


def _scrub(value: Any, ctx: _Context) -> Any:
    """Copy of ``value``, every Agent/Group replaced by ``{"objectType", "key"[, "member"]}``."""
    if isinstance(value, list):
        return [_scrub(v, ctx) for v in value]
    if not isinstance(value, dict):
        return value
    if not _looks_like_agent(value):
        return {k: _scrub(v, ctx) for k, v in value.items()}
    kind = value.get("objectType") if value.get("objectType") in ("Agent", "Group") else "Agent"
    out: dict[str, Any] = {"objectType": kind}
    try:
        out["key"] = _actor(value, "", ctx).key
    except _StatementError:  # malformed agent outside the validated positions: hash what is there
        ids = {k: value[k] for k in _IFI_KEYS if k in value}
        if ids:
            out["key"] = ctx.hash_ifi("malformed:" + json.dumps(ids, sort_keys=True, default=str))
    members = value.get("member")
    if isinstance(members, list):
        out["member"] = [_scrub(m, ctx) for m in members]
    return out
