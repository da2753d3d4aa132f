"""Database fixtures: every store test runs on SQLite (a temporary file) and on PostgreSQL.

PostgreSQL: a throw-away database ``jenjang_test_<random>`` is created on the server at
127.0.0.1:5432 (``JENJANG_TEST_POSTGRES_URL`` overrides the admin URL) and dropped afterwards.
When no server answers, the PostgreSQL variants are skipped with the reason (``pytest -ra``
lists it); in CI (``CI=true``) or with ``JENJANG_REQUIRE_POSTGRES=1`` (``.ci/run``) they fail.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, delete, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from recommender.store import db
from recommender.store.models import Base
from tests.conftest import postgres_required, skip_or_fail

PG_ADMIN_URL = os.environ.get(
    "JENJANG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _pg_admin() -> Engine:
    engine = create_engine(
        db.normalise_url(PG_ADMIN_URL),
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
        connect_args={"connect_timeout": 3},
    )
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        where = engine.url
        message = f"PostgreSQL not reachable at {where.host}:{where.port or 5432}: {reason}"
        skip_or_fail(message, required=postgres_required())
    return engine


@contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    """The URL of a new, empty database on ``backend``; dropped (PostgreSQL) afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'jenjang.db'}"
        return
    admin = _pg_admin()
    name = f"jenjang_test_{secrets.token_hex(6)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield db.normalise_url(PG_ADMIN_URL).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new database with no tables (one per test)."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database migrated to the newest revision, shared by the tests of one process."""
    with fresh_database(request.param, tmp_path_factory.mktemp("store")) as url:
        db.upgrade(url)
        yield url


@pytest.fixture
def engine(migrated_url: str) -> Iterator[Engine]:
    """An engine on the migrated database; every table is emptied after the test."""
    eng = db.make_engine(migrated_url)
    try:
        yield eng
    finally:
        with eng.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(delete(table))
        eng.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    """Session factory on the migrated database (``with factory.begin() as s: ...``)."""
    return db.make_sessionmaker(engine)
