"""What the simple-event and the xAPI parsers share: the parse context, item errors, times and
programme IRIs (see :mod:`recommender.events`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final, NamedTuple
from urllib.parse import unquote, urlsplit

#: How far after ``now`` an event time may lie (clocks of LMS and service differ a little).
MAX_CLOCK_SKEW: Final = timedelta(minutes=5)
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
    return parsed.astimezone(UTC)


TIME_MESSAGE: Final = "must be an ISO 8601 date and time, e.g. 2024-05-01T09:30:00+07:00"


def check_time(when: datetime, now: datetime, field: str) -> datetime:
    """``when``, or StatementError when it lies more than MAX_CLOCK_SKEW after ``now``."""
    if when > now + MAX_CLOCK_SKEW:
        raise StatementError(field, "lies in the future")
    return when


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
