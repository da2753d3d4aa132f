"""Batch recommendations loaded into the application database (``jenjang batch --to-db``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28

Adds ``batch_runs`` (one per batch: kind, k, as-of date, model), ``batch_partitions`` (the
partitions loaded, with their file's SHA-256, so a rerun resumes) and
``batch_recommendations`` (one row per ranked item; employees by pseudonym only).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _time() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "batch_runs",
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.String(10), nullable=False),
        sa.Column("model_name", sa.String(64), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=True),
        sa.Column("model_sha256", sa.String(64), nullable=True),
        sa.Column("partitions", sa.Integer(), nullable=False),
        sa.Column("employees", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("completed_at", _time(), nullable=True),
        sa.CheckConstraint("kind IN ('programs', 'positions')", name=op.f("ck_batch_runs_kind")),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_batch_runs")),
    )
    op.create_table(
        "batch_partitions",
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("loaded_at", _time(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["batch_runs.batch_id"],
            name=op.f("fk_batch_partitions_batch_id_batch_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("batch_id", "partition", name=op.f("pk_batch_partitions")),
    )
    op.create_table(
        "batch_recommendations",
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("employee_id", sa.String(64), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(128), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("eligible", sa.Boolean(), nullable=True),
        sa.Column("reason_codes", _json(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["batch_runs.batch_id"],
            name=op.f("fk_batch_recommendations_batch_id_batch_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "batch_id", "employee_id", "rank", name=op.f("pk_batch_recommendations")
        ),
    )
    op.create_index(
        "ix_batch_recommendations_batch_id_partition",
        "batch_recommendations",
        ["batch_id", "partition"],
    )
    op.create_index(
        "ix_batch_recommendations_employee_id", "batch_recommendations", ["employee_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_batch_recommendations_employee_id", table_name="batch_recommendations")
    op.drop_index("ix_batch_recommendations_batch_id_partition", table_name="batch_recommendations")
    op.drop_table("batch_recommendations")
    op.drop_table("batch_partitions")
    op.drop_table("batch_runs")
