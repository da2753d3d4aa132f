"""Events carry their sender; event ids are unique per sender (issue 22).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05

Adds ``events.sender`` (the API key id that sent the event; every existing row gets
``legacy``) and makes ``(event_id, sender)`` the primary key, so one key's ids can no longer
take or shadow another key's events. Every row is kept. SQLite rebuilds the table (Alembic's
batch mode); PostgreSQL alters it in place. Downgrading fails while two senders share an id.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEGACY_SENDER = "legacy"


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(
            sa.Column("sender", sa.String(64), nullable=False, server_default=sa.text("'legacy'"))
        )
        batch.drop_constraint("pk_events", type_="primary")
        batch.create_primary_key("pk_events", ["event_id", "sender"])


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_constraint("pk_events", type_="primary")
        batch.create_primary_key("pk_events", ["event_id"])
        batch.drop_column("sender")
