"""Load and size limits of the service, as one pure ASGI middleware (:class:`Limits`).

Checked in this order, before any routing or work, each refusal a JSON body of the documented
error shape (``{"detail", "request_id"}``):

* request target (path and query string) longer than ``max_url_bytes``: 414;
* more than ``MAX_HEADERS`` header fields or more than ``max_header_bytes`` of them: 431;
* a declared body (``Content-Length``) over ``max_body_bytes``: 413; a body sent without a
  length (chunked) is counted while the app reads it and refused with 413 at the first byte
  over the limit (:class:`BodyTooLargeError`, an ``HTTPException``);
* per API key (``X-API-Key`` or ``Authorization: Bearer``), a token bucket of
  ``rate_limit_per_key`` requests per second with ``rate_limit_burst`` tokens: 429 with
  ``Retry-After`` (seconds until a token is back) when it is empty;
* more than ``max_in_flight`` requests inside this worker at once: 503 with ``Retry-After``
  at once, instead of queueing without end.

The operations endpoints (``/healthz``, ``/readyz``, ``/metrics``) are never rate or
concurrency limited, so probes still answer under overload. Every limit is per worker process.
Nothing of the request (path, key, body) is logged or echoed.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from recommender.config import Settings

#: Most header fields a request may carry (uvicorn itself has no limit).
MAX_HEADERS = 100
#: Most API keys whose buckets are remembered (least recently used ones are dropped).
MAX_KEYS = 10_000
#: ``Retry-After`` of a 503 (seconds): one worker clears its in-flight requests well within it.
BUSY_RETRY_AFTER_S = 1
#: Paths that are never rate or concurrency limited (probes and metrics).
EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class BodyTooLargeError(HTTPException):
    """A request body went over the size limit while it was being read (413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body over {limit} bytes")


@dataclass(frozen=True)
class LimitConfig:
    """The limits, from :class:`~recommender.config.Settings` (0 switches a limit off)."""

    rate_per_key: float = 0.0
    burst: int = 0
    max_in_flight: int = 0
    max_body_bytes: int = 0
    max_url_bytes: int = 0
    max_header_bytes: int = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> LimitConfig:
        """The limits configured in ``settings`` (burst 0 = two seconds' worth, at least 1)."""
        rate = settings.rate_limit_per_key
        burst = settings.rate_limit_burst or max(1, math.ceil(2 * rate))
        return cls(
            rate_per_key=rate,
            burst=burst,
            max_in_flight=settings.max_in_flight,
            max_body_bytes=settings.max_body_bytes,
            max_url_bytes=settings.max_url_bytes,
            max_header_bytes=settings.max_header_bytes,
        )


class KeyRateLimiter:
    """Token buckets per API key: ``rate`` tokens per second up to ``burst``; at most
    ``max_keys`` keys are remembered (least recently used dropped: a forgotten key starts
    again with a full bucket). Not thread-safe: used from the event loop only."""

    def __init__(
        self,
        rate: float,
        burst: int,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = float(burst)
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str) -> float:
        """Take one token for ``key``: 0.0 when granted, else the seconds until one is back."""
        now = self.clock()
        tokens, stamp = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - stamp) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait

    def __len__(self) -> int:
        return len(self._buckets)


def retry_after(seconds: float) -> int:
    """Whole seconds for a ``Retry-After`` header (at least 1)."""
    return max(1, math.ceil(seconds))


@dataclass
class _Head:
    """What the middleware reads from the request head in one pass over the headers."""

    count: int = 0
    size: int = 0
    key: str | None = None
    length: int | None = None
    bad_length: bool = False


def _read_head(headers: list[tuple[bytes, bytes]]) -> _Head:
    """Count and size the header fields; the API key and declared body length."""
    head = _Head(count=len(headers))
    for name, value in headers:
        head.size += len(name) + len(value) + 4  # ": " and CRLF
        if name == b"x-api-key":
            head.key = value.decode("latin-1").strip() or head.key
        elif name == b"authorization" and head.key is None:
            if value[:7].lower() == b"bearer ":
                head.key = value[7:].decode("latin-1").strip() or None
        elif name == b"content-length":
            try:
                head.length = int(value)
            except ValueError:
                head.bad_length = True
    return head


