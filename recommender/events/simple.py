"""Simple LMS events (``{"type": "complete", "event_id": ..., "employee": "<NIP>", ...}``)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Final

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictStr,
    StringConstraints,
    ValidationError,
)

from recommender.events.common import (
    IRI,
    Context,
    holds_nip,
    parse_time,
    program_from_iri,
    time_problem,
)
from recommender.events.record import Event, SimpleType

_NIP_DIGITS: Final = 18

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


def parse_simple(item: dict[str, Any], ctx: Context) -> tuple[Event | None, list[tuple[str, str]]]:
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
        elif value is not None and holds_nip(value):
            problems.append((name, "must not contain a NIP"))
    program_id: str | None = ev.program_id
    if "/" in ev.program_id:
        program_id = program_from_iri(ev.program_id) if IRI.match(ev.program_id) else None
        if program_id is None:
            problems.append(
                (
                    "program_id",
                    "must be a programme id or an IRI ending with /programs/<program_id>",
                )
            )
    when = time_problem(ev.time, ctx.now)
    if when is not None:
        problems.append(("time", when))
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
