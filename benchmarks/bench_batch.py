"""Benchmark: ``jenjang batch programs`` (top-50 for every active employee) by organisation size,
in-process and on a 2-worker Dask LocalCluster, with the extrapolation to 4.3 million employees.

Goal (issue 7): programmes top-50 for 4.3 M employees in at most 3 hours on 2 cores. For each
size the organisation is generated (seed 7) and ingested once and kept under ``data/bench/``
(reused by later runs: 1,000,000 employees take about 5 minutes to generate); the model is the
demo champion (``jenjang-programs@champion``, same features; its verified local copy is used so
no run pays for importing MLflow). Each mode is timed end to end as a separate command (start-up,
loading and building the organisation, scoring, writing Parquet), with the peak summed RSS of
the whole process tree (Dask scheduler and workers included). The linear baseline next to each
figure is the smallest size's time per eligible employee of the same mode, scaled. The
extrapolation fits time = a + b x employees (and the same for memory) through the two largest
sizes of the run.

    python -m benchmarks.bench_batch [--sizes 10000,100000] [--json] [--no-dask]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.proctree import tree_rss

PROJECT = Path(__file__).resolve().parent.parent
TARGET_EMPLOYEES = 4_300_000
TARGET_SECONDS = 3 * 3600.0
AS_OF = "2026-11-28"
SEED = 7


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "training.cli", *args]


def organisation(n: int, cache: Path) -> Path:
    """The clean tables of an ``n``-employee organisation (generated and ingested once)."""
    folder = cache / f"org-{n}-seed{SEED}"
    clean, raw = folder / "clean", folder / "raw"
    marker = clean / "_bench.json"
    if marker.exists():
        return clean
    shutil.rmtree(folder, ignore_errors=True)
    print(f"generating and ingesting {n:,} employees into {folder} (once)", file=sys.stderr)
    for cmd in (
        _cli("generate", "--employees", str(n), "--seed", str(SEED), "--out", str(raw)),
        _cli("ingest", str(raw), "--out", str(clean)),
    ):
        subprocess.run(cmd, check=True, capture_output=True, cwd=PROJECT)
    shutil.rmtree(raw)  # only the clean tables are read
    marker.write_text(json.dumps({"employees": n, "seed": SEED}))
    return clean


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str], interval: float = 0.2) -> tuple[float, float, int, int, str]:
    """Run ``cmd``; wall seconds, CPU seconds of its whole (reaped) process tree, peak RSS of
    the tree, exit code and stdout."""
    with tempfile.TemporaryFile() as out:
        cpu = _children_cpu()
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, cwd=PROJECT)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, tree_rss(proc.pid))
            time.sleep(interval)
        seconds = time.perf_counter() - start
        out.seek(0)
        return seconds, _children_cpu() - cpu, peak, proc.returncode, out.read().decode()


def measure(clean: Path, n: int, mode: str, work: Path, k: int, size: int) -> dict[str, Any]:
    """One timed batch run; the output folder is kept for the comparison, then removed."""
    out = work / f"{mode}-{n}"
    args = ["batch", "programs", "--out", str(out), "--data", str(clean), "--date", AS_OF]
    args += ["--k", str(k), "--partition-size", str(size), "--local-models", "--json"]
    if mode == "dask":
        args += ["--dask", "local"]
    seconds, cpu, peak, code, stdout = timed(_cli(*args))
    if code != 0:
        raise RuntimeError(f"batch programs ({mode}, {n:,} employees) failed with exit {code}")
    result = json.loads(stdout.strip().splitlines()[-1])
    manifest = json.loads((out / "_manifest.json").read_text())
    return {
        "employees": n,
        "eligible": result["employees"],
        "mode": mode,
        "seconds": seconds,
        "cpu_s": cpu,
        "cpu_ms_per_employee": 1000 * cpu / result["employees"],
        "prepare_s": result["timings"]["prepare_s"],
        "cluster_s": result["timings"].get("cluster_s", 0.0),
        "score_s": result["timings"]["score_s"],
        "scoring_per_s": result["employees_per_s"],
        "per_s": result["employees"] / seconds,
        "peak_gib": peak / 1024**3,
        "rows": result["rows"],
        "fewer_than_k": result["fewer_than_k"],
        "partition_size": size,
        "partitions": len(manifest["partitions"]),
        "output_mib": sum(p.stat().st_size for p in out.glob("part-*.parquet")) / 1024**2,
        "hashes": [e["sha256"] for e in manifest["partitions"]],
    }


def _fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Intercept and slope through the two largest points (slope only with one point)."""
    if len(points) == 1:
        x, y = points[0]
        return 0.0, y / x
    (x0, y0), (x1, y1) = sorted(points)[-2:]
    slope = (y1 - y0) / (x1 - x0)
    return y1 - slope * x1, slope