async def refuse(
    scope: Scope, send: Send, status: int, detail: str, headers: dict[str, str] | None = None
) -> None:
    """Send a JSON error ``{"detail", "request_id"}`` with ``status`` (and extra headers)."""
    request_id = scope.get("state", {}).get("request_id")
    body = json.dumps({"detail": detail, "request_id": request_id}).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class Limits:
    """Pure ASGI middleware applying :class:`LimitConfig` (see the module's docstring).

    ``on_refuse(reason)`` is called for every refusal (metrics); ``in_flight`` is the number
    of limited requests inside the app now."""

    def __init__(
        self,
        app: ASGIApp,
        config: LimitConfig,
        on_refuse: Callable[[str], None] | None = None,
    ) -> None:
        self.app = app
        self.config = config
        self.on_refuse = on_refuse
        self.in_flight = 0
        self.rates = (
            KeyRateLimiter(config.rate_per_key, config.burst) if config.rate_per_key > 0 else None
        )

    async def _refuse(
        self,
        scope: Scope,
        send: Send,
        reason: tuple[int, str, str],
        headers: dict[str, str] | None = None,
    ) -> None:
        status, name, detail = reason
        if self.on_refuse is not None:
            self.on_refuse(name)
        await refuse(scope, send, status, detail, headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cfg = self.config
        target = len(scope.get("raw_path") or scope["path"].encode()) + len(scope["query_string"])
        if cfg.max_url_bytes and target > cfg.max_url_bytes:
            detail = f"request target over {cfg.max_url_bytes} bytes"
            await self._refuse(scope, send, (414, "url", detail))
            return
        head = _read_head(scope["headers"])
        if head.count > MAX_HEADERS or (cfg.max_header_bytes and head.size > cfg.max_header_bytes):
            detail = f"headers over {MAX_HEADERS} fields or {cfg.max_header_bytes} bytes"
            await self._refuse(scope, send, (431, "headers", detail))
            return
        if head.bad_length or (head.length is not None and head.length < 0):
            await self._refuse(scope, send, (400, "length", "invalid Content-Length"))
            return
        limit = cfg.max_body_bytes
        if limit and head.length is not None and head.length > limit:
            await self._refuse(scope, send, (413, "body", f"request body over {limit} bytes"))
            return
        if scope["path"] in EXEMPT_PATHS:
            await self._run(scope, receive, send, limit)
            return
        if self.rates is not None and head.key is not None:
            wait = self.rates.take(head.key)
            if wait > 0:
                headers = {"Retry-After": str(retry_after(wait))}
                detail = "too many requests for this API key"
                await self._refuse(scope, send, (429, "rate", detail), headers)
                return
        if cfg.max_in_flight and self.in_flight >= cfg.max_in_flight:
            headers = {"Retry-After": str(BUSY_RETRY_AFTER_S)}
            detail = "the service is busy; retry later"
            await self._refuse(scope, send, (503, "busy", detail), headers)
            return
        self.in_flight += 1
        try:
            # let the other requests that arrived with this one start and be counted
            await asyncio.sleep(0)
            await self._run(scope, receive, send, limit)
        finally:
            self.in_flight -= 1

    def _bounded(self, receive: Receive, limit: int) -> Receive:
        """``receive`` that raises :class:`BodyTooLargeError` past ``limit`` body bytes."""
        seen = 0

        async def bounded() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLargeError(limit)
            return message

        return bounded

    async def _run(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """The app, with a body limit; a 413 raised outside any handler is answered here."""
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, self._bounded(receive, limit) if limit else receive, tracked)
        except BodyTooLargeError as exc:
            if started:
                raise
            await self._refuse(scope, send, (413, "body", str(exc.detail)))
