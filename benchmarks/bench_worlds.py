"""Benchmark: the programme ranker in every behaviour world, and across worlds (issue 16).

For each world: ``jenjang generate --world W`` (seed 7), ``jenjang ingest``, ``jenjang train
programs --no-decisions`` into a scratch MLflow store, then ``jenjang evaluate programs --json``
of that version on the world's own test year. Then the robustness table: the model trained in
world A scored on the test year of world B (every pair). Prints markdown tables of NDCG@10 with
95 % bootstrap intervals for the model and every baseline the results carry (whatever keys
``evaluate --json`` prints: popularity, gap rule, ``behaviour_formula``, ``ease``, ``rp3beta``
...), and writes ``results.json`` and ``worlds.md`` under ``--out``.

    python -m benchmarks.bench_worlds [--employees 5000] [--worlds a,b,c] [--out DIR]

Heavy: at 5,000 employees each training takes minutes on 2 cores; run it alone.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SEED = 7


def _env(out: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "JENJANG_MLFLOW_TRACKING_URI": f"sqlite:///{out / 'mlflow.db'}",
            "JENJANG_MLFLOW_ARTIFACT_ROOT": str(out / "mlartifacts"),
            "MLFLOW_TRACKING_URI": f"sqlite:///{out / 'mlflow.db'}",
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "OMP_NUM_THREADS": env.get("OMP_NUM_THREADS", "1"),
        }
    )
    return env


def _run(args: list[str], env: dict[str, str]) -> str:
    """Run ``python -m training.cli ARGS``; return stdout. Raises RuntimeError on failure."""
    cmd = [sys.executable, "-m", "training.cli", *args]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout)[-2000:]
        raise RuntimeError(f"{' '.join(args[:2])} failed (exit {done.returncode}):\n{tail}")
    return done.stdout


def _evaluate(version: int, clean: Path, env: dict[str, str]) -> dict[str, Any]:
    out = _run(
        ["evaluate", "programs", "--data", str(clean), "--model", str(version), "--json"], env
    )
    return json.loads(out.strip().splitlines()[-1])


def prepare(*, world: str, employees: int, out: Path, env: dict[str, str]) -> Path:
    """Generate and ingest ``world`` under ``out/world``; returns the clean folder."""
    raw, clean = out / world / "raw", out / world / "clean"
    _run(
        ["generate", "--employees", str(employees), "--seed", str(SEED), "--world", world,
         "--out", str(raw)],
        env,
    )  # fmt: skip
    _run(["ingest", str(raw), "--out", str(clean)], env)
    return clean


def run_all(*, worlds: list[str], employees: int, out: Path) -> dict[str, Any]:
    """Every step for ``worlds``; returns {"inside": {world: head}, "cross": {A: {B: head}},
    "seconds": {...}}. A fresh MLflow store under ``out``: the k-th trained world is version k.
    A failed evaluation is kept as ``{"error": message}`` in its cell. Raises RuntimeError
    when generating, ingesting or training fails."""
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("mlflow.db",):
        (out / stale).unlink(missing_ok=True)
    env = _env(out)
    clean, version, seconds = {}, {}, {}
    for k, world in enumerate(worlds, start=1):
        t0 = time.perf_counter()
        clean[world] = prepare(world=world, employees=employees, out=out, env=env)
        t1 = time.perf_counter()
        _run(["train", "programs", "--data", str(clean[world]), "--no-decisions"], env)
        version[world] = k
        seconds[world] = {"data": t1 - t0, "train": time.perf_counter() - t1}
        print(f"trained {world} (version {k})", file=sys.stderr)
    cross: dict[str, dict[str, Any]] = {}
    for a in worlds:
        cross[a] = {}
        for b in worlds:
            try:
                cross[a][b] = _evaluate(version[a], clean[b], env)
            except RuntimeError as exc:  # one failed pair must not lose the others
                cross[a][b] = {"error": str(exc)[-500:]}
            print(f"scored {a} -> {b}", file=sys.stderr)
    return {"inside": {w: cross[w][w] for w in worlds}, "cross": cross, "seconds": seconds}


def _cell(fig: dict[str, Any] | None) -> str:
    if not fig or "ndcg@10" not in fig:
        return "error" if fig and "error" in fig else "-"
    lo, hi = fig["ndcg@10_ci"]
    return f"{fig['ndcg@10']:.3f} [{lo:.3f}, {hi:.3f}]"


def inside_table(*, inside: dict[str, Any]) -> str:
    """Markdown: one row per ranker, one column per world (NDCG@10 [95 % CI]); then the
    model's lift over the best baseline with the paired-difference CI."""
    worlds = list(inside)
    rankers: list[str] = []
    for head in inside.values():
        rankers += [r for r in head if r not in rankers]
    lines = ["| ranker | " + " | ".join(worlds) + " |", "|---|" + "---:|" * len(worlds)]
    for r in rankers:
        if r == "error":
            continue
        cells = [_cell(inside[w] if "error" in inside[w] else inside[w].get(r)) for w in worlds]
        lines.append(f"| {r} | " + " | ".join(cells) + " |")
    best = []
    for w in worlds:
        if "model" not in inside[w]:
            best.append("error")
            continue
        m = inside[w]["model"]
        lo, hi = m["diff_ci_vs_best"]
        best.append(
            f"{m['best_baseline']}: {m['lift_vs_best']:+.1%} (diff CI [{lo:.3f}, {hi:.3f}])"
        )
    lines.append("| model vs best baseline | " + " | ".join(best) + " |")
    return "\n".join(lines)


