"""Accounts and sign-in sessions of the HR web pages.

Passwords are kept as a salted scrypt hash (the standard library's :func:`hashlib.scrypt`:
N=2**14, r=8, p=1, a 16-byte random salt, a 64-byte key), stored as the self-describing string
``scrypt$16384$8$1$<salt base64>$<key base64>``; never the password.

Sign-in (:func:`authenticate`) fails with one generic :class:`LoginFailed` whether the user is
unknown, disabled or the password wrong (an unknown user, and a locked account, still cost one
scrypt, so the time does not tell either). After ``max_failures`` consecutive failures the
account is locked for ``lock_seconds`` (:class:`LockedOut`, with the seconds to wait). The lock
ends: when it has expired the failure count starts again from zero (issue 22), so a trickle of
one wrong password per lock period, from any address, cannot keep an account locked; only a new
burst of ``max_failures`` failures locks it again. A successful sign-in resets the count.

A session token (``secrets.token_urlsafe(32)``, 256 random bits) is given to the browser; the
database keeps its SHA-256 (hex) with the user, a CSRF token and the expiry.

Like :mod:`recommender.store.repo`, every function works inside the caller's session and
transaction (it flushes, never commits): ``with factory.begin() as session: ...``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import re
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recommender.store.models import User, WebSession, utcnow
from recommender.store.repo import check_pseudonym

ROLES = ("reviewer", "admin")
MIN_PASSWORD = 8
MAX_PASSWORD = 256
#: scrypt cost: N (CPU/memory), r (block size), p (parallelism); about 50 ms and 16 MiB.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SALT_BYTES, KEY_BYTES = 16, 64
#: ``last_seen_at`` of a session is written at most this often.
SEEN_EVERY = timedelta(seconds=60)
SESSION_TTL = 8 * 3600  # seconds

_USERNAME = re.compile(r"[a-z0-9._-]{3,64}")
_SCHEME = "scrypt"
# A hash of a random password nobody knows: checked for unknown users so that a failed sign-in
# takes the same time whether the user exists or not.
_DUMMY_HASH = (
    "scrypt$16384$8$1$69+f8aLKtZ6PvYpGE/2FNw==$4ezpKnHaclTpVd03qeM576+VH1Bhc5jrhwRM/bKHnLIY+"
    "EDmLiUwMjO54QfegZDLIzjSA4oXXc5wjS//hgkYZw=="
)


class LoginFailed(Exception):  # noqa: N818 - the name the web layer uses
    """Sign-in refused: unknown user, wrong password or disabled account (one message)."""

    def __init__(self, message: str = "wrong username or password") -> None:
        super().__init__(message)


class LockedOut(LoginFailed):
    """Sign-in refused because the account is locked after too many failures.

    ``retry_after_seconds`` (at least 1) says when the next attempt will be looked at.
    A subclass of :class:`LoginFailed`: catch ``LockedOut`` first to tell the two apart.
    """

    def __init__(self, retry_after_seconds: int) -> None:
        self.retry_after_seconds = max(1, int(retry_after_seconds))
        super().__init__(
            f"too many failed sign-ins: try again in {self.retry_after_seconds} seconds"
        )


# -- passwords --------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def check_password(password: str) -> str:
    """Return ``password`` if it may be set; ValueError (never repeating it) otherwise.

    A password has :data:`MIN_PASSWORD` to :data:`MAX_PASSWORD` characters.
    """
    if not isinstance(password, str):
        raise ValueError("the password must be text")
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValueError(
            f"the password must have {MIN_PASSWORD} to {MAX_PASSWORD} characters "
            f"(it has {len(password)})"
        )
    return password


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        dklen=dklen,
        maxmem=128 * r * (n + p + 2) + (1 << 20),
    )


def hash_password(password: str) -> str:
    """The stored form of ``password``: ``scrypt$N$r$p$<salt b64>$<key b64>`` (fresh salt).

    ValueError (message without the password) unless it has 8 to 256 characters.
    """
    check_password(password)
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_BYTES)
    return f"{_SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def _parse(stored: str) -> tuple[int, int, int, bytes, bytes] | None:
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != _SCHEME:
        return None
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        key = base64.b64decode(parts[5], validate=True)
    except (ValueError, binascii.Error):
        return None
    # Bounds keep a tampered row from making one check take minutes or gigabytes.
    if not (2 <= n <= 2**20 and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16):
        return None
    if not salt or not 16 <= len(key) <= 128:
        return None
    return n, r, p, salt, key


def verify_password(password: str, stored: str) -> bool:
    """True if ``password`` matches the stored hash (constant-time comparison).

    False, never an exception, for a wrong password, a password longer than 256 characters or
    a malformed stored string.
    """
    if not isinstance(password, str) or len(password) > MAX_PASSWORD:
        return False
    parsed = _parse(stored) if isinstance(stored, str) else None
    if parsed is None:
        return False
    n, r, p, salt, key = parsed
    return hmac.compare_digest(_scrypt(password, salt, n, r, p, len(key)), key)


def needs_rehash(stored: str) -> bool:
    """True if the hash was made with other scrypt settings than today's (or is malformed)."""
    parsed = _parse(stored)
    if parsed is None:
        return True
    n, r, p, salt, key = parsed
    return (n, r, p, len(salt), len(key)) != (SCRYPT_N, SCRYPT_R, SCRYPT_P, SALT_BYTES, KEY_BYTES)


