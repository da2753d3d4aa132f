"""Initial schema: recommendation log, events, reviews, API keys.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Works on SQLite and PostgreSQL: JSON columns are JSONB on PostgreSQL and JSON elsewhere;
timestamps are ``TIMESTAMP WITH TIME ZONE`` (stored as UTC).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _time() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "recommendation_log",
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("employee_id", sa.String(64), nullable=False),
        sa.Column("model_name", sa.String(200), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("endpoint", sa.String(200), nullable=False),
        sa.Column("items", _json(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_recommendation_log")),
    )
    op.create_index(
        op.f("ix_recommendation_log_employee_id"), "recommendation_log", ["employee_id"]
    )
    op.create_index(op.f("ix_recommendation_log_created_at"), "recommendation_log", ["created_at"])

    op.create_table(
        "events",
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("employee_id", sa.String(64), nullable=True),
        sa.Column("actor_key", sa.String(64), nullable=False),
        sa.Column("item_kind", sa.String(16), nullable=True),
        sa.Column("item_id", sa.String(2048), nullable=True),
        sa.Column("position_id", sa.String(128), nullable=True),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("occurred_at", _time(), nullable=False),
        sa.Column("received_at", _time(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("verb", sa.String(2048), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("success", sa.Boolean(), nullable=True),
        sa.Column("completion", sa.Boolean(), nullable=True),
        sa.Column("raw", _json(), nullable=True),
        sa.Column("voids", sa.String(128), nullable=True),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("voided_by", sa.String(128), nullable=True),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_events")),
    )
    op.create_index(op.f("ix_events_request_id"), "events", ["request_id"])
    op.create_index(op.f("ix_events_voids"), "events", ["voids"])
    op.create_index("ix_events_employee_id_occurred_at", "events", ["employee_id", "occurred_at"])

    op.create_table(
        "reviews",
        sa.Column("review_id", sa.String(128), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("employee_id", sa.String(64), nullable=False),
        sa.Column("item_kind", sa.String(16), nullable=False),
        sa.Column("item_id", sa.String(128), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("replacement_id", sa.String(128), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("review_id", name=op.f("pk_reviews")),
    )
    op.create_index(op.f("ix_reviews_request_id"), "reviews", ["request_id"])
    op.create_index(op.f("ix_reviews_employee_id"), "reviews", ["employee_id"])

    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("scopes", _json(), nullable=False),
        sa.Column("units", _json(), nullable=True),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("revoked_at", _time(), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_index(op.f("ix_api_keys_prefix"), "api_keys", ["prefix"])


def downgrade() -> None:
    op.drop_table("api_keys")
    op.drop_table("reviews")
    op.drop_table("events")
    op.drop_table("recommendation_log")
