"""``jenjang batch programs|positions``: recommendations for every active employee as
partitioned Parquet (docs/batch.md), optionally loaded into the application database.

The batch modules (the models, Dask: about two seconds) are imported inside the commands, so
that ``jenjang --help`` does not pay for them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pandas as pd
import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from recommender.careers.rules import RulesError
from recommender.cli.common import DataOpt, JsonOpt, clean_dir, console, err, fail, settings

if TYPE_CHECKING:
    from training.batch import Outcome

batch_app = typer.Typer(
    no_args_is_help=True,
    help="Recommendations for every active employee as partitioned Parquet (docs/batch.md).",
)
BatchOut = Annotated[
    Path, typer.Option("--out", help="Folder for part-*.parquet and _manifest.json.")
]
BatchDask = Annotated[
    str | None,
    typer.Option(
        "--dask",
        help="'local' (a 2-worker LocalCluster) or a scheduler address tcp://host:port; "
        "default: in-process.",
    ),
]
BatchSize = Annotated[
    int, typer.Option("--partition-size", min=1, help="Employees per partition (one task each).")
]
BatchDate = Annotated[
    str | None, typer.Option("--date", help="As-of date YYYY-MM-DD (default: today).")
]
BatchOverwrite = Annotated[
    bool, typer.Option("--overwrite", help="Replace a different batch run in --out.")
]
BatchLocal = Annotated[
    bool,
    typer.Option(
        "--local-models",
        help="Use the verified local copies under models/ (what the service last loaded), "
        "not the MLflow registry.",
    ),
]
BatchToDb = Annotated[
    bool,
    typer.Option(
        "--to-db",
        help="Also load the rows into the application database (JENJANG_DATABASE_URL, "
        "table batch_recommendations; resumable).",
    ),
]
Say = Callable[[int, int, str], None]


@dataclass(frozen=True)
class BatchArgs:
    """The options of one ``jenjang batch`` command."""

    kind: str
    out: Path
    k: int
    dask: str | None
    partition_size: int
    data: Path | None
    date: str | None
    overwrite: bool
    local_models: bool
    as_json: bool
    to_db: bool = False


def _as_of(date: str | None) -> pd.Timestamp:
    """``date`` (default: today) as a day; exits 2 (typer.Exit) when it is not a date."""
    try:
        return pd.Timestamp(date) if date else pd.Timestamp.today().normalize()
    except ValueError:
        err.print(f"[red]error:[/red] --date {escape(str(date))} is not a date (YYYY-MM-DD)")
        raise typer.Exit(2) from None


def _check_dask(dask: str | None) -> None:
    if dask is not None and dask != "local" and "://" not in dask:
        err.print("[red]error:[/red] --dask must be 'local' or a scheduler address tcp://host:port")
        raise typer.Exit(2)


def _bar(transient: bool) -> tuple[Progress, Say]:
    """The batch's progress bar (stderr) and the callback that moves it."""
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[count]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=transient,
    )
    task = bar.add_task("loading models", total=None, count="")

    def say(done: int, total: int, message: str) -> None:
        count = f"{done:,}/{total:,} employees" if total else ""
        bar.update(task, completed=done, total=total or None, description=message, count=count)

    return bar, say


def run_batch_command(*, args: BatchArgs) -> None:
    """Run one ``jenjang batch`` command: write the partitions (and load them into the
    database with ``to_db``), then print the outcome. Exits 2 (typer.Exit) on bad options,
    a batch, rules, model or file error."""
    from recommender.programs.ranker import ModelIntegrityError
    from training import batch
    from training.batch_db import load_batch

    folder = clean_dir(data=args.data)
    at = _as_of(args.date)
    _check_dask(args.dask)
    req = batch.Request(
        args.kind,
        args.out,
        args.k,
        at.normalize(),
        folder,
        args.partition_size,
        args.dask,
        args.overwrite,
    )
    bar, say = _bar(args.as_json)
    loaded = None
    try:
        with bar:
            result = batch.run_batch(req, settings(), local_models=args.local_models, progress=say)
            if args.to_db:
                loaded = load_batch(args.out, settings().database_url, say)
    except (batch.BatchError, RulesError, ModelIntegrityError, OSError) as exc:
        fail(exc=exc)
    if args.as_json:
        print(json.dumps(_batch_json(args, result, loaded)))
    else:
        _print_batch(args, result, loaded)


