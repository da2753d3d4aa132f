"""Data commands: ``generate``, ``validate``, ``ingest``, ``summary``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table as RichTable

from recommender.cli.common import JsonOpt, console, err, settings
from recommender.data.io import DataSourceError, read_tables
from recommender.data.schema import PROFILES
from recommender.data.validate import Problem, Report, validate
from training.cli.common import employee_progress, print_counts
from training.ingest import QUARANTINE
from training.ingest import ingest as run_ingest
from training.summary import summarise, summary_json

if TYPE_CHECKING:
    from training.synthetic.generate import Progress as Step

MAX_PRINTED = 500


def generate(
    out: Annotated[
        Path | None, typer.Option(help="Folder to write the raw tables to (required).")
    ] = None,
    employees: Annotated[int, typer.Option(min=1, help="Number of employees.")] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same files).")] = 7,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
    chunk_size: Annotated[int, typer.Option(min=1000, help="Employees per chunk.")] = 50_000,
    partitioned: Annotated[
        bool | None,
        typer.Option(
            "--partitioned/--single-files",
            help="Tables that grow with employees as folders of Parquet parts (default: above "
            "200,000 employees).",
            show_default=False,
        ),
    ] = None,
    world: Annotated[
        str,
        typer.Option(
            help="Behaviour world: who enrols in what and what it does "
            "(docs/synthetic-behaviour.md; --list-worlds prints them)."
        ),
    ] = "self_selection",
    list_worlds: Annotated[
        bool, typer.Option("--list-worlds", help="Print the behaviour worlds and exit.")
    ] = False,
) -> None:
    """Generate a synthetic Kemnaker-like organisation (raw tables, with NIPs)."""
    # the simulator (about 60 ms to import) only when generating: `jenjang --help` stays fast
    from training.synthetic.generate import generate as run_generate
    from training.synthetic.worlds import world_names

    if list_worlds:
        for name in world_names():
            print(name)
        raise typer.Exit(0)
    if world not in world_names():
        raise typer.BadParameter(
            f"unknown world '{world}': use one of {', '.join(world_names())}",
            param_hint="--world",
        )
    if out is None:
        raise typer.BadParameter("the folder to write to is required", param_hint="--out")
    if fmt not in ("parquet", "csv"):
        raise typer.BadParameter(f"'{fmt}' is not parquet or csv", param_hint="--format")
    with employee_progress() as bar:
        task = bar.add_task("simulating", total=employees)

        def tick(step: Step) -> None:
            bar.update(
                task, completed=step.employees_done, description=f"chunk {step.chunk}/{step.chunks}"
            )

        rows = run_generate(
            employees, seed, out, fmt, chunk_size, tick, partitioned=partitioned, world=world
        )
    print_counts(title="Generated", rows=rows, where=out)


def _read(source: str) -> dict[str, Any]:
    try:
        return read_tables(source)
    except DataSourceError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc


def _print_problems(problems: list[Problem]) -> None:
    for p in problems[:MAX_PRINTED]:
        colour = "red" if p.severity == "error" else "yellow"
        value = f" value={p.value!r}" if p.value is not None else ""
        line = escape(f"{p}{value}")
        console.print(f"[{colour}]{p.severity}[/{colour}] {line}", highlight=False)
    if len(problems) > MAX_PRINTED:
        console.print(f"... and {len(problems) - MAX_PRINTED:,} more (use --report FILE for all)")


def _write_report(report: Report, path: Path) -> None:
    pd.DataFrame([p.__dict__ for p in report.problems]).to_csv(path, index=False)
    console.print(f"full problem list written to {path}")


def _check_profile(profile: str | None) -> None:
    if profile is not None and profile not in PROFILES:
        raise typer.BadParameter(
            f"'{profile}' is not one of {', '.join(PROFILES)}", param_hint="--profile"
        )


def validate_cmd(
    data: Annotated[
        str | None,
        typer.Argument(
            help="Folder of CSV/Parquet files or SQL URL (default: the demo's raw tables)."
        ),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(help="full, interactions or standards (default: guessed from the tables)."),
    ] = None,
    report: Annotated[Path | None, typer.Option(help="Write every problem to this CSV.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check raw tables against the data contract; list every problem; exit 1 if any error."""
    _check_profile(profile)
    source = data or str(settings().raw_dir)
    frames = _read(source)
    result = validate(frames, profile)
    counts = {name: len(df) for name, df in frames.items()}
    if as_json:
        problems = [p.__dict__ for p in result.problems]
        print(json.dumps({"ok": result.ok, "rows": counts, "problems": problems}, default=str))
    else:
        print_counts(title="Rows per table", rows=counts, where=source)
        _print_problems(result.problems)
        n_err = len(result.errors)
        console.print(
            f"[{'green' if result.ok else 'red'}]{n_err:,} error(s), "
            f"{len(result.problems) - n_err:,} warning(s)[/]"
        )
    if report:
        _write_report(result, report)
    raise typer.Exit(0 if result.ok else 1)


def ingest(
    data: Annotated[
        str | None,
        typer.Argument(help="Raw tables: folder or SQL URL (default: the demo's raw tables)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for clean tables (default: the demo's clean folder)."),
    ] = None,
    profile: Annotated[str | None, typer.Option(help="full, interactions or standards.")] = None,
    strict: Annotated[bool, typer.Option(help="Exit 1 if any row was rejected.")] = False,
) -> None:
    """Validate, normalise and pseudonymise; write clean Parquet and quarantine rejected rows."""
    _check_profile(profile)
    current = settings()
    source = data or str(current.raw_dir)
    target = out or current.clean_dir
    try:
        result, outcomes = run_ingest(
            source, target, current.pseudonym_key.get_secret_value(), profile
        )
    except DataSourceError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    table = RichTable(title=f"Ingested into {target}")
    for col in ("table", "kept", "rejected", "note"):
        table.add_column(col, justify="right" if col in ("kept", "rejected") else "left")
    for o in outcomes:
        note = o.failed or (f"see {QUARANTINE}/{o.table}.csv" if o.rejected else "")
        table.add_row(o.table, f"{o.kept:,}", f"{o.rejected:,}", note)
    console.print(table)
    for p in result.problems:
        if p.row is None:
            console.print(f"[yellow]{p.severity}[/yellow] {escape(str(p))}", highlight=False)
    rejected = sum(o.rejected for o in outcomes)
    missing = [p for p in result.errors if p.rule == "missing_table"]
    raise typer.Exit(1 if missing or (strict and rejected) else 0)


def summary(
    data: Annotated[
        Path | None, typer.Option(help="Clean tables folder (default: the demo's clean tables).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Print a summary of the clean organisation: people, positions, training, 20-JP rule, and
    managerial share, golongan mix, ages and JF time in tier against the domain.md ranges."""
    folder = data or settings().clean_dir
    try:
        if as_json:
            print(json.dumps(summary_json(folder), indent=2, default=str))
            return
        lines = summarise(folder)
    except DataSourceError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    for line in lines:
        console.print(line, highlight=False)
