"""API keys on requests: ``X-API-Key: jk_...`` (or ``Authorization: Bearer jk_...``).

Keys are verified against their stored hash (:mod:`recommender.store.keys`); a verified answer
is remembered for ``ttl`` seconds so the database is not on every request's path (a revoked key
stops working within that time). While the database cannot be reached, the last answer for a
key stands for up to ``stale`` seconds (the service keeps answering through an outage); a key
not seen before is then 503 with ``Retry-After``. Missing or unknown key: 401; a key without the
route's scope: 403. Unit limits are applied by the routes (an employee outside the key's units
is 404, the same answer as for an unknown employee).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Awaitable, Callable
from typing import NamedTuple

from fastapi import HTTPException, Request
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from recommender.store.db import StoreUnavailableError, unavailable
from recommender.store.keys import KeyInfo, verify

TTL_SECONDS = 30.0
#: How long a remembered answer stands in while the database cannot be reached.
STALE_SECONDS = 3600.0


class _Seen(NamedTuple):
    """A remembered answer: the key's rights (None = refused), until when it is fresh, and when
    the database last confirmed it."""

    info: KeyInfo | None
    fresh_until: float
    verified_at: float


class KeyChecker:
    """Verifies presented keys with a short in-memory memory of recent answers."""

    def __init__(
        self, factory: sessionmaker[Session], ttl: float = TTL_SECONDS, stale: float = STALE_SECONDS
    ) -> None:
        self.factory = factory
        self.ttl = ttl
        self.stale = stale
        self._seen: dict[str, _Seen] = {}
        self._lock = threading.Lock()

    def remembered(self, presented: str) -> tuple[bool, KeyInfo | None]:
        """``(True, answer)`` when a fresh answer for the key is remembered (no database
        needed), else ``(False, None)``."""
        with self._lock:
            hit = self._seen.get(_digest(presented))
        if hit is not None and hit.fresh_until > time.monotonic():
            return True, hit.info
        return False, None

    def check(self, presented: str) -> KeyInfo | None:
        """The key's scopes and units, or None when it is unknown or revoked. Raises
        StoreUnavailableError when the database is away and the key was not seen lately."""
        digest = _digest(presented)
        now = time.monotonic()
        with self._lock:
            hit = self._seen.get(digest)
        if hit is not None and hit.fresh_until > now:
            return hit.info
        try:
            with self.factory() as session:
                info = verify(session, presented)
        except SQLAlchemyError as exc:
            if not unavailable(exc):
                raise
            if hit is None or hit.verified_at + self.stale <= now:
                raise StoreUnavailableError("the API key cannot be checked") from None
            # the database is away: the last answer stands; ask again after ``ttl``
            self._remember(digest, hit._replace(fresh_until=now + self.ttl))
            return hit.info
        self._remember(digest, _Seen(info, now + self.ttl, now))
        return info

    def _remember(self, digest: str, seen: _Seen) -> None:
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen.clear()
            self._seen[digest] = seen

    def forget(self) -> None:
        """Drop remembered answers (after revoking keys)."""
        with self._lock:
            self._seen.clear()


def _digest(presented: str) -> str:
    return hashlib.sha256(presented.encode()).hexdigest()


def _presented(request: Request) -> str | None:
    headers = request.headers
    x_api_key = headers.get("x-api-key")
    if x_api_key:
        return x_api_key.strip()
    authorization = headers.get("authorization")
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None


def require(scope: str | None) -> Callable[..., Awaitable[KeyInfo]]:
    """A dependency that returns the caller's :class:`KeyInfo`; ``scope`` None = any valid key.
    Raises HTTP 401 (no or unknown key) or 403 (scope missing), StoreUnavailableError (503)
    when the key cannot be checked."""

    async def dependency(request: Request) -> KeyInfo:
        presented = _presented(request)
        if not presented:
            raise HTTPException(
                401, "an API key is required (header X-API-Key)", {"WWW-Authenticate": "Bearer"}
            )
        checker: KeyChecker = request.app.state.keys
        known, info = checker.remembered(presented)
        if not known:  # the database, off the event loop (a slow one must not stall it)
            info = await run_in_threadpool(checker.check, presented)
        if info is None:
            raise HTTPException(401, "unknown or revoked API key", {"WWW-Authenticate": "Bearer"})
        if scope is not None and not info.has_scope(scope):
            raise HTTPException(403, f"this API key lacks the '{scope}' scope")
        return info

    return dependency
