"""API keys on requests: ``X-API-Key: jk_...`` (or ``Authorization: Bearer jk_...``).

Keys are verified against their stored hash (:mod:`recommender.store.keys`); a verified answer
is remembered for ``ttl`` seconds so the database is not on every request's path (a revoked key
stops working within that time). Missing or unknown key: 401; a key without the route's scope:
403. Unit limits are applied by the routes (an employee outside the key's units is 404, the same
answer as for an unknown employee).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request
from sqlalchemy.orm import Session, sessionmaker

from recommender.store.keys import KeyInfo, verify

TTL_SECONDS = 30.0


class KeyChecker:
    """Verifies presented keys with a short in-memory memory of recent answers."""

    def __init__(self, factory: sessionmaker[Session], ttl: float = TTL_SECONDS) -> None:
        self.factory = factory
        self.ttl = ttl
        self._seen: dict[str, tuple[KeyInfo | None, float]] = {}
        self._lock = threading.Lock()

    def check(self, presented: str) -> KeyInfo | None:
        """The key's scopes and units, or None when it is unknown or revoked."""
        digest = hashlib.sha256(presented.encode()).hexdigest()
        now = time.monotonic()
        with self._lock:
            hit = self._seen.get(digest)
        if hit is not None and hit[1] > now:
            return hit[0]
        with self.factory() as session:
            info = verify(session, presented)
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen.clear()
            self._seen[digest] = (info, now + self.ttl)
        return info

    def forget(self) -> None:
        """Drop remembered answers (after revoking keys)."""
        with self._lock:
            self._seen.clear()


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
    Raises HTTP 401 (no or unknown key) or 403 (scope missing)."""

    async def dependency(request: Request) -> KeyInfo:
        presented = _presented(request)
        if not presented:
            raise HTTPException(
                401, "an API key is required (header X-API-Key)", {"WWW-Authenticate": "Bearer"}
            )
        checker: KeyChecker = request.app.state.keys
        info = checker.check(presented)
        if info is None:
            raise HTTPException(401, "unknown or revoked API key", {"WWW-Authenticate": "Bearer"})
        if scope is not None and not info.has_scope(scope):
            raise HTTPException(403, f"this API key lacks the '{scope}' scope")
        return info

    return dependency
