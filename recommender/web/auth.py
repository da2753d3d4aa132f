"""Sign-in, session cookies, CSRF tokens and sign-in throttling of the HR pages.

A session is a random token in an HttpOnly, SameSite=Lax cookie (Secure in production); the
database keeps only its SHA-256 with the user and a CSRF token (:mod:`recommender.store.users`).
Every form carries the CSRF token in a hidden field and a POST without the right one is refused
(403). The sign-in form, before any session exists, uses a double-submit token: a random cookie
that the form must repeat. Failed sign-ins cost a fixed delay, lock the account after repeated
failures (in the database), and are throttled per user name (known or not, so a lock-out does
not tell which names exist) and per client address (in memory, per process).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote

from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker

from recommender.store import users
from recommender.store.db import reachable

SESSION_COOKIE: Final = "jenjang_session"
LOGIN_CSRF_COOKIE: Final = "jenjang_login_csrf"
LANG_COOKIE: Final = "jenjang_lang"
FAILURE_DELAY: Final = 0.5  # seconds added to every failed sign-in
THROTTLE_WINDOW: Final = 300.0  # seconds
THROTTLE_MAX: Final = 20  # failed sign-ins per client address per window
NAME_MAX: Final = 5  # failed sign-ins per user name per window, known or not (no enumeration)


@dataclass(frozen=True)
class Viewer:
    """The signed-in user as the pages need it: ``units`` None = every unit (HR admin)."""

    user_id: str
    username: str
    role: str
    units: frozenset[str] | None
    csrf: str


class LoginRequiredError(Exception):
    """No valid session: the page answers with a redirect to the sign-in form."""

    def __init__(self, next_path: str) -> None:
        super().__init__("sign-in required")
        self.next_path = next_path


class CsrfError(Exception):
    """A form arrived without the session's CSRF token (answered 403)."""


class Throttle:
    """Failed sign-ins per client address in a sliding window (thread-safe, in memory)."""

    def __init__(self, window: float = THROTTLE_WINDOW, limit: int = THROTTLE_MAX) -> None:
        self.window, self.limit = window, limit
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, client: str, now: float | None = None) -> bool:
        """True when ``client`` has ``limit`` failures within the window."""
        now = time.monotonic() if now is None else now
        with self._lock:
            seen = self._failures.get(client)
            if not seen:
                return False
            while seen and seen[0] < now - self.window:
                seen.popleft()
            return len(seen) >= self.limit

    def retry_after(self, client: str, now: float | None = None) -> int:
        """Seconds until ``client`` is no longer blocked (0 when it is not)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            seen = self._failures.get(client)
            if not seen or len(seen) < self.limit:
                return 0
            return max(1, int(seen[-self.limit] + self.window - now) + 1)

    def reset(self, client: str) -> None:
        """Forget ``client``'s failures (after a successful sign-in)."""
        with self._lock:
            self._failures.pop(client, None)

    def failed(self, client: str, now: float | None = None) -> None:
        """Count one failed sign-in of ``client``."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._failures) > 10_000:  # bounded memory under a spray of addresses
                self._failures.clear()
            self._failures.setdefault(client, deque()).append(now)


def client_of(request: Request) -> str:
    """The client's address as uvicorn reports it: the TCP peer, or the ``X-Forwarded-For``
    address when the peer is a proxy uvicorn trusts (``jenjang serve`` trusts none unless
    ``--forwarded-allow-ips`` is given)."""
    return request.client.host if request.client else "unknown"


def safe_next(path: str | None) -> str:
    """A local path to go to after sign-in ("/" for anything else: no open redirect)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def login_url(next_path: str) -> str:
    """The sign-in form that returns to ``next_path``."""
    return f"/login?next={quote(safe_next(next_path), safe='/')}"


def viewer_of(factory: sessionmaker[Session], token: str | None) -> Viewer | None:
    """The user of a session cookie, or None (no, unknown or expired session). Raises
    StoreUnavailableError (a 503 page) when the database cannot be reached."""
    if not token or len(token) > 200:
        return None
    with reachable("the session cannot be checked"), factory.begin() as session:
        found = users.session_user(session, token)
        if found is None:
            return None
        user, web_session = found
        return Viewer(
            user.user_id,
            user.username,
            user.role,
            users.units_of(user),
            web_session.csrf_token,
        )


def same_token(sent: str | None, expected: str | None) -> bool:
    """Constant-time comparison of a submitted token with the expected one."""
    if not sent or not expected:
        return False
    return hmac.compare_digest(sent.encode(), expected.encode())


def new_login_token() -> str:
    """A fresh double-submit token for the sign-in form."""
    return secrets.token_urlsafe(32)
