"""What the simple-event and the xAPI parsers share: the parse context, item errors, times and
programme IRIs (see :mod:`recommender.events`)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final, NamedTuple
from urllib.parse import unquote, urlsplit

from recommender.data.nip import parse_nip

#: How far after ``now`` an event time may lie (clocks of LMS and service differ a little).
MAX_CLOCK_SKEW: Final = timedelta(minutes=5)
#: The earliest event time accepted (no LMS event is older; pandas and the reports need a floor).
EARLIEST: Final = datetime(1970, 1, 1, tzinfo=UTC)
#: How deep arrays and objects may nest in one item (checked without recursion).
MAX_DEPTH: Final = 32
IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")
_ISO_START = re.compile(r"^\d{4}-?\d{2}-?\d{2}[Tt ]\d")
_PROGRAM_PATH = re.compile(r"/programs/([^/]+)/?$")


class StatementError(Exception):
    """A problem with one item at ``field`` (raised and caught inside this module)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class Context(NamedTuple):
    """What one batch is parsed with: the two identity functions and the time of receipt."""

    pseudonymise: Callable[[str], str | None]
    hash_ifi: Callable[[str], str]
    now: datetime


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
            raise ValueError(TIME_MESSAGE) from None
    else:
        raise ValueError(TIME_MESSAGE)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:  # 0001-01-01T00:00+14:00 and 9999-12-31T23:59-14:00 leave the calendar in UTC
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError(RANGE_MESSAGE) from None


TIME_MESSAGE: Final = "must be an ISO 8601 date and time, e.g. 2024-05-01T09:30:00+07:00"
RANGE_MESSAGE: Final = "lies outside the calendar once converted to UTC"
_SEPARATORS = re.compile(r"[\s.\-_/':]")
_DIGITS_18 = re.compile(r"(?=(\d{18}))")


def time_problem(when: datetime, now: datetime) -> str | None:
    """Why ``when`` (aware UTC) cannot be an event time, or None: after ``now`` plus
    MAX_CLOCK_SKEW, or before :data:`EARLIEST`."""
    if when > now + MAX_CLOCK_SKEW:
        return "lies in the future"
    if when < EARLIEST:
        return "lies before 1970-01-01"
    return None


def check_time(when: datetime, now: datetime, field: str) -> datetime:
    """``when``, or StatementError when :func:`time_problem` finds one."""
    problem = time_problem(when, now)
    if problem is not None:
        raise StatementError(field, problem)
    return when


def holds_nip(text: str) -> bool:
    """True when ``text`` holds a valid NIP (18 digits with a real birth date, appointment
    month and sex digit), also spelled with spaces, dots, dashes, underscores or slashes."""
    digits = _SEPARATORS.sub("", text)
    for match in _DIGITS_18.finditer(digits):
        try:
            parse_nip(match.group(1))
        except ValueError:
            continue
        return True
    return False


def program_from_iri(iri: str) -> str | None:
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


_SAFE_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def shape_problem(item: dict[str, Any]) -> tuple[str, str] | None:
    """``(field, message)`` for the first value of ``item`` that cannot be stored or answered,
    or None: arrays/objects nested deeper than :data:`MAX_DEPTH`, text that is not valid
    Unicode (a lone surrogate) or holds a NUL character, a number that is not finite. ``field``
    is the top-level field holding it (``""`` when that name is itself unusable). Iterative: a
    deeply nested body cannot exhaust the stack."""
    stack: list[tuple[Any, int, str]] = [(item, 1, "")]
    while stack:
        value, depth, field = stack.pop()
        if depth > MAX_DEPTH:
            return field, f"nests arrays or objects deeper than {MAX_DEPTH} levels"
        if isinstance(value, dict):
            for key, inner in value.items():
                name = field if depth > 1 else (key if _SAFE_FIELD.match(str(key)) else "")
                problem = _text_problem(key) if isinstance(key, str) else None
                if problem is not None:
                    return name, f"has a field name that {problem}"
                stack.append((inner, depth + 1, name))
        elif isinstance(value, list):
            stack.extend((inner, depth + 1, field) for inner in value)
        elif isinstance(value, str):
            problem = _text_problem(value)
            if problem is not None:
                return field, f"holds text that {problem}"
        elif isinstance(value, float) and not math.isfinite(value):
            return field, "holds a number that is not finite"
    return None


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "is not valid Unicode (a lone surrogate)"
    return None
