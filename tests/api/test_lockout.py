"""Issue 22, findings 4 and 5, over HTTP: the sign-in form answers the same statuses, headers
and pages for failed sign-ins of an existing name and of an unknown one (no user enumeration
by the lock-out), and an account locked in the database answers like a wrong password."""

from __future__ import annotations

import contextlib
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from recommender.config import Settings
from recommender.service import Service
from recommender.store import users
from recommender.web import auth
from tests.api.test_pages import csrf_of
from tests.api.test_signin import FrozenThrottle

TOKEN = re.compile(r'name="csrf_token" value="[^"]+"')


@pytest.fixture
def app(api_settings: Settings, service: Service, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A new app whose throttles' clock stands still, with no delay on failures."""
    from recommender.api.app import create_app

    monkeypatch.setattr(auth, "FAILURE_DELAY", 0.0)
    made = create_app(api_settings, service)
    made.state.login_throttle = FrozenThrottle()
    made.state.name_throttle = FrozenThrottle(limit=auth.NAME_MAX)
    return made


def _answers(app: Any, username: str, count: int, client: str) -> list[tuple[Any, ...]]:
    """``count`` failed sign-ins of ``username``: status, Retry-After and the page, with the
    form's fresh token and the echoed name taken out."""
    seen = []
    with TestClient(app, follow_redirects=False, client=(client, 4000)) as c:
        for _ in range(count):
            token = csrf_of(c.get("/login").text)
            r = c.post(
                "/login",
                data={"username": username, "password": "wrong-guess", "csrf_token": token},
            )
            page = TOKEN.sub("TOKEN", r.text).replace(username, "NAME")
            seen.append((r.status_code, r.headers.get("retry-after"), page))
    return seen


def test_failed_sign_ins_look_the_same_for_known_and_unknown_names(app: Any, store: Any) -> None:
    with store.begin() as session:
        users.create_user(
            session, username="enum.http", password="right-password", role="admin", units=None
        )
    known = _answers(app, "enum.http", 8, "10.1.0.1")
    unknown = _answers(app, "enum.ghost", 8, "10.1.0.2")
    assert [a[:2] for a in known] == [a[:2] for a in unknown]
    assert known == unknown
    assert [a[0] for a in known] == [401] * auth.NAME_MAX + [429] * 3


def test_an_account_locked_in_the_database_answers_like_a_wrong_password(
    app: Any, store: Any
) -> None:
    """The per-name throttle is per process (forgotten on restart); the database's lock stays,
    and its answer is the generic 401, even for the right password."""
    with store.begin() as session:
        users.create_user(
            session, username="enum.locked", password="right-password", role="admin", units=None
        )
    for _ in range(5):  # locked in the database by another process
        with store.begin() as session, contextlib.suppress(users.LoginFailed):
            users.authenticate(session, "enum.locked", "wrong-guess")
    with TestClient(app, follow_redirects=False, client=("10.1.0.3", 4000)) as c:
        token = csrf_of(c.get("/login").text)
        r = c.post(
            "/login",
            data={"username": "enum.locked", "password": "right-password", "csrf_token": token},
        )
    assert r.status_code == 401 and "retry-after" not in r.headers
