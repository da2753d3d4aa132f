"""Accounts, password hashing, sign-in with lock-out, and sessions of the HR web pages, on SQLite
and PostgreSQL (fixtures in conftest.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from recommender.store import db, repo, users
from recommender.store.models import User, WebSession
from recommender.store.repo import PersonalDataError
from recommender.store.users import LockedOut, LoginFailed

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
NIP = "198501012010011001"


def _reviewer(s: Session, name: str = "rina", units: list[str] | None = None) -> User:
    return users.create_user(
        s, username=name, password=PASSWORD, role="reviewer", units=units or ["UNIT-A"]
    )


def _attempt(
    factory: sessionmaker[Session], password: str, when: datetime, name: str = "rina", **kw: Any
) -> User | LoginFailed:
    """One sign-in in its own transaction; the failure is caught inside it (so it is kept)."""
    with factory.begin() as s:
        try:
            return users.authenticate(s, name, password, now=when, **kw)
        except LoginFailed as exc:
            return exc


@pytest.fixture
def scrypt_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the scrypt computations (one entry per call)."""
    calls: list[int] = []
    real: Callable[..., bytes] = users._scrypt

    def counting(*args: Any) -> bytes:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(users, "_scrypt", counting)
    return calls


# -- password hashing -------------------------------------------------------------------------


def test_hash_round_trip_format_and_wrong_password() -> None:
    stored = users.hash_password(PASSWORD)
    assert re.fullmatch(r"scrypt\$16384\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{86}==", stored)
    assert PASSWORD not in stored and "horse" not in stored
    assert len(stored) <= 255
    assert users.verify_password(PASSWORD, stored)
    assert not users.verify_password(PASSWORD + "!", stored)
    assert not users.verify_password("", stored)
    assert not users.needs_rehash(stored)
    again = users.hash_password(PASSWORD)
    assert again != stored  # a fresh salt every time
    # Malformed or tampered stored strings are a plain "no", never an exception.
    for broken in (
        "",
        "plain",
        stored.replace("scrypt", "bcrypt"),
        "scrypt$3$8$1$AA==$AA==",
        stored.rsplit("$", 1)[0] + "$not base64!",
    ):
        assert not users.verify_password(PASSWORD, broken)
    assert users.needs_rehash("scrypt$1024$8$1$" + stored.split("$", 4)[4])


@pytest.mark.parametrize("bad", ["short7!", "x" * 257])
def test_password_length_is_checked_without_echoing_it(bad: str) -> None:
    with pytest.raises(ValueError, match="8 to 256 characters") as info:
        users.hash_password(bad)
    assert bad not in str(info.value)
    assert not users.verify_password("x" * 257, users._DUMMY_HASH)


# -- accounts ---------------------------------------------------------------------------------


