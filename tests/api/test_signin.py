"""Signing in as a plain function (:func:`recommender.web.signin.sign_in`), without HTTP: the
form token first, then the throttles, then the password; the route only adapts the result."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from recommender.store import users
from recommender.web import auth
from recommender.web.signin import SignInResult, sign_in
from tests.api.conftest import REVIEWER_PASSWORD


@pytest.fixture(autouse=True)
def _no_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "FAILURE_DELAY", 0.0)


def _sign_in(store: Any, username: str, password: str, **overrides: Any) -> SignInResult:
    args: dict[str, Any] = {
        "store": store,
        "username": username,
        "password": password,
        "form_token": "t",
        "cookie_token": "t",
        "client": "10.0.0.1",
        "previous": None,
        "by_client": auth.Throttle(),
        "by_name": auth.Throttle(limit=auth.NAME_MAX),
        **overrides,
    }
    return asyncio.run(sign_in(**args))


def test_a_good_password_starts_a_session(store: Any, hr_users: dict[str, str]) -> None:
    result = _sign_in(store, " Rina.Reviewer ", REVIEWER_PASSWORD)
    assert result.session and result.error == "" and result.status == 303
    with store.begin() as session:
        found = users.session_user(session, result.session)
    assert found is not None and found[0].username == hr_users["reviewer"]


def test_refusals_say_why_in_order(store: Any, hr_users: dict[str, str]) -> None:
    bad_form = _sign_in(store, hr_users["reviewer"], REVIEWER_PASSWORD, cookie_token="other")
    assert (bad_form.session, bad_form.error, bad_form.status) == (None, "csrf", 403)
    assert _sign_in(None, "someone", "pw").status == 503  # no database
    by_client, by_name = auth.Throttle(limit=2), auth.Throttle(limit=auth.NAME_MAX)
    for _ in range(2):
        wrong = _sign_in(store, "nobody.here", "wrong", by_client=by_client, by_name=by_name)
        assert (wrong.error, wrong.status, wrong.retry_after) == ("login_failed", 401, 0)
    throttled = _sign_in(
        store, hr_users["reviewer"], REVIEWER_PASSWORD, by_client=by_client, by_name=by_name
    )
    assert (throttled.session, throttled.error, throttled.status) == (None, "throttled", 429)
    assert throttled.retry_after >= 1


def test_a_name_with_too_many_failures_is_locked(store: Any) -> None:
    by_name = auth.Throttle(limit=1)
    _sign_in(store, "ghost.user", "wrong", by_name=by_name, by_client=auth.Throttle())
    locked = _sign_in(store, "ghost.user", "wrong", by_name=by_name, by_client=auth.Throttle())
    assert (locked.error, locked.status) == ("locked", 429)
    assert locked.values == {"seconds": locked.retry_after} and locked.retry_after >= 1
