"""How the ``/v1`` routes compute and send answers: on the compute threads (or inline), from
the service's cache, and spliced into their envelope as pre-serialised JSON.

The cached answer is kept serialised (:class:`~recommender.service.Answer`); a hit costs no
JSON encoding and no validation: :func:`respond` writes the envelope (request id, the
identifier as sent, language) in front of the cached bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from anyio import CapacityLimiter, to_thread
from fastapi import Request, Response
from pydantic import TypeAdapter

from recommender.cache import Answer
from recommender.service import Service

T = TypeVar("T")


def compute_limiter(request: Request) -> CapacityLimiter | None:
    """The app's limiter of compute threads (``Settings.compute_threads``), made on first use
    inside the event loop; None when answers are computed on the event loop (0 threads)."""
    state = request.app.state
    if not state.compute_threads:
        return None
    limiter: CapacityLimiter | None = getattr(state, "compute", None)
    if limiter is None:
        limiter = state.compute = CapacityLimiter(state.compute_threads)
    return limiter


async def compute(*, request: Request, work: Callable[[], T]) -> T:
    """``work()`` on a compute thread, or inline when there are none; its exceptions propagate."""
    limiter = compute_limiter(request)
    if limiter is None:
        return work()
    return await to_thread.run_sync(work, limiter=limiter)


async def cached_answer(
    *,
    request: Request,
    service: Service,
    key: tuple[Hashable, ...],
    build: Callable[[], dict[str, Any]],
    item_key: str,
) -> Answer:
    """The cached answer at once; on a miss, built on one of the compute threads, so the event
    loop keeps reading new requests (and refusing the excess, :mod:`recommender.api.limits`)
    while answers are computed. Exceptions of ``build`` propagate unchanged."""
    hit = service.peek(key)
    if hit is not None:
        return hit
    return await compute(request=request, work=lambda: service.cached(key, build, item_key))


def respond(*, request: Request, sent_id: str, answer: Answer, lang: str) -> Response:
    """The answer with its envelope (request id, the identifier as sent, language), spliced
    into the cached JSON without decoding it."""
    head = json.dumps(
        {"request_id": request.state.request_id, "employee": sent_id, "language": lang}
    ).encode()
    return Response(head[:-1] + b"," + answer.body[1:], media_type="application/json")


#: How FastAPI serialises a route's returned ``dict[str, Any]`` (pydantic's JSON, compact).
_DICT: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[str, Any])


def as_json(body: dict[str, Any]) -> Response:
    """``body`` answered with the bytes FastAPI sends for a returned ``dict[str, Any]``: for
    routes that declare a ``response_model`` for the OpenAPI document but must not have their
    answer validated or filtered by it."""
    return Response(_DICT.dump_json(body), media_type="application/json")
