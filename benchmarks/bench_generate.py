"""Benchmark: ``jenjang generate`` time and peak memory by organisation size.

Targets (issue 2): 1,000,000 employees in at most 10 minutes with at most 6 GB peak memory on
2 cores. The baseline printed next to each figure is the 100,000-employee run of the same session
(or the smallest size asked for), scaled linearly: a ratio near 1 means generation time grows
linearly with employees; the 5,000 run is dominated by fixed start-up costs.

    python -m benchmarks.bench_generate [--sizes 5000 100000 1000000] [--worlds a,b] [--json]

``--worlds`` (default ``self_selection``) measures each size in each behaviour world
(``jenjang generate --world``); the linear baseline is per world.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.proctree import run

TARGET_SECONDS = {1_000_000: 600.0}
TARGET_BYTES = {1_000_000: 6 * 1024**3}


def measure(
    n: int, workdir: Path, seed: int = 7, world: str = "self_selection"
) -> dict[str, float | str]:
    """Generate ``n`` employees of behaviour world ``world`` into a scratch folder; return
    seconds, peak GiB and output MiB. Raises RuntimeError when the command fails."""
    out = workdir / f"gen-{n}"
    cmd = [
        sys.executable,
        "-m",
        "training.cli",
        "generate",
        "--employees",
        str(n),
        "--seed",
        str(seed),
        "--out",
        str(out),
        "--world",
        world,
    ]
    stats = run(cmd)
    if stats.returncode != 0:
        raise RuntimeError(f"generate --employees {n} failed with exit {stats.returncode}")
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    shutil.rmtree(out)
    return {
        "world": world,
        "employees": n,
        "seconds": stats.seconds,
        "peak_gib": stats.peak_rss / 1024**3,
        "output_mib": size / 1024**2,
    }


def main() -> None:
    """Run the sizes, print a table (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000, 100_000, 1_000_000])
    parser.add_argument("--worlds", default="self_selection")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = sorted(set(args.sizes) | {5_000})
    worlds = [w for w in args.worlds.split(",") if w]
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="jenjang-bench-") as tmp:
        for world in worlds:
            for n in sizes:
                rows.append(measure(n, Path(tmp), world=world))
                print(f"measured {world} {n:,}", file=sys.stderr)
    for world in worlds:
        mine = [r for r in rows if r["world"] == world]
        ref = next((r for r in mine if r["employees"] == 100_000), mine[0])
        _add_baseline(mine, ref["seconds"] / ref["employees"])
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"# generate benchmark, {when}, {shutil.os.cpu_count()} CPUs")
    print(
        "| world | employees | seconds | linear baseline s | ratio | peak GiB | output MiB "
        "| target |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        target = f"<= {r['target_s']:.0f} s, <= {r['target_gib']:.0f} GiB" if r["target_s"] else ""
        print(
            f"| {r['world']} | {r['employees']:,} | {r['seconds']:.1f} | "
            f"{r['linear_baseline_s']:.1f} | "
            f"{r['ratio_to_linear']:.2f} | {r['peak_gib']:.2f} | {r['output_mib']:.0f} | "
            f"{target} |"
        )
    if args.json:
        print(json.dumps(rows))


def _add_baseline(rows: list[dict], per_employee: float) -> None:
    """Linear baseline, ratio and targets of each row (in place)."""
    for r in rows:
        r["linear_baseline_s"] = per_employee * r["employees"]
        r["ratio_to_linear"] = r["seconds"] / r["linear_baseline_s"]
        r["target_s"] = TARGET_SECONDS.get(int(r["employees"]))
        r["target_gib"] = (
            TARGET_BYTES[int(r["employees"])] / 1024**3
            if int(r["employees"]) in TARGET_BYTES
            else None
        )


if __name__ == "__main__":
    main()
