"""Signing in to the HR pages, as a plain function the ``POST /login`` route calls
(:func:`sign_in`); the route only turns its :class:`SignInResult` into HTTP (the form again,
or a redirect with the session cookie).

The order of the checks is part of the defence (:mod:`recommender.web.auth`): the form's
double-submit CSRF token first, then the per-address and per-name throttles, then the password
against the database (off the event loop), where repeated failures lock the account. Every
failed attempt costs :data:`recommender.web.auth.FAILURE_DELAY` seconds.

No answer tells whether a name exists (issue 22): the lock-out that is shown (429 ``locked``)
is the per-name throttle's, which counts the failures of any name, known or not. The
database's lock of an existing account (:class:`recommender.store.users.LockedOut`, which also
covers several worker processes and restarts) answers like a wrong password (401), and costs the
same time; a locked owner is told "wrong username or password" until the lock ends.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from recommender.store import users
from recommender.store.db import reachable
from recommender.web import auth


@dataclass(frozen=True)
class SignInResult:
    """The outcome of a sign-in: ``session`` the new session token (None when refused);
    otherwise ``error`` the words to show (a key of :mod:`recommender.web.i18n`, formatted with
    ``values``), the HTTP ``status`` (403 bad form token, 429 throttled or locked by the
    throttles, 401 wrong name or password or an account locked in the database, 503 no
    database) and ``retry_after`` seconds (0 = no header)."""

    session: str | None = None
    error: str = ""
    status: int = 303
    retry_after: int = 0
    values: dict[str, int] = field(default_factory=dict)


def _refused(error: str, status: int, retry_after: int = 0) -> SignInResult:
    values = {"seconds": retry_after} if error == "locked" else {}
    return SignInResult(None, error, status, retry_after, values)


def _attempt(
    store: sessionmaker[Session], username: str, password: str, previous: str | None
) -> str | None:
    """The new session token; None for a wrong name or password and for an account locked in
    the database (the same answer: it must not tell that the name exists). Raises
    StoreUnavailableError when the database cannot be reached."""
    with reachable("sign-in is not possible"), store.begin() as session:
        try:
            user = users.authenticate(session, username, password)
        except (users.LoginFailed, ValueError):  # LockedOut included
            return None
        if previous:  # signing in again replaces the session the browser had
            users.end_session(session, previous)
        users.purge_expired(session)
        token, _csrf = users.start_session(session, user)
        return token


async def sign_in(
    *,
    store: sessionmaker[Session] | None,
    username: str,
    password: str,
    form_token: str,
    cookie_token: str | None,
    client: str,
    previous: str | None,
    by_client: auth.Throttle,
    by_name: auth.Throttle,
) -> SignInResult:
    """Check a sign-in form and start a session.

    ``form_token`` / ``cookie_token``: the double-submit CSRF token of the form and of its
    cookie; ``client`` the client's address; ``previous`` the session token the browser had
    (ended on success); ``by_client`` / ``by_name`` the throttles of failed sign-ins per
    address and per user name. Returns a :class:`SignInResult`; raises StoreUnavailableError
    when the database cannot be reached (a 503 page).
    """
    if not auth.same_token(form_token, cookie_token):
        return _refused("csrf", 403)
    name = "user:" + username.strip().lower()[:64]
    if by_client.blocked(client):
        return _refused("throttled", 429, by_client.retry_after(client))
    if by_name.blocked(name):
        await asyncio.sleep(auth.FAILURE_DELAY)
        return _refused("locked", 429, by_name.retry_after(name))
    if store is None:
        return _refused("login_failed", 503)
    outcome = await run_in_threadpool(_attempt, store, username.strip().lower(), password, previous)
    if outcome is None:
        by_client.failed(client)
        by_name.failed(name)
        await asyncio.sleep(auth.FAILURE_DELAY)
        return _refused("login_failed", 401)
    by_name.reset(name)
    return SignInResult(session=outcome)
