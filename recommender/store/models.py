"""Tables of the application database (SQLAlchemy 2 typed declarative models).

Personal data: people appear only as their keyed pseudonym (``employee_id``, ``e_...``); no
table has a NIP column (user names that look like a NIP are refused). Times are stored in
UTC and come back timezone-aware on every backend. JSON columns are ``JSON`` (SQLite) or
``JSONB`` (PostgreSQL).

The schema itself is created by the Alembic migrations in ``recommender/store/migrations``;
these models must stay in step with them (a test compares the two).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

#: Constraint names the same on every backend (Alembic can then alter them later).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: A portable JSON column: JSONB on PostgreSQL, JSON (text) elsewhere.
PortableJSON = JSON().with_variant(JSONB(), "postgresql")

ID = 128  # length of external identifiers (event ids, request ids, item ids)
IRI = 2048  # xAPI verb and activity IRIs
PSEUDONYM = 64


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware (SQLite drops the zone).

    Naive datetimes given to it are taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the application tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class RecommendationLog(Base):
    """The audit trail: one row per served recommendation list.

    ``items`` is the ranked list as served: ``[{"item_id": ..., "score": ..., "reasons": [...]},
    ...]`` (reason codes, not texts).
    """

    __tablename__ = "recommendation_log"

    request_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    employee_id: Mapped[str] = mapped_column(String(PSEUDONYM), index=True)
    model_name: Mapped[str] = mapped_column(String(200))
    model_version: Mapped[str] = mapped_column(String(64))
    endpoint: Mapped[str] = mapped_column(String(200))
    items: Mapped[list[dict[str, Any]]] = mapped_column(PortableJSON)
    language: Mapped[str] = mapped_column(String(8), default="id")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


#: The sender of events stored before senders were recorded (migration 0004), and of events
#: written by tools that name no sender.
LEGACY_SENDER = "legacy"


class Event(Base):
    """One interaction (simple event or xAPI statement). ``(event_id, sender)`` is the
    idempotency key: ``sender`` is the API key id that sent the event (``legacy`` for rows from
    before migration 0004 and for tools), so each sender has its own id space and no sender can
    take, shadow or probe another's ids.

    ``type`` is the normalised type (impression, click, enrol, complete, dismiss, and for xAPI
    pass, fail, score, void, other) with the xAPI verb IRI in ``verb``. ``employee_id`` is the
    pseudonym, NULL for an xAPI actor that is not an employee; ``actor_key`` is always set (the
    pseudonym or a keyed hash of the actor). ``item_kind``/``item_id`` name the object
    (``program`` + programme id; an xAPI activity's full IRI). A voiding statement names its
    target in ``voids``; the target gets ``voided`` and ``voided_by``. ``raw`` is the scrubbed
    statement.
    """

    __tablename__ = "events"

    event_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    sender: Mapped[str] = mapped_column(
        String(64), primary_key=True, default=LEGACY_SENDER, server_default=LEGACY_SENDER
    )
    request_id: Mapped[str | None] = mapped_column(String(ID), index=True)
    employee_id: Mapped[str | None] = mapped_column(String(PSEUDONYM))
    actor_key: Mapped[str] = mapped_column(String(PSEUDONYM))
    item_kind: Mapped[str | None] = mapped_column(String(16))
    item_id: Mapped[str | None] = mapped_column(String(IRI))
    position_id: Mapped[str | None] = mapped_column(String(ID))
    type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(16), default="simple")
    verb: Mapped[str | None] = mapped_column(String(IRI))
    score: Mapped[float | None] = mapped_column(Float)
    success: Mapped[bool | None] = mapped_column(Boolean)
    completion: Mapped[bool | None] = mapped_column(Boolean)
    raw: Mapped[dict[str, Any] | None] = mapped_column(PortableJSON)
    voids: Mapped[str | None] = mapped_column(String(ID), index=True)
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
    voided_by: Mapped[str | None] = mapped_column(String(ID))

    __table_args__ = (Index("ix_events_employee_id_occurred_at", "employee_id", "occurred_at"),)


class Review(Base):
    """An HR decision on one recommended item: approve, reject or replace (with a reason)."""

    __tablename__ = "reviews"

    review_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    request_id: Mapped[str | None] = mapped_column(String(ID), index=True)
    employee_id: Mapped[str] = mapped_column(String(PSEUDONYM), index=True)
    item_kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[str] = mapped_column(String(ID))
    decision: Mapped[str] = mapped_column(String(16))
    replacement_id: Mapped[str | None] = mapped_column(String(ID))
    reason: Mapped[str] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Version of the model whose suggestion was reviewed (NULL: not known).
    model_version: Mapped[str | None] = mapped_column(String(64))


class ApiKey(Base):
    """An API key. Only the SHA-256 of the key is stored; the key itself is shown once.

    ``scopes`` is a list (``lms``, ``admin``); ``units`` a list of unit codes the key may see,
    or NULL for every unit.
    """

    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(PortableJSON)
    units: Mapped[list[str] | None] = mapped_column(PortableJSON)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class User(Base):
    """An account of the HR web pages. Only a slow salted hash of the password is stored.

    ``role`` is ``reviewer`` (sees the units in ``units``, a non-empty list) or ``admin``
    (``units`` NULL: every unit). ``failed_logins`` counts consecutive failed sign-ins;
    ``locked_until`` is set when they reach the limit. A disabled account cannot sign in.
    """

    __tablename__ = "users"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    units: Mapped[list[str] | None] = mapped_column(PortableJSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None]
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]

    __table_args__ = (CheckConstraint("role IN ('reviewer', 'admin')", name="role"),)


class WebSession(Base):
    """A signed-in browser session. Only the SHA-256 (hex) of the session token is stored;
    ``csrf_token`` is the token every form of the session must carry."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.user_id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class BatchRun(Base):
    """A batch of recommendations for every employee loaded from ``jenjang batch ... --to-db``.

    ``batch_id`` is derived from what determines the rows (kind, k, as-of date, model name,
    version and SHA-256, the clean data's fingerprint), so loading the same batch twice
    updates one run. ``completed_at`` is set once every partition is loaded."""

    __tablename__ = "batch_runs"

    batch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    k: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[str] = mapped_column(String(10))
    model_name: Mapped[str] = mapped_column(String(64))
    model_version: Mapped[str | None] = mapped_column(String(64))
    model_sha256: Mapped[str | None] = mapped_column(String(64))
    partitions: Mapped[int] = mapped_column(Integer)
    employees: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]

    __table_args__ = (CheckConstraint("kind IN ('programs', 'positions')", name="kind"),)


