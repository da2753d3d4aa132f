"""Benchmark: training-like processes logging to the MLflow tracking server at the same time.

Each process does what a training job does with MLflow, through the project's own tracking
module: ``training.tracking.run`` (get or create the experiment, start a run), one
``log_params`` call with ``--params`` parameters, ``--metrics`` separate ``log_metric`` calls
(one per step, as a training loop does), a small JSON artifact uploaded through the server, end
of run. A launcher interpreter imports what a training job imports (MLflow, ``training``) once
and forks the N processes, which wait for each other and then log at the same moment: the
start-up (the same for every job, and in a deployment spent on other machines than the
server) is paid once and reported apart, so the figures are about the server. Rounds: 1 process
(the baseline), N processes racing to create a new experiment, N processes logging into an
existing one. Errors are failed processes (with their exception) and runs that do not hold
every parameter, metric and the artifact afterwards.

    python -m benchmarks.bench_mlflow [--processes 8] [--metrics 50] [--params 25] [--repeat 3]
                                      [--tracking-uri http://127.0.0.1:5500] [--json]

Without ``--tracking-uri`` a throw-away MLflow server is started exactly as the stack starts it
(``stack/run.py``: PostgreSQL backend store on a new database, artifacts served by the server,
``JENJANG_STACK_MLFLOW_WORKERS`` workers, default 2) and dropped afterwards; the PostgreSQL
server is ``JENJANG_STACK_POSTGRES_URL`` (default postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ARTIFACT = "summary.json"
#: Longest wait of a process for the others before logging.
BARRIER_SECONDS = 120.0


# ------------------------------------------------------------------ launcher and processes
def _log_one(
    settings: Any,
    experiment: str,
    index: int,
    metrics: int,
    params: int,
    barrier: Any,
    results: Any,
) -> None:
    """One training-like process (forked by :func:`launch`); puts its result on ``results``."""
    import mlflow

    from training import tracking

    try:
        barrier.wait()
        began = time.time()
        with tracking.run(settings, experiment, f"proc-{index}") as active:
            mlflow.log_params({f"param_{j:02d}": f"value-{index}-{j}" for j in range(params)})
            for step in range(metrics):
                mlflow.log_metric(f"metric_{step:02d}", index + step / 100, step=step)
            tracking.log_json({"process": index, "metrics": metrics, "params": params}, ARTIFACT)
            run_id = active.info.run_id
        results.put(
            {"index": index, "run_id": run_id, "log_began": began, "log_ended": time.time()}
        )
    except BaseException as exc:
        kind = f"{type(exc).__module__}.{type(exc).__qualname__}"
        first = (str(exc).strip().splitlines() or [""])[0]
        results.put({"index": index, "error": f"{kind}: {first}"[:400]})
        raise SystemExit(1) from None


def launch(tracking_uri: str, experiment: str, processes: int, metrics: int, params: int) -> None:
    """Import what a training job imports, once; fork ``processes`` processes that log at the
    same moment; print one JSON line: import seconds, each process's result, exit codes."""
    t0 = time.perf_counter()
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import multiprocessing
    import threading

    import mlflow  # noqa: F401 (imported before the fork: every process starts at once)

    from recommender.config import Settings
    from training import tracking  # noqa: F401

    settings = Settings(
        mlflow_tracking_uri=tracking_uri, mlflow_artifact_root="mlflow-artifacts:///"
    )
    import_seconds = time.perf_counter() - t0
    threads = threading.active_count()  # 1: safe to fork
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(processes, timeout=BARRIER_SECONDS)
    results = ctx.Queue()
    args = (settings, experiment)
    procs = [
        ctx.Process(target=_log_one, args=(*args, i, metrics, params, barrier, results))
        for i in range(processes)
    ]
    for proc in procs:
        proc.start()
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + BARRIER_SECONDS + 300
    while len(found) < processes and time.monotonic() < deadline:
        try:
            found.append(results.get(timeout=1.0))
        except queue.Empty:
            if all(p.exitcode is not None for p in procs) and results.empty():
                break
    for proc in procs:
        proc.join(timeout=30)
        if proc.exitcode is None:
            proc.kill()
    exits = [p.exitcode for p in procs]
    summary = {"import_seconds": import_seconds, "threads_at_fork": threads}
    print(json.dumps({**summary, "results": found, "exit_codes": exits}), flush=True)


