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


class FrozenThrottle(auth.Throttle):
    """A throttle whose clock stands still (the same ``Retry-After`` in every run)."""

    def blocked(self, client: str, now: float | None = None) -> bool:
        return super().blocked(client, 1000.0)

    def retry_after(self, client: str, now: float | None = None) -> int:
        return super().retry_after(client, 1000.0)

    def failed(self, client: str, now: float | None = None) -> None:
        super().failed(client, 1000.0)


def _failures(store: Any, username: str, count: int) -> list[tuple[Any, ...]]:
    """``count`` failed sign-ins of ``username`` with fresh throttles: what each answered."""
    by_client, by_name = FrozenThrottle(), FrozenThrottle(limit=auth.NAME_MAX)
    answers = []
    for _ in range(count):
        r = _sign_in(store, username, "wrong-guess", by_client=by_client, by_name=by_name)
        answers.append((r.session, r.error, r.status, r.retry_after, r.values))
    return answers


def test_failed_sign_ins_answer_the_same_for_known_and_unknown_names(store: Any) -> None:
    """Issue 22, finding 5: the fifth failure locked a known account (429) while an unknown
    name still got 401, which told which names exist. Every answer is now the same."""
    with store.begin() as session:
        users.create_user(
            session, username="enum.victim", password="right-password", role="admin", units=None
        )
    known = _failures(store, "enum.victim", 8)
    unknown = _failures(store, "enum.nobody", 8)
    assert known == unknown
    assert [a[2] for a in known] == [401] * auth.NAME_MAX + [429] * 3
