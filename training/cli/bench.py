"""``jenjang bench``: benchmarks of this checkout (``benchmarks/`` is part of the checkout, not
of the installed package, so it is found through the project folder at run time)."""

from __future__ import annotations

import importlib
import sys
from typing import Annotated

import typer

from recommender.cli.common import JsonOpt, err
from recommender.config import PROJECT_DIR

bench_app = typer.Typer(
    no_args_is_help=True, help="Benchmarks of this checkout (figures in docs/benchmarks.md)."
)


def _run_benchmark(module: str, argv: list[str]) -> None:
    """Run ``benchmarks/<module>.py``'s ``main(argv)``; exit with its code (typer.Exit).
    Exits 2 when the checkout has no benchmarks/ folder."""
    if not (PROJECT_DIR / "benchmarks" / f"{module}.py").exists():
        err.print("[red]error:[/red] benchmarks/ is not here: run from a checkout", highlight=False)
        raise typer.Exit(2)
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))  # benchmarks/ is part of the checkout, not the wheel
    bench = importlib.import_module(f"benchmarks.{module}")
    raise typer.Exit(bench.main(argv))


@bench_app.command("serve")
def bench_serve(
    as_json: JsonOpt = False,
    duration: Annotated[float, typer.Option(min=1, help="Seconds measured per load.")] = 10.0,
    runs: Annotated[int, typer.Option(min=1, max=9, help="Repeat the loads; medians.")] = 1,
) -> None:
    """Load-test the service: trivial, cached and uncached programme answers, with targets.

    Starts `jenjang serve` with one worker on the demo organisation (throw-away database and
    key) and loads it with wrk on loopback (installed with apt-get when missing, as root).
    """
    argv = ["--duration", str(duration), "--runs", str(runs)] + (["--json"] if as_json else [])
    _run_benchmark("bench_serve", argv)


@bench_app.command("batch")
def bench_batch(
    as_json: JsonOpt = False,
    sizes: Annotated[
        str, typer.Option(help="Organisation sizes, comma-separated.")
    ] = "10000,100000",
    dask: Annotated[
        bool, typer.Option("--dask/--no-dask", help="Also run on a 2-worker LocalCluster.")
    ] = True,
) -> None:
    """Time batch programmes top-50 for generated organisations (cached under data/bench/),
    in-process and on a 2-worker LocalCluster, with peak memory and the 4.3 M extrapolation."""
    argv = ["--sizes", sizes] + ([] if dask else ["--no-dask"]) + (["--json"] if as_json else [])
    _run_benchmark("bench_batch", argv)
