"""API keys with scopes (``lms``, ``admin``), optionally limited to some units.

A key looks like ``jk_<43 url-safe characters>`` (256 random bits) and is shown once, when it
is made. The database keeps its SHA-256 (hex), a short display prefix (``jk_`` and the first 8
characters) and a key id (``k_`` and 12 hex characters of the hash) for listing and revoking;
never the key itself.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from recommender.store.models import ApiKey, utcnow

KEY_PREFIX = "jk_"
PREFIX_CHARS = 8  # characters of the secret part kept for display and look-up
SCOPES = ("lms", "admin")


@dataclass(frozen=True)
class KeyInfo:
    """What a verified key may do. ``units`` None = every unit."""

    key_id: str
    scopes: frozenset[str]
    units: frozenset[str] | None
    label: str = ""

    def has_scope(self, scope: str) -> bool:
        """True if the key carries ``scope``."""
        return scope in self.scopes

    def allows_unit(self, unit: str | None) -> bool:
        """True if the key may see ``unit`` (an unlimited key sees every unit)."""
        return self.units is None or (unit is not None and unit in self.units)


@dataclass(frozen=True)
class KeyRecord:
    """A stored key as listed (no secret: only its display prefix)."""

    key_id: str
    prefix: str
    scopes: tuple[str, ...]
    units: tuple[str, ...] | None
    label: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        """True unless revoked."""
        return self.revoked_at is None


def hash_key(presented: str) -> str:
    """SHA-256 (hex) of a key as presented."""
    return hashlib.sha256(presented.encode()).hexdigest()


def key_id_of(key: str) -> str:
    """The public id of a key: ``k_`` and 12 hex characters of its hash."""
    return "k_" + hash_key(key)[:12]


def _prefix(presented: str) -> str:
    return presented[: len(KEY_PREFIX) + PREFIX_CHARS]


def check_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """The scopes sorted and without repeats; ValueError if empty or unknown."""
    chosen = tuple(sorted(set(scopes)))
    if not chosen:
        raise ValueError(f"a key needs at least one scope ({', '.join(SCOPES)})")
    unknown = [s for s in chosen if s not in SCOPES]
    if unknown:
        raise ValueError(f"unknown scope {', '.join(unknown)}: use {' or '.join(SCOPES)}")
    return chosen


def check_units(scopes: Iterable[str], units: Iterable[str] | None) -> list[str] | None:
    """The units of a key, stripped, sorted and without repeats; None (every unit) when there
    are none. ValueError (never repeating a unit) when the ``admin`` scope is given units: an
    admin key reloads and rolls back the whole service, so a unit limit would be a promise it
    does not keep (issue 22)."""
    unit_list = sorted({u.strip() for u in units or () if u.strip()}) or None
    if unit_list is not None and "admin" in set(scopes):
        raise ValueError(
            "admin keys are organisation-wide: give no --unit with --scope admin "
            "(limit an lms key to units instead)"
        )
    return unit_list


def create_key(
    session: Session,
    scopes: Iterable[str],
    units: Iterable[str] | None = None,
    label: str = "",
) -> str:
    """Make a key and return it. The key is not stored: show it once, now.

    Its id (for listing and revoking) is :func:`key_id_of` the key.

    ``units`` None (or empty) = every unit. ValueError on an unknown or missing scope, and
    for the ``admin`` scope with units (:func:`check_units`: admin keys are organisation-wide).
    """
    chosen = check_scopes(scopes)
    unit_list = check_units(chosen, units)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiKey(
            key_id=key_id_of(key),
            prefix=_prefix(key),
            key_hash=hash_key(key),
            scopes=list(chosen),
            units=unit_list,
            label=label.strip(),
            created_at=utcnow(),
        )
    )
    session.flush()
    return key


def verify(session: Session, presented: str | None) -> KeyInfo | None:
    """The rights of an active key, or None (unknown, malformed or revoked key).

    Candidates are found by display prefix; the hash is compared in constant time.
    """
    if not presented or not presented.startswith(KEY_PREFIX) or len(presented) > 200:
        return None
    digest = hash_key(presented)
    rows = session.scalars(
        select(ApiKey).where(ApiKey.prefix == _prefix(presented), ApiKey.revoked_at.is_(None))
    ).all()
    match: ApiKey | None = None
    for row in rows:  # compare every candidate: time does not depend on which one matches
        if hmac.compare_digest(row.key_hash.encode(), digest.encode()):
            match = row
    if match is None:
        return None
    return KeyInfo(
        key_id=match.key_id,
        scopes=frozenset(match.scopes),
        units=None if match.units is None else frozenset(match.units),
        label=match.label,
    )


def revoke(session: Session, key_id: str) -> bool:
    """Revoke a key by id; False if there is no such key or it was already revoked."""
    row = session.get(ApiKey, key_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    session.flush()
    return True


def list_keys(session: Session, *, include_revoked: bool = True) -> list[KeyRecord]:
    """Every key (oldest first), without secrets."""
    query = select(ApiKey).order_by(ApiKey.created_at, ApiKey.key_id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return [
        KeyRecord(
            key_id=r.key_id,
            prefix=r.prefix,
            scopes=tuple(r.scopes),
            units=None if r.units is None else tuple(r.units),
            label=r.label,
            created_at=r.created_at,
            revoked_at=r.revoked_at,
        )
        for r in session.scalars(query)
    ]