def _rate(timings: dict[str, Any]) -> float:
    """Employees scored per second of scoring (0 when nothing was scored)."""
    return timings["scored_employees"] / timings["score_s"] if timings["score_s"] > 0 else 0.0


def _batch_json(args: BatchArgs, result: Outcome, loaded: Any) -> dict[str, Any]:
    m, t = result.manifest, result.timings
    return {
        "out": str(args.out),
        "kind": args.kind,
        "k": args.k,
        "as_of": m["as_of"],
        "model": m["model"],
        "partitions": len(m["partitions"]),
        "written": result.written,
        "skipped": result.skipped,
        **m["totals"],
        "timings": t,
        "employees_per_s": _rate(t),
        "database": None if loaded is None else vars(loaded),
    }


def _print_batch(args: BatchArgs, result: Outcome, loaded: Any) -> None:
    m, t, k = result.manifest, result.timings, args.k
    tot = m["totals"]
    version = m["model"]["version"] or "none (standards-only)"
    console.print(
        f"{args.kind} top-{k} as of {m['as_of']} with {m['model']['name']} version {version}: "
        f"{tot['employees']:,} employees, {tot['rows']:,} rows in {len(m['partitions'])} "
        f"partition(s) ({result.written} written, {result.skipped} already complete) "
        f"in {escape(str(args.out))}",
        highlight=False,
    )
    if tot["fewer_than_k"]:
        console.print(
            f"{tot['fewer_than_k']:,} employee(s) have fewer than {k} candidates "
            f"({tot['without_rows']:,} none)",
            highlight=False,
        )
    done = f"{_rate(t):,.0f} employees/s scoring" if result.written else "nothing left to do"
    console.print(
        f"{t['total_s']:.1f} s ({t['prepare_s']:.1f} s preparing; {done})", highlight=False
    )
    if loaded is not None:
        console.print(
            f"database: batch {loaded.batch_id}: {loaded.loaded} partition(s) loaded "
            f"({loaded.rows:,} rows), {loaded.skipped} already there",
            highlight=False,
        )


@batch_app.command("programs")
def batch_programs(
    out: BatchOut,
    k: Annotated[int, typer.Option(min=1, max=50, help="Programmes per employee.")] = 50,
    dask: BatchDask = None,
    partition_size: BatchSize = 10_000,
    data: DataOpt = None,
    date: BatchDate = None,
    overwrite: BatchOverwrite = False,
    local_models: BatchLocal = False,
    as_json: JsonOpt = False,
    to_db: BatchToDb = False,
) -> None:
    """Top-k programmes for every active employee (the service's ranking, scores and reason
    codes), resumable: a rerun finishes what an interrupted one left."""
    run_batch_command(
        args=BatchArgs(
            "programs",
            out,
            k,
            dask,
            partition_size,
            data,
            date,
            overwrite,
            local_models,
            as_json,
            to_db,
        )
    )


@batch_app.command("positions")
def batch_positions(
    out: BatchOut,
    k: Annotated[int, typer.Option(min=1, max=20, help="Positions per employee.")] = 5,
    dask: BatchDask = None,
    partition_size: BatchSize = 10_000,
    data: DataOpt = None,
    date: BatchDate = None,
    overwrite: BatchOverwrite = False,
    local_models: BatchLocal = False,
    as_json: JsonOpt = False,
    to_db: BatchToDb = False,
) -> None:
    """Top-k next positions for every active employee (the service's ranking, eligibility and
    reason codes; standards-only without a careers model), resumable."""
    run_batch_command(
        args=BatchArgs(
            "positions",
            out,
            k,
            dask,
            partition_size,
            data,
            date,
            overwrite,
            local_models,
            as_json,
            to_db,
        )
    )
