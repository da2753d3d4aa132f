"""Feedback from the LMS: batches of simple events or xAPI statements."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Response

from recommender.api.answers import as_json
from recommender.api.deps import LmsKey, ServiceDep
from recommender.api.errors import COMMON_ERRORS, SCOPE_ERROR
from recommender.api.schemas import EventsAnswer

router = APIRouter(prefix="/v1", tags=["feedback"], responses=COMMON_ERRORS)


@router.post("/events", response_model=EventsAnswer, responses=SCOPE_ERROR)
def events(
    service: ServiceDep,
    key: LmsKey,
    batch: Annotated[list[Any] | dict[str, Any], Body()],
) -> Response:
    """A batch of simple events or xAPI statements (a JSON array, or ``{"events": [...]}``);
    bad items are reported one by one, the good ones kept; replays change nothing. Event and
    statement ids are the sending key's own: the same id from another key is another event. A
    void is refused unless the statement it names is stored and was sent by this key or is
    about a person of its units. A batch over the size limit is 413."""
    items = batch.get("events") if isinstance(batch, dict) else batch
    if not isinstance(items, list):
        raise HTTPException(422, 'send a JSON array of events, or {"events": [...]}')
    return as_json(service.ingest_events(items, key.units, key.key_id))