def extrapolate(rows: list[dict[str, Any]], mode: str) -> dict[str, Any]:
    """Time and peak memory at 4.3 M eligible employees from the fitted lines."""
    mine = [r for r in rows if r["mode"] == mode]
    a, b = _fit([(r["eligible"], r["seconds"]) for r in mine])
    c, d = _fit([(r["eligible"], r["peak_gib"]) for r in mine])
    e, f = _fit([(r["eligible"], r["cpu_s"]) for r in mine])
    seconds = a + b * TARGET_EMPLOYEES
    cpu_hours = (e + f * TARGET_EMPLOYEES) / 3600
    return {
        "cpu_hours_4_3m": cpu_hours,
        "hours_4_3m_two_free_cores": cpu_hours / 2,
        "mode": mode,
        "seconds_4_3m": seconds,
        "hours_4_3m": seconds / 3600,
        "goal_hours": TARGET_SECONDS / 3600,
        "meets_goal": seconds <= TARGET_SECONDS,
        "ms_per_employee": 1000 * b,
        "peak_gib_4_3m": c + d * TARGET_EMPLOYEES,
        "kib_per_employee": d * 1024**2,
    }


def _same(identical: bool | None) -> str:
    """'yes', 'NO', or 'n/a' when the in-process run of that size was not measured."""
    return "n/a" if identical is None else ("yes" if identical else "NO")


def main(argv: list[str] | None = None) -> int:
    """Run the sizes; print a table (and JSON with --json). Exit 2 when it cannot run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated employees")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--no-dask", action="store_true", help="in-process only")
    parser.add_argument(
        "--modes", default="inprocess,dask", help="comma-separated: inprocess, dask"
    )
    parser.add_argument("--k", type=int, default=50)
    parser.add_argument(
        "--partition-size", type=int, default=0, help="default: employees / 20, 1,000-10,000"
    )
    parser.add_argument("--cache", type=Path, default=PROJECT / "data" / "bench")
    opts = parser.parse_args(argv)
    sizes = sorted({int(s) for s in opts.sizes.split(",") if s.strip()})
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from recommender import bundles
    from recommender.config import Settings

    try:  # the champion's verified local copy, which every timed run then reads
        bundles.resolve(Settings(), bundles.PROGRAMS)
    except bundles.BundleError as exc:
        print(f"error: no programme champion ({exc}): run `make models` first", file=sys.stderr)
        return 2
    modes = [m for m in ("inprocess", "dask") if m in opts.modes.split(",")]
    if opts.no_dask:
        modes = [m for m in modes if m != "dask"]
    if not modes:
        print("error: --modes names neither inprocess nor dask", file=sys.stderr)
        return 2
    load = os.getloadavg()[0]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="jenjang-bench-batch-") as tmp:
        for n in sizes:
            clean = organisation(n, opts.cache)
            for mode in modes:
                size = opts.partition_size or min(10_000, max(1_000, n // 20))
                rows.append(measure(clean, n, mode, Path(tmp), opts.k, size))
                print(f"measured {n:,} {mode}: {rows[-1]['seconds']:.1f} s", file=sys.stderr)
            for mode in modes:
                shutil.rmtree(Path(tmp) / f"{mode}-{n}", ignore_errors=True)
    for mode in modes:
        mine = [r for r in rows if r["mode"] == mode]
        base = mine[0]["seconds"] / mine[0]["eligible"]
        for r in mine:
            r["linear_baseline_s"] = base * r["eligible"]
            r["ratio_to_linear"] = r["seconds"] / r["linear_baseline_s"]
    for r in rows:
        twin = [x for x in rows if x["employees"] == r["employees"] and x["mode"] == "inprocess"]
        same = twin[0]["hashes"] == r["hashes"] if twin and r["mode"] != "inprocess" else None
        r["identical_to_inprocess"] = same  # None: nothing to compare (the in-process run)
    for r in rows:
        r.pop("hashes")
    extra = [extrapolate(rows, m) for m in modes]
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# batch programmes top-{opts.k} benchmark, {when}, {os.cpu_count()} CPUs, "
        f"as of {AS_OF}, load average before {load:.2f}, after {os.getloadavg()[0]:.2f}",
        "| employees | eligible | partitions | mode | seconds | CPU s | CPU ms/employee | "
        "preparing s | scoring /s | overall /s | linear baseline s | ratio | peak GiB | "
        "output MiB | same as in-process |",
        "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['employees']:,} | {r['eligible']:,} | {r['partitions']} x "
            f"{r['partition_size']:,} | {r['mode']} | {r['seconds']:.1f} | {r['cpu_s']:.0f} | "
            f"{r['cpu_ms_per_employee']:.2f} | "
            f"{r['prepare_s']:.1f} | {r['scoring_per_s']:.0f} | {r['per_s']:.0f} | "
            f"{r['linear_baseline_s']:.1f} | {r['ratio_to_linear']:.2f} | {r['peak_gib']:.2f} | "
            f"{r['output_mib']:.0f} | {_same(r['identical_to_inprocess'])} |"
        )
    lines.append("")
    for e in extra:
        verdict = "meets" if e["meets_goal"] else "misses"
        lines.append(
            f"{e['mode']}: 4.3 M employees ~ {e['hours_4_3m']:.2f} h wall at this run's pace "
            f"({e['ms_per_employee']:.2f} ms per employee) -> {verdict} the goal of "
            f"{e['goal_hours']:.0f} h; CPU {e['cpu_hours_4_3m']:.2f} core-hours, i.e. "
            f"{e['hours_4_3m_two_free_cores']:.2f} h on 2 cores of its own; peak ~ "
            f"{e['peak_gib_4_3m']:.1f} GiB ({e['kib_per_employee']:.1f} KiB per employee)"
        )
    text = "\n".join(lines)
    if opts.json:
        print(json.dumps({"runs": rows, "extrapolation": extra}))
        print(text, file=sys.stderr)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
