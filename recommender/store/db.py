"""Engines, sessions and migrations of the application database.

A SQLite file by default (``JENJANG_DATABASE_URL``), PostgreSQL by URL
(``postgresql://user@host:5432/db``, driven by psycopg 3). The schema is made and moved by the
Alembic migrations packaged in ``recommender/store/migrations``: :func:`upgrade` runs them from
Python, no ``alembic.ini`` needed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: Seconds a SQLite writer waits for another writer before "database is locked".
SQLITE_BUSY_TIMEOUT = 30
#: Connection pool of a PostgreSQL engine (per process).
PG_POOL = {"pool_size": 5, "max_overflow": 10, "pool_recycle": 1800, "pool_timeout": 30}


#: Seconds a client should wait before retrying after :class:`StoreUnavailableError`.
RETRY_AFTER_SECONDS = 5


class StoreUnavailableError(RuntimeError):
    """The application database cannot be reached (connection refused or lost, pool
    exhausted, SQLite locked): a temporary condition, answered 503 with ``Retry-After``."""

    def __init__(self, what: str, retry_after: int = RETRY_AFTER_SECONDS) -> None:
        super().__init__(f"the application database is unavailable: {what}; retry later")
        self.retry_after = retry_after


def unavailable(exc: BaseException) -> bool:
    """True when ``exc`` says the database cannot be reached now (worth retrying), not that the
    statement or the data is wrong: OperationalError (refused, terminated, locked),
    InterfaceError, a pool time-out, or any DBAPI error that invalidated its connection."""
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError):
        return True
    return isinstance(exc, sa_exc.DBAPIError) and bool(exc.connection_invalidated)


@contextmanager
def reachable(what: str) -> Iterator[None]:
    """Run the block; a database error that says the database is away (:func:`unavailable`)
    becomes :class:`StoreUnavailableError` naming ``what`` (never the statement or its values)."""
    try:
        yield
    except sa_exc.SQLAlchemyError as exc:
        if not unavailable(exc):
            raise
        log.warning("%s: the application database is unavailable (%s)", what, type(exc).__name__)
        raise StoreUnavailableError(what) from None


def normalise_url(url: str | URL) -> URL:
    """Parse a database URL; plain ``postgresql://`` and ``postgres://`` use psycopg 3."""
    if isinstance(url, str):
        if url.startswith("postgres://"):
            url = "postgresql://" + url.removeprefix("postgres://")
        url = make_url(url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


def display_url(url: str | URL) -> str:
    """The URL with its password hidden (for messages)."""
    return normalise_url(url).render_as_string(hide_password=True)


def sqlite_file(url: str | URL) -> Path | None:
    """The file of a SQLite URL (None: not SQLite, or in memory)."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() != "sqlite" or _sqlite_in_memory(parsed):
        return None
    db = parsed.database or ""
    return None if db.startswith("file:") else Path(db).expanduser()


def _sqlite_in_memory(url: URL) -> bool:
    db = url.database or ""
    return db in ("", ":memory:") or "mode=memory" in db


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, far fewer fsyncs
    finally:
        cursor.close()


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine for ``url`` with the project's settings.

    SQLite: the file's folder is created, WAL journal, foreign keys on, writers wait up to
    :data:`SQLITE_BUSY_TIMEOUT` s for each other; an in-memory database is one shared
    connection. PostgreSQL: psycopg 3, a bounded pool (:data:`PG_POOL`) with pre-ping.
    ``kwargs`` go to :func:`sqlalchemy.create_engine` and win over these defaults.
    """
    parsed = normalise_url(url)
    options: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        connect_args: dict[str, Any] = {"timeout": SQLITE_BUSY_TIMEOUT}
        if _sqlite_in_memory(parsed):
            connect_args["check_same_thread"] = False
            options["poolclass"] = StaticPool
        elif (path := sqlite_file(parsed)) is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        options["connect_args"] = connect_args
    elif parsed.get_backend_name() == "postgresql":
        options.update(PG_POOL)
        options["pool_pre_ping"] = True
        options["connect_args"] = {"connect_timeout": 10, "application_name": "jenjang"}
    options.update(kwargs)
    engine = create_engine(parsed, **options)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _on_sqlite_connect)
    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to ``engine``; objects stay readable after commit.

    Use ``with factory.begin() as session: ...`` (commit on success, rollback on error).
    """
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(target: str | URL | Engine) -> Config:
    """An Alembic configuration for the packaged migrations (no ``alembic.ini``).

    Also the way to write the next revision during development::

        from alembic import command
        command.revision(alembic_config("sqlite:///dev.db"), "what changes", autogenerate=True)
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    url = target.url if isinstance(target, Engine) else normalise_url(target)
    # ConfigParser interpolation: a literal % must be doubled.
    cfg.set_main_option(
        "sqlalchemy.url", url.render_as_string(hide_password=False).replace("%", "%%")
    )
    return cfg


def _with_connection(target: str | URL | Engine, action: Any) -> Any:
    engine = target if isinstance(target, Engine) else make_engine(target)
    try:
        with engine.begin() as connection:
            return action(connection)
    finally:
        if engine is not target:
            engine.dispose()


def upgrade(target: str | URL | Engine, revision: str = "head") -> None:
    """Migrate the database at ``target`` (URL or engine) up to ``revision`` (default: the
    newest). An empty database gets every table; an up-to-date one is left as it is."""

    def run(connection: Any) -> None:
        cfg = alembic_config(target)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    _with_connection(target, run)


def downgrade(target: str | URL | Engine, revision: str = "base") -> None:
    """Migrate down to ``revision`` (default ``base``: drop every application table)."""

    def run(connection: Any) -> None:
        cfg = alembic_config(target)
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)

    _with_connection(target, run)


def head_revision() -> str:
    """The newest revision of the packaged migrations."""
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    if head is None:  # pragma: no cover - the package always has revisions
        raise LookupError("no migrations found in " + str(MIGRATIONS_DIR))
    return head


def current_revision(target: str | URL | Engine) -> str | None:
    """The revision the database is at (None: never migrated)."""

    def run(connection: Any) -> str | None:
        rev: str | None = MigrationContext.configure(connection).get_current_revision()
        return rev

    result: str | None = _with_connection(target, run)
    return result