# -- accounts ---------------------------------------------------------------------------------


def normalise_username(username: str) -> str:
    """The stored form of a user name: stripped and lower-cased, 3 to 64 characters of
    ``a-z 0-9 . _ -``. ValueError otherwise; :class:`~recommender.store.repo.PersonalDataError`
    (a ValueError) if it looks like a NIP. Messages never repeat the name."""
    if not isinstance(username, str):
        raise ValueError("username must be text")
    name = username.strip().lower()
    check_pseudonym(name, "username")
    if not _USERNAME.fullmatch(name):
        raise ValueError("username must have 3 to 64 characters among a-z, 0-9, '.', '_', '-'")
    return name


def _check_units(role: str, units: Sequence[str] | None) -> list[str] | None:
    if isinstance(units, str):
        raise ValueError("units must be a list of unit ids, not one string")
    cleaned = sorted({u.strip() for u in units or () if u and u.strip()})
    if role == "admin":
        if cleaned:
            raise ValueError("an admin sees every unit: give no units (or make a reviewer)")
        return None
    if not cleaned:
        raise ValueError("a reviewer needs at least one unit")
    for unit in cleaned:
        check_pseudonym(unit, "unit id")
    return cleaned


def get_user(session: Session, username: str) -> User | None:
    """The account named ``username`` (any case), or None."""
    name = username.strip().lower() if isinstance(username, str) else ""
    if not name:
        return None
    return session.scalar(select(User).where(User.username == name))


