"""The ``jenjang`` application: the runtime commands (``serve``, ``db``, ``keys``, ``users``)
plus the commands of every installed plug-in of the entry-point group ``jenjang.commands``
(the offline package registers ``training.cli:register`` there).

A plug-in is a callable ``register(app)`` that adds commands to the Typer application. A
plug-in whose own package is not installed (a service host without ``training/``) is skipped;
any other error while loading one propagates.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points

import typer

from recommender.cli.common import err, root_callback
from recommender.cli.db import db_app
from recommender.cli.keys import keys_app
from recommender.cli.serve import serve
from recommender.cli.users import users_app

#: The entry-point group whose callables ``register(app)`` add commands to ``jenjang``.
ENTRY_POINT_GROUP = "jenjang.commands"
HELP = "Jenjang: career-path and training recommender for ASN."


def runtime_app() -> typer.Typer:
    """A new ``jenjang`` application with the runtime commands only."""
    app = typer.Typer(add_completion=False, no_args_is_help=True, help=HELP)
    app.callback()(root_callback)
    app.command("serve")(serve)
    app.add_typer(db_app, name="db")
    app.add_typer(keys_app, name="keys")
    app.add_typer(users_app, name="users")
    return app


def _is_missing(exc: ModuleNotFoundError, ep: EntryPoint) -> bool:
    """Whether ``exc`` says the plug-in's own package is not installed."""
    top = ep.module.split(".")[0]
    return exc.name is not None and (exc.name == top or ep.module.startswith(exc.name + "."))


def load_plugins(*, app: typer.Typer) -> list[str]:
    """Call ``register(app)`` of every plug-in of :data:`ENTRY_POINT_GROUP` (sorted by
    name); returns the names of those loaded (a plug-in whose package is missing is left
    out). Errors of a plug-in that is installed propagate."""
    loaded = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            register: Callable[[typer.Typer], None] = ep.load()
        except ModuleNotFoundError as exc:
            if _is_missing(exc, ep):
                continue
            raise
        register(app)
        loaded.append(ep.name)
    return loaded


def build_app() -> typer.Typer:
    """The full ``jenjang`` application: runtime commands plus the installed plug-ins."""
    app = runtime_app()
    load_plugins(app=app)
    return app


def run(*, app: typer.Typer) -> None:
    """Run ``app`` on ``sys.argv``; Ctrl-C prints "interrupted" and exits 130."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


def main() -> None:
    """Console-script entry point of ``jenjang``."""
    run(app=build_app())