class BatchPartition(Base):
    """A partition of a batch run that is in ``batch_recommendations`` (its file's SHA-256:
    a rerun skips it when the file is unchanged)."""

    __tablename__ = "batch_partitions"

    batch_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("batch_runs.batch_id", ondelete="CASCADE"), primary_key=True
    )
    partition: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class BatchRecommendation(Base):
    """One ranked item of a batch: the row of the batch's Parquet output (``item_id`` is a
    programme or a position; ``eligible`` only for positions)."""

    __tablename__ = "batch_recommendations"

    batch_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("batch_runs.batch_id", ondelete="CASCADE"), primary_key=True
    )
    employee_id: Mapped[str] = mapped_column(String(PSEUDONYM), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, primary_key=True)
    partition: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[str] = mapped_column(String(ID))
    score: Mapped[float] = mapped_column(Float)
    eligible: Mapped[bool | None] = mapped_column(Boolean)
    reason_codes: Mapped[list[str]] = mapped_column(PortableJSON)

    __table_args__ = (
        Index("ix_batch_recommendations_batch_id_partition", "batch_id", "partition"),
        Index("ix_batch_recommendations_employee_id", "employee_id"),
    )


TABLES = (
    "recommendation_log",
    "events",
    "reviews",
    "api_keys",
    "users",
    "web_sessions",
    "batch_runs",
    "batch_partitions",
    "batch_recommendations",
)