def _require(session: Session, username: str) -> User:
    user = get_user(session, username)
    if user is None:
        raise LookupError(f"no user named '{username.strip().lower()}'")
    return user


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    units: Sequence[str] | None,
) -> User:
    """Make an account and return it (flushed).

    ``role`` is ``reviewer`` (``units``: the unit ids it may see, at least one) or ``admin``
    (every unit: ``units`` must be None or empty, stored as NULL). The name is stored
    lower-cased (see :func:`normalise_username`).

    Raises ValueError for a bad user name, role, unit list or password (8 to 256 characters;
    the message never repeats it), for a name already taken (the message names the
    ``username`` field), and :class:`~recommender.store.repo.PersonalDataError` for a user
    name or unit id that looks like a NIP. After a duplicate detected by the database the
    session must be rolled back (leaving ``factory.begin()`` with the exception does it).
    """
    name = normalise_username(username)
    if role not in ROLES:
        raise ValueError(f"role must be {' or '.join(ROLES)}")
    unit_list = _check_units(role, units)
    check_password(password)
    taken = f"username '{name}' is already taken"
    if get_user(session, name) is not None:
        raise ValueError(taken)
    user = User(
        user_id=secrets.token_hex(16),
        username=name,
        password_hash=hash_password(password),
        role=role,
        units=unit_list,
        created_at=utcnow(),
        failed_logins=0,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # made by someone else since the check above
        raise ValueError(taken) from exc
    return user


def _end_sessions_of(session: Session, user_id: str) -> int:
    result = session.execute(delete(WebSession).where(WebSession.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)


def set_password(session: Session, username: str, password: str) -> User:
    """Give ``username`` a new password; also unlocks the account (failure count to 0) and
    ends every session of the user.

    LookupError if there is no such user; ValueError if the password has not 8 to 256
    characters (the message never repeats it).
    """
    check_password(password)
    user = _require(session, username)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    _end_sessions_of(session, user.user_id)
    return user


def disable_user(session: Session, username: str, *, now: datetime | None = None) -> bool:
    """Disable an account and end its sessions. True if it changed, False if it was already
    disabled. LookupError if there is no such user."""
    user = _require(session, username)
    if user.disabled_at is not None:
        return False
    user.disabled_at = _now(now)
    session.flush()
    _end_sessions_of(session, user.user_id)
    return True


def list_users(session: Session) -> list[User]:
    """Every account, by user name (the objects hold the password hash: never show it)."""
    return list(session.scalars(select(User).order_by(User.username)))


def units_of(user: User) -> frozenset[str] | None:
    """The units a user may see; None = every unit (an admin only). A reviewer whose unit
    list is missing sees nothing (fail closed)."""
    if user.role == "admin":
        return None
    return frozenset(user.units or ())


# -- sign-in ----------------------------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    if now is None:
        return utcnow()
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def _end_lock(session: Session, user: User, when: datetime) -> None:
    """Reset the failure count of an account whose lock has expired (at ``when``); only if the
    lock is still the expired one (a concurrent sign-in may have reset or renewed it)."""
    session.execute(
        update(User)
        .where(
            User.user_id == user.user_id,
            User.locked_until.is_not(None),
            User.locked_until <= when,
        )
        .values(failed_logins=0, locked_until=None)
        .execution_options(synchronize_session="fetch")
    )


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    now: datetime | None = None,
    max_failures: int = 5,
    lock_seconds: int = 300,
) -> User:
    """The user if ``password`` is right; records ``last_login_at`` and resets the failures.

    Raises :class:`LoginFailed` (one message) for an unknown user, a wrong password or a
    disabled account, and :class:`LockedOut` (a ``LoginFailed``) while the account is locked,
    and for the failure that locks it: after ``max_failures`` consecutive failures the account
    is locked for ``lock_seconds``. Once the lock has expired the count starts again from zero
    (the first failure after it is a plain :class:`LoginFailed`), so one wrong password per
    lock period cannot keep the account locked. A locked account still costs one scrypt (the
    answer takes as long as for an unknown name). ``now`` (default: the current time) is for
    tests.

    The failure count is written in the session: catch the exception *inside* the
    transaction (``with factory.begin() as s: try: authenticate(s, ...) except LoginFailed:``),
    otherwise leaving the block rolls the count back with everything else.
    """
    when = _now(now)
    try:
        name = normalise_username(username)
    except ValueError:
        name = None
    user = get_user(session, name) if name else None
    if user is None:
        verify_password(password, _DUMMY_HASH)  # same cost as for a real account
        raise LoginFailed()
    if user.locked_until is not None and user.locked_until > when:
        verify_password(password, _DUMMY_HASH)  # same cost as any other refusal
        raise LockedOut(math.ceil((user.locked_until - when).total_seconds()))
    if user.locked_until is not None:  # the lock is over: a fresh count
        _end_lock(session, user, when)
    ok = verify_password(password, user.password_hash)
    if ok and user.disabled_at is None:
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = when
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        session.flush()
        return user
    failures = session.execute(
        update(User)
        .where(User.user_id == user.user_id)
        .values(failed_logins=func.coalesce(User.failed_logins, 0) + 1)
        .returning(User.failed_logins)
        .execution_options(synchronize_session="fetch")
    ).scalar_one()
    if failures >= max_failures:
        user.locked_until = when + timedelta(seconds=lock_seconds)
        session.flush()
        raise LockedOut(lock_seconds)
    raise LoginFailed()


# -- sessions ---------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    """SHA-256 (hex) of a session token: what the database keeps."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(
    session: Session,
    user: User,
    *,
    ttl_seconds: int = SESSION_TTL,
    now: datetime | None = None,
) -> tuple[str, str]:
    """Open a session for ``user``; return ``(token, csrf_token)``.

    The token goes into the cookie and is not stored (only its SHA-256); the CSRF token is
    stored and must come back with every form. ValueError for a disabled user or a
    ``ttl_seconds`` below 1.
    """
    if ttl_seconds < 1:
        raise ValueError("ttl_seconds must be at least 1")
    if user.disabled_at is not None:
        raise ValueError("the user is disabled")
    when = _now(now)
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=hash_token(token),
            user_id=user.user_id,
            csrf_token=csrf,
            created_at=when,
            expires_at=when + timedelta(seconds=ttl_seconds),
            last_seen_at=when,
        )
    )
    session.flush()
    return token, csrf


def session_user(
    session: Session, token: str | None, *, now: datetime | None = None
) -> tuple[User, WebSession] | None:
    """The user and session of a session token, or None: unknown, malformed or expired
    token, or a disabled user. Writes ``last_seen_at`` at most once a minute."""
    if not token or not isinstance(token, str) or len(token) > 200:
        return None
    when = _now(now)
    web = session.get(WebSession, hash_token(token))
    if web is None or web.expires_at <= when:
        return None
    user = session.get(User, web.user_id)
    if user is None or user.disabled_at is not None:
        return None
    if when - web.last_seen_at >= SEEN_EVERY:
        web.last_seen_at = when
        session.flush()
    return user, web


def check_csrf(web_session: WebSession, presented: str | None) -> bool:
    """True if ``presented`` is the session's CSRF token (constant-time comparison)."""
    if not presented:
        return False
    return hmac.compare_digest(presented.encode(), web_session.csrf_token.encode())


def end_session(session: Session, token: str | None) -> bool:
    """Sign out: delete the session of ``token``. False if there was none."""
    if not token or not isinstance(token, str) or len(token) > 200:
        return False
    web = session.get(WebSession, hash_token(token))
    if web is None:
        return False
    session.delete(web)
    session.flush()
    return True


def purge_expired(session: Session, now: datetime | None = None) -> int:
    """Delete every expired session; return how many."""
    result = session.execute(
        delete(WebSession)
        .where(WebSession.expires_at <= _now(now))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