# --------------------------------------------------------------------------------- parent
@dataclass
class Round:
    """One round: N processes logging at once."""

    processes: int
    wall_seconds: float
    #: The launcher's imports (what each training job spends before its first request).
    import_seconds: float = 0.0
    log_seconds: list[float] = field(default_factory=list)
    #: From the first process's first logging request to the last one's last (all overlap).
    log_wall_seconds: float = 0.0
    run_ids: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def run_round(
    tracking_uri: str,
    experiment: str,
    processes: int,
    metrics: int = 50,
    params: int = 25,
    timeout: float = 600.0,
    existing_experiment: bool = False,
) -> Round:
    """Run ``processes`` training-like processes at once (a launcher process forks them) and
    collect wall time, logging times, run ids and errors (failed processes with their
    exception, missing results, time-out).

    ``existing_experiment``: create the experiment first (as a first training run would), so
    the processes only log; otherwise they all race to create it (``training.tracking.run``
    gets or creates it)."""
    if existing_experiment:
        import mlflow

        client = mlflow.MlflowClient(tracking_uri=tracking_uri)
        # the location training.tracking gives it with the stack's JENJANG_MLFLOW_ARTIFACT_ROOT
        client.create_experiment(experiment, artifact_location=f"mlflow-artifacts:/{experiment}")
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}
    argv = [sys.executable, "-m", "benchmarks.bench_mlflow", "launch", tracking_uri, experiment]
    argv += [str(processes), str(metrics), str(params)]
    start = time.perf_counter()
    result = Round(processes, 0.0)
    try:
        done = subprocess.run(
            argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        result.errors.append(f"no answer after {timeout:.0f} s")
        return result
    result.wall_seconds = time.perf_counter() - start
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        result.errors.append(f"launcher exit {done.returncode}: {tail[:400]}")
        return result
    data = json.loads(lines[-1])
    result.import_seconds = float(data["import_seconds"])
    if data["threads_at_fork"] != 1:
        result.errors.append(f"launcher had {data['threads_at_fork']} threads when forking")
    spans = []
    for item in sorted(data["results"], key=lambda r: int(r["index"])):
        if "error" in item:
            result.errors.append(f"process {item['index']}: {item['error']}")
            continue
        result.run_ids.append(item["run_id"])
        spans.append((float(item["log_began"]), float(item["log_ended"])))
        result.log_seconds.append(spans[-1][1] - spans[-1][0])
    reported = {int(r["index"]) for r in data["results"]}
    for i, code in enumerate(data["exit_codes"]):
        if i not in reported:
            result.errors.append(f"process {i}: exit code {code} and no result")
    if spans:
        result.log_wall_seconds = max(e for _, e in spans) - min(b for b, _ in spans)
    return result


def verify(tracking_uri: str, run_ids: list[str], metrics: int, params: int) -> list[str]:
    """Problems with the logged runs: missing parameters, metrics, artifact, or a run that did
    not finish. Empty when every run holds everything it logged."""
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=tracking_uri)
    problems = []
    for run_id in run_ids:
        run = client.get_run(run_id)
        if run.info.status != "FINISHED":
            problems.append(f"run {run_id}: status {run.info.status}")
        if len(run.data.params) != params:
            problems.append(f"run {run_id}: {len(run.data.params)} of {params} params")
        if len(run.data.metrics) != metrics:
            problems.append(f"run {run_id}: {len(run.data.metrics)} of {metrics} metrics")
        if ARTIFACT not in {a.path for a in client.list_artifacts(run_id)}:
            problems.append(f"run {run_id}: artifact {ARTIFACT} missing")
        elif not run.info.artifact_uri.startswith("mlflow-artifacts:"):
            problems.append(f"run {run_id}: artifacts not served ({run.info.artifact_uri})")
    return problems


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def throwaway_server(workers: int | None = None) -> Iterator[str]:
    """An MLflow server started as the stack starts it, on a new PostgreSQL database and a
    free port; stopped and dropped afterwards. Yields its URL."""
    from stack.run import (
        StackConfig,
        drop_databases,
        ensure_databases,
        http_ok,
        mlflow_argv,
        mlflow_env,
        stop_group,
    )

    name = f"jenjang_bench_{secrets.token_hex(4)}"
    with tempfile.TemporaryDirectory(prefix="jenjang-bench-mlflow-") as tmp:
        env = {
            **os.environ,
            "JENJANG_STACK_APP_DB": f"{name}_unused",
            "JENJANG_STACK_MLFLOW_DB": name,
            "JENJANG_STACK_MLFLOW_PORT": str(_free_port()),
            "JENJANG_STACK_DIR": tmp,
        }
        if workers is not None:
            env["JENJANG_STACK_MLFLOW_WORKERS"] = str(workers)
        cfg = StackConfig.from_env(env)
        ensure_databases(cfg)
        log = Path(tmp) / "mlflow.log"
        with log.open("w") as fh:
            proc = subprocess.Popen(
                mlflow_argv(cfg),
                env=mlflow_env(cfg, cfg.child_env(env)),
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            deadline = time.monotonic() + 180
            while not http_ok(f"{cfg.tracking_uri}/health"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"MLflow server did not start:\n{log.read_text()[-2000:]}")
                time.sleep(0.3)
            yield cfg.tracking_uri
        finally:
            stop_group(proc.pid, 15.0, proc)
            drop_databases(cfg.postgres_url, [cfg.mlflow_db, cfg.app_db])


#: The rounds: (label, processes (None: --processes), the experiment exists beforehand).
MODES = (
    ("1 process (baseline)", 1, False),
    ("N processes, new experiment", None, False),
    ("N processes, existing experiment", None, True),
)


def measure(
    tracking_uri: str, processes: int, metrics: int, params: int, repeat: int
) -> list[dict[str, Any]]:
    """``repeat`` rounds of every mode in :data:`MODES`, each on a new experiment name."""
    rows = []
    tag = secrets.token_hex(3)
    for r in range(repeat):
        for m, (label, fixed, existing) in enumerate(MODES):
            n = fixed or processes
            experiment = f"bench-mlflow-{tag}-{r}-{m}"
            result = run_round(
                tracking_uri, experiment, n, metrics, params, existing_experiment=existing
            )
            result.errors += verify(tracking_uri, result.run_ids, metrics, params)
            row = asdict(result)
            row.update(round=r, mode=label.replace("N processes", f"{n} processes"))
            rows.append(row)
            print(
                f"round {r + 1}/{repeat}, {row['mode']}: {result.wall_seconds:.1f} s wall, "
                f"{len(result.errors)} errors",
                file=sys.stderr,
            )
    return rows


#: HTTP requests of one process besides the metrics: get and create the experiment, start
#: the run, the params, the artifact (upload), end the run.
OTHER_REQUESTS = 6


def summarise(rows: list[dict[str, Any]], metrics: int) -> list[dict[str, Any]]:
    """Medians over the rounds, per mode (in the order of :data:`MODES`)."""
    out = []
    for mode in dict.fromkeys(r["mode"] for r in rows):
        mine = [r for r in rows if r["mode"] == mode]
        n = mine[0]["processes"]
        logs = [s for r in mine for s in r["log_seconds"]]
        median_log = statistics.median(logs) if logs else float("nan")
        log_wall = statistics.median(r["log_wall_seconds"] for r in mine)
        errors = [e for r in mine for e in r["errors"]]
        out.append(
            {
                "mode": mode,
                "processes": n,
                "rounds": len(mine),
                "wall_seconds": statistics.median(r["wall_seconds"] for r in mine),
                "import_seconds": statistics.median(r["import_seconds"] for r in mine),
                "log_seconds_median": median_log,
                "log_seconds_max": max(logs) if logs else float("nan"),
                "ms_per_request": 1000 * median_log / (metrics + OTHER_REQUESTS),
                "log_wall_seconds": log_wall,
                "requests_per_second": n * (metrics + OTHER_REQUESTS) / log_wall
                if log_wall > 0
                else float("nan"),
                "runs_ok": sum(len(r["run_ids"]) for r in mine),
                "runs_started": n * len(mine),
                "errors": len(errors),
                "rounds_with_errors": sum(1 for r in mine if r["errors"]),
                "error_messages": sorted(set(errors))[:5],
            }
        )
    return out


def main() -> None:
    """Run the rounds against a server (throw-away by default) and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--metrics", type=int, default=50)
    parser.add_argument("--params", type=int, default=25)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tracking-uri", help="an MLflow server (default: a throw-away one)")
    parser.add_argument("--mlflow-workers", type=int, help="workers of the throw-away server")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    load_before = os.getloadavg()[0]
    if args.tracking_uri:
        rows = measure(args.tracking_uri, args.processes, args.metrics, args.params, args.repeat)
        where = args.tracking_uri
    else:
        with throwaway_server(args.mlflow_workers) as uri:
            rows = measure(uri, args.processes, args.metrics, args.params, args.repeat)
        where = f"throw-away server ({args.mlflow_workers or 2} workers, PostgreSQL backend)"
    table = summarise(rows, args.metrics)
    if args.json:
        print(json.dumps({"rows": rows, "summary": table}))
        return
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"# MLflow concurrency benchmark, {when}, {os.cpu_count()} CPUs, {where}")
    print(f"load average (1 min) before {load_before:.1f}, after {os.getloadavg()[0]:.1f}")
    print(
        f"each process: {args.params} params (1 call), {args.metrics} metrics (1 call each), "
        f"1 JSON artifact, through training.tracking; medians of {args.repeat} rounds"
    )
    print(
        "| round | wall s | of which start-up s | logging phase s | logging s per process "
        "(median / max) | ms per request | requests/s | runs ok | errors (rounds) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in table:
        print(
            f"| {r['mode']} | {r['wall_seconds']:.1f} | {r['import_seconds']:.1f} | "
            f"{r['log_wall_seconds']:.2f} | "
            f"{r['log_seconds_median']:.2f} / {r['log_seconds_max']:.2f} | "
            f"{r['ms_per_request']:.1f} | {r['requests_per_second']:.0f} | "
            f"{r['runs_ok']} of {r['runs_started']} | {r['errors']} ({r['rounds_with_errors']}) |"
        )
    for r in table:
        for message in r["error_messages"]:
            print(f"error ({r['mode']}): {message}")


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "launch":
        a = sys.argv
        launch(a[2], a[3], int(a[4]), int(a[5]), int(a[6]))
    else:
        main()
