"""Pieces the offline commands share: progress bars, row-count tables, path helpers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table as RichTable

from recommender.cli.common import console, err


def employee_progress() -> Progress:
    """A progress bar counting employees, on stderr, kept when done."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} employees"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )


def steps() -> tuple[Progress, Callable[[str], None]]:
    """A transient spinner on stderr and a function that sets its text (the step running)."""
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    task = bar.add_task("starting", total=None)

    def step(text: str) -> None:
        bar.update(task, description=text)

    return bar, step


def print_counts(*, title: str, rows: dict[str, int], where: Path | str) -> None:
    """A table of rows per table, titled "``title``: ``where``"."""
    table = RichTable(title=f"{title}: {where}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in rows.items():
        table.add_row(name, f"{count:,}")
    console.print(table)


def str_or_none(*, path: Path | None) -> str | None:
    """``str(path)``, or None for None."""
    return str(path) if path is not None else None
