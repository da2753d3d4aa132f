"""What every ``jenjang`` command shares: the consoles, the settings, one-line errors and the
options several commands take (runtime and offline commands alike)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from recommender.config import Settings, configure_threads, disable_telemetry, get_settings

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)  # never break a path or a message in two

DataOpt = Annotated[
    Path | None,
    typer.Option("--data", help="Clean tables folder (default: the demo's clean tables)."),
]
UrlOpt = Annotated[
    str | None, typer.Option("--url", help="Database URL (default: JENJANG_DATABASE_URL).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def settings() -> Settings:
    """The settings of this process; invalid ones are printed one per line and exit 2
    (raises typer.Exit)."""
    try:
        return get_settings()
    except ValidationError as exc:
        for problem in exc.errors():
            where = ".".join(str(x) for x in problem["loc"]) or "settings"
            err.print(
                f"[red]error:[/red] {escape(where)}: {escape(problem['msg'])}", highlight=False
            )
        raise typer.Exit(2) from exc


# before every command: no telemetry, thread limits, logging, and the settings checked (no
# docstring: Typer would show it instead of the application's help)
def root_callback(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    disable_telemetry()
    configure_threads()
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    settings()


def fail(*, exc: Exception) -> NoReturn:
    """Print ``exc`` as one error line and exit 2 (raises typer.Exit)."""
    err.print(f"[red]error:[/red] {escape(str(exc))}")
    raise typer.Exit(2) from exc


def clean_dir(*, data: Path | None) -> Path:
    """``data`` or the settings' clean folder; exits 2 (typer.Exit) when it is not a folder."""
    path = data or settings().clean_dir
    if not Path(path).is_dir():
        err.print(
            f"[red]error:[/red] clean data folder '{escape(str(path))}' does not exist: "
            "run `make run` or `jenjang ingest RAW --out CLEAN`"
        )
        raise typer.Exit(2)
    return Path(path)
