"""The stack's PostgreSQL databases: made when missing, dropped for throw-away stacks."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from recommender.store.db import display_url, normalise_url
from stack.config import DB_NAME, StackConfig, StackError


# ---------------------------------------------------------------------------- postgresql
def ensure_databases(cfg: StackConfig) -> dict[str, bool]:
    """Create the application and MLflow databases when missing; name -> created now."""
    engine = create_engine(
        normalise_url(cfg.postgres_url),
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
        connect_args={"connect_timeout": 5},
    )
    created = {}
    try:
        with engine.connect() as conn:
            for name in (cfg.app_db, cfg.mlflow_db):
                found = conn.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
                ).first()
                if found is None:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
                created[name] = found is None
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise StackError(
            f"PostgreSQL at {display_url(cfg.postgres_url)} (JENJANG_STACK_POSTGRES_URL): {reason}"
        ) from exc
    finally:
        engine.dispose()
    return created


def drop_databases(postgres_url: str, names: Sequence[str]) -> None:
    """Drop ``names`` (closing their connections). For throw-away stacks (tests, benchmarks)."""
    engine = create_engine(
        normalise_url(postgres_url), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        with engine.connect() as conn:
            for name in names:
                if not DB_NAME.match(name):
                    raise ValueError(f"not a database name: {name!r}")
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()