def cross_table(*, cross: dict[str, dict[str, Any]]) -> str:
    """Markdown: trained in the row's world, tested in the column's world: model NDCG@10 [CI];
    the last row is the best baseline of each test world (its own name)."""
    worlds = list(cross)
    lines = ["| trained in \\ tested in | " + " | ".join(worlds) + " |"]
    lines.append("|---|" + "---:|" * len(worlds))
    for a in worlds:
        row = [_cell(cross[a][b].get("model", cross[a][b])) for b in worlds]
        lines.append(f"| {a} | " + " | ".join(row) + " |")
    cells = []
    for b in worlds:
        head = next((cross[a][b] for a in worlds if "model" in cross[a][b]), None)
        if head is None:
            cells.append("error")
            continue
        name = head["model"]["best_baseline"]
        cells.append(f"{name} {_cell(head[name])}")
    lines.append("| best baseline of the test world | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    """Parse arguments, run, print and write the tables."""
    from training.synthetic.worlds import world_names

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--employees", type=int, default=5000)
    parser.add_argument("--worlds", default=",".join(world_names()))
    parser.add_argument("--out", type=Path, default=Path("/tmp/jenjang-bench-worlds"))
    args = parser.parse_args()
    worlds = [w.strip() for w in args.worlds.split(",") if w.strip()]
    unknown = [w for w in worlds if w not in world_names()]
    if unknown:
        parser.error(f"unknown world(s) {', '.join(unknown)}: use {', '.join(world_names())}")
    result = run_all(worlds=worlds, employees=args.employees, out=args.out)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = (
        f"# Behaviour worlds, {args.employees:,} employees, seed {SEED}, {when}\n\n"
        "## Trained and tested inside each world (NDCG@10, 95 % bootstrap CI)\n\n"
        f"{inside_table(inside=result['inside'])}\n\n"
        "## Robustness: trained in one world, tested in another (model NDCG@10)\n\n"
        f"{cross_table(cross=result['cross'])}\n"
    )
    print(text)
    (args.out / "results.json").write_text(json.dumps(result, indent=1, default=str))
    (args.out / "worlds.md").write_text(text)


if __name__ == "__main__":
    main()
