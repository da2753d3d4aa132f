"""``jenjang db``: the application database (docs/store.md); the sessions ``keys`` and
``users`` work in."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.markup import escape

from recommender.cli.common import UrlOpt, console, err, settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

db_app = typer.Typer(no_args_is_help=True, help="The application database (docs/store.md).")

# The store (SQLAlchemy, Alembic: about 0.35 s) is imported inside the commands, so that
# `jenjang --help` and the offline commands do not pay for it.


def db_fail(*, exc: Exception, url: str) -> NoReturn:
    """A database error in one line, with the URL's password hidden; exit 2 (typer.Exit)."""
    from recommender.store.db import display_url

    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    err.print(
        f"[red]error:[/red] database {escape(display_url(url))}: {escape(reason)}", highlight=False
    )
    raise typer.Exit(2) from exc


@db_app.command("upgrade")
def db_upgrade(url: UrlOpt = None) -> None:
    """Create or migrate the application tables to the newest revision (Alembic)."""
    from sqlalchemy.exc import SQLAlchemyError

    from recommender.store import db

    target = url or settings().database_url
    try:
        before = db.current_revision(target)
        db.upgrade(target)
    except SQLAlchemyError as exc:
        db_fail(exc=exc, url=target)
    head = db.head_revision()
    state = "already at" if before == head else f"upgraded from {before or 'empty'} to"
    console.print(f"database {escape(db.display_url(target))} {state} revision {head}")


def _check_migrated(target: str) -> None:
    """Exit 2 (typer.Exit) unless the database at ``target`` exists at the newest revision."""
    from sqlalchemy.exc import SQLAlchemyError

    from recommender.store import db

    path = db.sqlite_file(target)
    if path is not None and not path.exists():
        err.print(
            f"[red]error:[/red] no database at {escape(str(path))}: run `jenjang db upgrade` first",
            highlight=False,
        )
        raise typer.Exit(2)
    try:
        current = db.current_revision(target)
    except SQLAlchemyError as exc:
        db_fail(exc=exc, url=target)
    if current != db.head_revision():
        err.print(
            f"[red]error:[/red] database {escape(db.display_url(target))} is at revision "
            f"{current or 'none'}, not {db.head_revision()}: run `jenjang db upgrade` first",
            highlight=False,
        )
        raise typer.Exit(2)


@contextlib.contextmanager
def migrated_session(*, url: str | None) -> Iterator[Session]:
    """A transaction on the database at ``url`` (default: the settings'), which must be
    migrated to the newest revision (else exit 2); database errors exit 2 in one line."""
    from sqlalchemy.exc import SQLAlchemyError

    from recommender.store import db

    target = url or settings().database_url
    _check_migrated(target)
    engine = db.make_engine(target)
    try:
        with db.make_sessionmaker(engine).begin() as session:
            yield session
    except SQLAlchemyError as exc:
        db_fail(exc=exc, url=target)
    finally:
        engine.dispose()


@contextlib.contextmanager
def upgraded_session(*, url: str | None) -> Iterator[Session]:
    """Migrate the database at ``url`` to the newest revision, then a transaction on it."""
    from sqlalchemy.exc import SQLAlchemyError

    from recommender.store import db

    target = url or settings().database_url
    try:
        db.upgrade(target)
    except SQLAlchemyError as exc:
        db_fail(exc=exc, url=target)
    with migrated_session(url=target) as session:
        yield session