def test_create_users_and_units(factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        rina = _reviewer(s, "  Rina.HR ", ["UNIT-B", "UNIT-A", "UNIT-B", " "])
        boss = users.create_user(s, username="boss", password=PASSWORD, role="admin", units=None)
        empty_admin = users.create_user(
            s, username="boss2", password=PASSWORD, role="admin", units=[]
        )
    assert rina.username == "rina.hr" and rina.role == "reviewer"
    assert re.fullmatch(r"[0-9a-f]{32}", rina.user_id) and rina.user_id != boss.user_id
    assert users.units_of(rina) == frozenset({"UNIT-A", "UNIT-B"})
    assert users.units_of(boss) is None and users.units_of(empty_admin) is None
    broken = users.User(username="x", role="reviewer", units=None)
    assert users.units_of(broken) == frozenset(), "a reviewer without units sees nothing"
    with factory.begin() as s:
        stored = users.get_user(s, "RINA.hr")
        assert stored is not None and stored.units == ["UNIT-A", "UNIT-B"]
        assert stored.failed_logins == 0 and stored.locked_until is None
        assert stored.disabled_at is None and stored.last_login_at is None
        assert stored.created_at.tzinfo is not None
        assert users.verify_password(PASSWORD, stored.password_hash)
        assert [u.username for u in users.list_users(s)] == ["boss", "boss2", "rina.hr"]
        boss_row = users.get_user(s, "boss")
        assert boss_row is not None and boss_row.units is None
        # No plaintext anywhere in the table.
        dump = str(s.execute(select(User.__table__)).all())
        assert PASSWORD not in dump


def test_create_user_refuses_bad_input(
    factory: sessionmaker[Session], scrypt_calls: list[int]
) -> None:
    with factory.begin() as s:
        _reviewer(s)
    scrypt_calls.clear()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"username": "RINA"}, "username 'rina' is already taken"),
        ({"role": "owner"}, "role must be reviewer or admin"),
        ({"units": None}, "a reviewer needs at least one unit"),
        ({"units": []}, "a reviewer needs at least one unit"),
        ({"units": "UNIT-A"}, "list of unit ids"),
        ({"role": "admin", "units": ["UNIT-A"]}, "an admin sees every unit"),
        ({"username": "ab"}, "3 to 64 characters"),
        ({"username": "rina hr"}, "3 to 64 characters"),
        ({"username": "rína"}, "3 to 64 characters"),
        ({"username": "x" * 65}, "64 characters"),
        ({"password": "seven77"}, "8 to 256 characters"),
    ]
    for change, message in cases:
        args: dict[str, Any] = {
            "username": "new.user",
            "password": PASSWORD,
            "role": "reviewer",
            "units": ["UNIT-A"],
        } | change
        with pytest.raises(ValueError, match=re.escape(message)), factory.begin() as s:
            users.create_user(s, **args)
    for nip in (NIP, "19850101.201001.1.001"):
        with pytest.raises(PersonalDataError) as info, factory.begin() as s:
            users.create_user(s, username=nip, password=PASSWORD, role="admin", units=None)
        assert nip not in str(info.value)
    assert scrypt_calls == []  # refused before any hashing
    with factory.begin() as s:
        assert [u.username for u in users.list_users(s)] == ["rina"]


