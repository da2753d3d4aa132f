"""Benchmark: ``jenjang train programs`` time and peak memory by organisation size.

For each size: generate (seed 7) and ingest into a scratch folder (not timed), then time
``jenjang train programs`` end to end (features for every split, LambdaRank with early stopping,
evaluation with bootstrap, MLflow logging into a scratch store). Queries are sampled at 25,000
people a year (``ProgramsConfig.max_people_per_year``), so fitting is bounded and the part that
grows with the organisation is the point-in-time snapshot work. The baseline next to each
figure is the smallest size's time per employee, scaled linearly (ratio <= 1: at most linear).

    python -m benchmarks.bench_train [--sizes 5000 50000 200000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.proctree import run


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "training.cli", *args]


def measure(n: int, work: Path) -> dict[str, float]:
    """Prepare an ``n``-employee organisation, then time and measure the training command."""
    raw, clean = work / f"raw-{n}", work / f"clean-{n}"
    subprocess.run(
        _cli("generate", "--employees", str(n), "--out", str(raw)), check=True, capture_output=True
    )
    subprocess.run(_cli("ingest", str(raw), "--out", str(clean)), check=True, capture_output=True)
    env = {
        **os.environ,
        "JENJANG_MLFLOW_TRACKING_URI": f"sqlite:///{work}/mlruns-{n}.db",
        "JENJANG_MLFLOW_ARTIFACT_ROOT": str(work / f"artifacts-{n}"),
    }
    stats = run(_cli("train", "programs", "--data", str(clean)), env=env)
    if stats.returncode != 0:
        raise RuntimeError(f"train programs failed for {n} employees")
    return {"employees": n, "seconds": stats.seconds, "peak_gib": stats.peak_rss / 1024**3}


def main() -> None:
    """Run the sizes and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000, 50_000, 200_000])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="jenjang-bench-train-") as tmp:
        for n in sorted(args.sizes):
            rows.append(measure(n, Path(tmp)))
            print(f"measured {n:,}: {rows[-1]}", file=sys.stderr)
    base = rows[0]["seconds"] / rows[0]["employees"]
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"# train programs benchmark, {when}, {os.cpu_count()} CPUs")
    print("| employees | seconds | linear baseline s | ratio | peak GiB |")
    print("|---:|---:|---:|---:|---:|")
    for r in rows:
        linear = base * r["employees"]
        print(
            f"| {r['employees']:,} | {r['seconds']:.1f} | {linear:.1f} | "
            f"{r['seconds'] / linear:.2f} | {r['peak_gib']:.2f} |"
        )


if __name__ == "__main__":
    main()