def test_duplicate_caught_by_the_database_is_a_value_error(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    with factory.begin() as s:
        _reviewer(s)
    monkeypatch.setattr(users, "get_user", lambda *_: None)  # as if made concurrently
    with pytest.raises(ValueError, match="username 'rina' is already taken"), factory.begin() as s:
        _reviewer(s)


def test_review_keeps_the_model_version(factory: sessionmaker[Session]) -> None:
    common: dict[str, Any] = {
        "employee_id": "e_abc",
        "item_kind": "program",
        "item_id": "PL001",
        "decision": "approve",
        "reason": "fits the gap",
        "reviewer": "rina",
    }
    with factory.begin() as s:
        repo.add_review(s, review_id="r1", model_version="7", **common)
        repo.add_review(s, review_id="r2", **common)
        with pytest.raises(ValueError, match="model_version"):
            repo.add_review(s, review_id="r3", model_version="v" * 65, **common)
    with factory.begin() as s:
        assert [r.model_version for r in repo.reviews_for(s, "e_abc")] == ["7", None]


# -- sign-in ----------------------------------------------------------------------------------


def test_authenticate_success_records_the_login(factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        _reviewer(s)
    got = _attempt(factory, PASSWORD, T0, name=" RINA ")
    assert isinstance(got, User) and got.username == "rina"
    with factory.begin() as s:
        user = users.get_user(s, "rina")
        assert user is not None and user.last_login_at == T0 and user.failed_logins == 0


def test_failure_is_generic_and_unknown_users_cost_a_hash(
    factory: sessionmaker[Session], scrypt_calls: list[int]
) -> None:
    with factory.begin() as s:
        _reviewer(s)
    scrypt_calls.clear()
    wrong = _attempt(factory, "not the password", T0)
    assert len(scrypt_calls) == 1
    unknown = _attempt(factory, PASSWORD, T0, name="nobody")
    assert len(scrypt_calls) == 2  # the dummy hash: same work as for a real account
    malformed = _attempt(factory, PASSWORD, T0, name="no such user!")
    assert len(scrypt_calls) == 3
    for failure in (wrong, unknown, malformed):
        assert type(failure) is LoginFailed
    assert str(wrong) == str(unknown) == str(malformed) == "wrong username or password"
    assert "nobody" not in str(unknown) and PASSWORD not in str(unknown)


def test_lockout_after_five_failures_and_unlock_after_the_time(
    factory: sessionmaker[Session],
) -> None:
    with factory.begin() as s:
        _reviewer(s)
    for i in range(4):
        got = _attempt(factory, f"wrong-{i}-password", T0 + timedelta(seconds=i))
        assert type(got) is LoginFailed, i
    locking = _attempt(factory, "wrong-4-password", T0 + timedelta(seconds=4))
    assert isinstance(locking, LockedOut) and locking.retry_after_seconds == 300
    with factory.begin() as s:
        user = users.get_user(s, "rina")
        assert user is not None and user.failed_logins == 5
        assert user.locked_until == T0 + timedelta(seconds=304)
    # Locked: even the right password is refused, with the time left.
    locked = _attempt(factory, PASSWORD, T0 + timedelta(seconds=104))
    assert isinstance(locked, LockedOut) and locked.retry_after_seconds == 200
    assert "200 seconds" in str(locked)
    almost = _attempt(factory, PASSWORD, T0 + timedelta(seconds=303, milliseconds=500))
    assert isinstance(almost, LockedOut) and almost.retry_after_seconds == 1
    # The lock is over: the right password works and resets the count.
    after = _attempt(factory, PASSWORD, T0 + timedelta(seconds=304))
    assert isinstance(after, User)
    with factory.begin() as s:
        user = users.get_user(s, "rina")
        assert user is not None and user.failed_logins == 0 and user.locked_until is None
        assert user.last_login_at == T0 + timedelta(seconds=304)


def test_failures_after_the_lock_start_a_new_count(factory: sessionmaker[Session]) -> None:
    """Was ``test_a_failure_after_the_lock_locks_again``: one failure after an expired lock
    locked the account again at once, which let one wrong password per lock period keep it
    locked for ever (issue 22, finding 4). Now the count starts again when the lock ends."""
    with factory.begin() as s:
        _reviewer(s)
    first = _attempt(factory, "wrong password", T0, max_failures=2, lock_seconds=60)
    assert type(first) is LoginFailed
    locking = _attempt(factory, "wrong password", T0, max_failures=2, lock_seconds=60)
    assert isinstance(locking, LockedOut) and locking.retry_after_seconds == 60
    later = T0 + timedelta(seconds=61)
    again = _attempt(factory, "wrong password", later, max_failures=2, lock_seconds=60)
    assert type(again) is LoginFailed, "the first failure after the lock is counted afresh"
    relock = _attempt(factory, "wrong password", later, max_failures=2, lock_seconds=60)
    assert isinstance(relock, LockedOut) and relock.retry_after_seconds == 60


def test_success_resets_the_failure_count(factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        _reviewer(s)
    for _ in range(2):
        assert type(_attempt(factory, "wrong password", T0, max_failures=3)) is LoginFailed
    assert isinstance(_attempt(factory, PASSWORD, T0, max_failures=3), User)
    for _ in range(2):  # a fresh count: two more failures do not lock
        assert type(_attempt(factory, "wrong password", T0, max_failures=3)) is LoginFailed
    assert isinstance(_attempt(factory, "wrong password", T0, max_failures=3), LockedOut)


def test_failure_count_is_lost_if_the_transaction_rolls_back(
    factory: sessionmaker[Session],
) -> None:
    """Documents the contract: catch LoginFailed inside the transaction to keep the count."""
    with factory.begin() as s:
        _reviewer(s)
    with pytest.raises(LoginFailed), factory.begin() as s:
        users.authenticate(s, "rina", "wrong password", now=T0)
    with factory.begin() as s:
        user = users.get_user(s, "rina")
        assert user is not None and user.failed_logins == 0


def test_disabled_user_fails_like_a_wrong_password(factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        user = _reviewer(s)
        token, _ = users.start_session(s, user, now=T0)
    with factory.begin() as s:
        assert users.disable_user(s, "Rina", now=T0) is True
        assert users.disable_user(s, "rina") is False
        with pytest.raises(LookupError, match="no user named 'ghost'"):
            users.disable_user(s, "ghost")
    got = _attempt(factory, PASSWORD, T0)
    assert type(got) is LoginFailed and str(got) == "wrong username or password"
    with factory.begin() as s:
        assert users.session_user(s, token, now=T0) is None
        assert s.scalar(select(WebSession).where(WebSession.user_id == user.user_id)) is None
        stored = users.get_user(s, "rina")
        assert stored is not None and stored.disabled_at == T0
        with pytest.raises(ValueError, match="disabled"):
            users.start_session(s, stored, now=T0)


def test_session_of_a_user_disabled_elsewhere_is_refused(factory: sessionmaker[Session]) -> None:
    """Even if a session row outlives the account (disabled by hand in the database)."""
    with factory.begin() as s:
        token, _ = users.start_session(s, _reviewer(s), now=T0)
    with factory.begin() as s:
        s.execute(update(User).values(disabled_at=T0))
    with factory.begin() as s:
        assert s.get(WebSession, users.hash_token(token)) is not None
        assert users.session_user(s, token, now=T0) is None


def test_set_password_unlocks_and_ends_sessions(factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        user = _reviewer(s)
        token, _ = users.start_session(s, user, now=T0)
    _attempt(factory, "wrong password", T0, max_failures=1)
    with factory.begin() as s:
        with pytest.raises(ValueError, match="8 to 256"):
            users.set_password(s, "rina", "short")
        with pytest.raises(LookupError):
            users.set_password(s, "ghost", "another password")
        changed = users.set_password(s, "rina", "another password")
        assert changed.failed_logins == 0 and changed.locked_until is None
        assert users.session_user(s, token, now=T0) is None
    assert type(_attempt(factory, PASSWORD, T0)) is LoginFailed
    assert isinstance(_attempt(factory, "another password", T0), User)


# -- sessions ---------------------------------------------------------------------------------


def test_sessions_start_lookup_expire_and_end(
    factory: sessionmaker[Session], engine: Engine
) -> None:
    with factory.begin() as s:
        user = _reviewer(s)
        token, csrf = users.start_session(s, user, ttl_seconds=3600, now=T0)
        other, _ = users.start_session(s, user, now=T0)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token) and re.fullmatch(r"[A-Za-z0-9_-]{43}", csrf)
    assert len({token, csrf, other}) == 3
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT token_hash, csrf_token FROM web_sessions")).all()
    assert users.hash_token(token) in {r[0] for r in rows}
    assert token not in str(rows)  # only the hash of the token is stored

    with factory.begin() as s:
        found = users.session_user(s, token, now=T0 + timedelta(seconds=30))
        assert found is not None
        who, web = found
        assert who.user_id == user.user_id and web.csrf_token == csrf
        assert web.last_seen_at == T0  # not written within a minute
        assert users.check_csrf(web, csrf) and not users.check_csrf(web, csrf[:-1] + "x")
        assert not users.check_csrf(web, None)
    with factory.begin() as s:
        found = users.session_user(s, token, now=T0 + timedelta(seconds=90))
        assert found is not None
    with factory.begin() as s:
        web_row = s.get(WebSession, users.hash_token(token))
        assert web_row is not None and web_row.last_seen_at == T0 + timedelta(seconds=90)
        assert web_row.expires_at == T0 + timedelta(hours=1)

    with factory.begin() as s:
        for bad in (None, "", "nonsense", token + "x", "x" * 500):
            assert users.session_user(s, bad, now=T0) is None
        assert users.session_user(s, token, now=T0 + timedelta(hours=1)) is None  # expired
        assert users.session_user(s, other, now=T0 + timedelta(hours=7)) is not None  # 8 h ttl
        assert users.purge_expired(s, now=T0 + timedelta(hours=2)) == 1
        assert users.end_session(s, other) is True
        assert users.end_session(s, other) is False
        assert users.session_user(s, other, now=T0) is None
        with pytest.raises(ValueError, match="ttl_seconds"):
            users.start_session(s, user, ttl_seconds=0)


def test_ending_a_user_removes_nothing_else(factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        rina = _reviewer(s)
        budi = _reviewer(s, "budi")
        users.start_session(s, rina, now=T0)
        kept, _ = users.start_session(s, budi, now=T0)
        users.disable_user(s, "rina", now=T0)
    with factory.begin() as s:
        assert users.session_user(s, kept, now=T0) is not None
        assert len(s.scalars(select(WebSession)).all()) == 1


# -- migration --------------------------------------------------------------------------------


def test_migration_0002_keeps_reviews(empty_url: str) -> None:
    db.upgrade(empty_url, "0001")
    engine = db.make_engine(empty_url)
    insert_review = text(
        "INSERT INTO reviews (review_id, employee_id, item_kind, item_id, decision, reason, "
        "reviewer, created_at) VALUES ('r1', 'e_x', 'program', 'PL1', 'approve', 'ok', 'hr', "
        ":at)"
    )
    try:
        with engine.begin() as conn:
            conn.execute(insert_review, {"at": T0.replace(tzinfo=None)})
        db.upgrade(engine)
        assert {"users", "web_sessions"} <= set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            assert conn.execute(text("SELECT model_version FROM reviews")).all() == [(None,)]
        db.downgrade(engine, "0001")
        assert "users" not in inspect(engine).get_table_names()
        columns = {c["name"] for c in inspect(engine).get_columns("reviews")}
        assert "model_version" not in columns
        with engine.connect() as conn:
            assert conn.execute(text("SELECT review_id FROM reviews")).all() == [("r1",)]
    finally:
        engine.dispose()


def test_a_locked_account_signs_in_after_the_window_with_the_right_password(
    factory: sessionmaker[Session],
) -> None:
    """Issue 22, finding 4: the lock ends; a failure after it starts a new count (it does not
    lock again at once), so the right password sent just after that is accepted."""
    with factory.begin() as s:
        _reviewer(s)
    for i in range(5):
        _attempt(factory, "wrong password", T0 + timedelta(seconds=i))
    assert isinstance(_attempt(factory, PASSWORD, T0 + timedelta(seconds=100)), LockedOut)
    # someone sends a wrong password the moment the lock ends: one failure, no new lock
    assert type(_attempt(factory, "wrong password", T0 + timedelta(seconds=304))) is LoginFailed
    after = _attempt(factory, PASSWORD, T0 + timedelta(seconds=305))
    assert isinstance(after, User), "the right password works once the lock is over"


def test_one_wrong_password_every_lock_period_cannot_keep_an_account_locked(
    factory: sessionmaker[Session],
) -> None:
    """Issue 22, finding 4: the failure count starts again when a lock expires, so a trickle
    of one wrong password per lock period (from any address) no longer relocks the account at
    every attempt: it needs ``max_failures`` of them again, and in between the owner's right
    password is accepted."""
    with factory.begin() as s:
        _reviewer(s)
    for i in range(5):  # a burst locks it (T0+4 .. T0+304)
        _attempt(factory, "wrong password", T0 + timedelta(seconds=i))
    answers = []
    for period in range(1, 21):
        got = _attempt(factory, "wrong password", T0 + timedelta(seconds=4 + 300 * period))
        answers.append("locked" if isinstance(got, LockedOut) else "failed")
    assert answers == (["failed"] * 4 + ["locked"]) * 4, "at most one period in five is locked"
    owner = _attempt(factory, PASSWORD, T0 + timedelta(seconds=4 + 300 * 21 + 1))
    assert isinstance(owner, User), "the owner signs in between two wrong passwords"


def test_a_locked_account_costs_one_hash_like_an_unknown_name(
    factory: sessionmaker[Session], scrypt_calls: list[int]
) -> None:
    """Issue 22, finding 5: a locked account answers after the same work as an unknown name."""
    with factory.begin() as s:
        _reviewer(s)
    for _ in range(5):
        _attempt(factory, "wrong password", T0)
    scrypt_calls.clear()
    assert isinstance(_attempt(factory, PASSWORD, T0 + timedelta(seconds=1)), LockedOut)
    assert len(scrypt_calls) == 1
