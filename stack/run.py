"""Supervisor of a production-like Jenjang stack on one machine (docs/stack.md).

    python -m stack.run [up]     # start everything, print the URLs, run until Ctrl-C / SIGTERM
    python -m stack.run down     # stop a stack started elsewhere (reads the pid file)
    python -m stack.run status   # which processes of the pid file are alive

``up`` creates the application and MLflow databases on PostgreSQL if they are missing, migrates
the application database (``jenjang db upgrade``), starts an MLflow tracking server on the
PostgreSQL backend store that also serves the artifacts (``--serve-artifacts``), a Dask scheduler
and its workers (loopback, no dashboard), trains, registers and promotes a model that has no
``@champion`` in that registry (``jenjang train|promote programs|careers``, with
``--dask <scheduler>`` when the command offers it and ``--min-parity`` or
``--accept-fairness-risk`` for the gate), makes a demo API key, and starts the service
(``jenjang serve --workers N``: uvicorn workers sharing one port). Every child gets its settings
only through environment variables (``JENJANG_DATABASE_URL``, ``JENJANG_MLFLOW_TRACKING_URI``,
...). The pids go to the pid file; the URLs, the demo key and the pids to ``<state>/stack.json``
once everything answers. Ctrl-C, SIGTERM or SIGHUP stop the children in reverse order (SIGTERM
to each process group, SIGKILL after a grace period).

The stack itself is configured by ``JENJANG_STACK_*`` variables (see :data:`DEFAULTS`);
``JENJANG_DATA_DIR``, ``JENJANG_PSEUDONYM_KEY``, ``JENJANG_ENV`` and ``JENJANG_CAREER_RULES``
pass through to every child unchanged.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import IO, Any

import pandas as pd

from recommender.store.db import display_url
from recommender.store.keys import key_id_of
from stack.config import (
    ARTIFACT_ROOT,
    DEFAULTS,
    MODELS,
    StackConfig,
    StackError,
    exe,
    mlflow_argv,
    mlflow_env,
)
from stack.health import dask_workers, has_champion, http_ok, offers_dask
from stack.postgres import drop_databases, ensure_databases
from stack.procs import (
    Child,
    Supervisor,
    group_members,
    matches,
    port_open,
    running_supervisor,
    stop_group,
)

__all__ = [  # also used by the integration test and benchmarks/bench_mlflow.py
    "ARTIFACT_ROOT",
    "DEFAULTS",
    "MODELS",
    "StackConfig",
    "StackError",
    "down",
    "drop_databases",
    "ensure_databases",
    "group_members",
    "http_ok",
    "main",
    "mlflow_argv",
    "mlflow_env",
    "offers_dask",
    "status",
    "stop_group",
    "up",
]


class Stop(Exception):  # noqa: N818 (a signal, not an error)
    """Raised in the main thread by SIGINT / SIGTERM / SIGHUP: stop everything."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


# ------------------------------------------------------------------------------------ up
def _signals(handler: Any) -> None:
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, handler)


def _raise_stop(signum: int, _frame: FrameType | None) -> None:
    raise Stop(signum)


def _preflight(cfg: StackConfig) -> None:
    other = running_supervisor(cfg.pid_file)
    if other is not None:
        raise StackError(
            f"a stack is already running (supervisor pid {other}, {cfg.pid_file}): "
            "`make stack-down` or `python -m stack.run down` first"
        )
    clean = cfg.data_dir / "clean"
    if not (clean / "employees.parquet").exists():
        raise StackError(
            f"no clean data in {clean} (JENJANG_DATA_DIR): run `make demo` "
            "or `jenjang ingest RAW --out CLEAN` first"
        )
    for var, port in (
        ("JENJANG_STACK_PORT", cfg.port),
        ("JENJANG_STACK_MLFLOW_PORT", cfg.mlflow_port),
        ("JENJANG_STACK_SCHEDULER_PORT", cfg.scheduler_port),
    ):
        if port_open(cfg.host, port):
            raise StackError(f"port {port} on {cfg.host} is taken: stop its owner or set {var}")


def _demo_key(sup: Supervisor, env: Mapping[str, str]) -> str:
    """An ``lms`` API key of the stack's database, kept in ``<state>/demo-key.json`` (600) and
    made again when that database no longer knows it."""
    path = sup.cfg.state_dir / "demo-key.json"
    with contextlib.suppress(OSError, ValueError, KeyError):
        saved = json.loads(path.read_text())
        if saved["database"] == sup.cfg.app_url:
            listed = subprocess.run(
                [exe("jenjang"), "keys", "list", "--json"],
                env=dict(env),
                capture_output=True,
                text=True,
                check=True,
            )
            live = {k["key_id"] for k in json.loads(listed.stdout)["keys"] if not k["revoked_at"]}
            if key_id_of(saved["key"]) in live:
                return str(saved["key"])
    create = [exe("jenjang"), "keys", "create", "--scope", "lms", "--label", "stack demo"]
    out = sup.step("keys create", create, env, secret=True)
    key = out.strip().splitlines()[-1].strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps({"database": sup.cfg.app_url, "key": key}))
    return key


def promote_argv(cfg: StackConfig, env: Mapping[str, str], kind: str) -> list[str]:
    """``jenjang promote <kind>`` as the stack runs it: strict by default (a refusal exits 3
    and stops the stack with the failed checks); ``JENJANG_STACK_FAIRNESS_OVERRIDE`` (empty by
    default) is the documented reason of an agency that accepts the exposure risk
    (``--accept-fairness-risk``); with ``JENJANG_STACK_MIN_PARITY`` set, that parity floor
    (``--min-parity``) and the exposure rule kept strict."""
    promote = [exe("jenjang"), "promote", kind]
    if cfg.min_parity is not None:
        return [*promote, "--min-parity", str(cfg.min_parity)]
    override = env.get("JENJANG_STACK_FAIRNESS_OVERRIDE", "")
    if override:  # an agency's documented reason, logged with the decision
        promote += ["--accept-fairness-risk", override]
    return promote


def _train_missing(sup: Supervisor, env: Mapping[str, str]) -> dict[str, Any]:
    """Train, register and promote each model without ``@champion`` in the stack's registry."""
    cfg = sup.cfg
    done: dict[str, dict[str, Any]] = {}
    for kind in MODELS:
        name = f"jenjang-{kind}"
        if has_champion(cfg.tracking_uri, name):
            sup.say(f"{name}@champion is in the registry: not training")
            done[kind] = {"trained": False, "dask": False}
            continue
        if cfg.train == "never":
            sup.say(f"{name} has no champion and JENJANG_STACK_TRAIN=never: not training")
            done[kind] = {"trained": False, "dask": False}
            continue
        argv = [exe("jenjang"), "train", kind]
        dask = offers_dask(env, kind)
        if dask:
            argv += ["--dask", cfg.scheduler_address]
        start = time.monotonic()
        sup.say(f"training {name} ({'on the Dask cluster' if dask else 'in one process'})")
        sup.step(f"train {kind}", argv, env)
        if cfg.min_parity is not None:
            sup.say(
                f"parity floor of the promotion gate: {cfg.min_parity} (JENJANG_STACK_MIN_PARITY)"
            )
        sup.step(f"promote {kind}", promote_argv(cfg, env, kind), env)
        done[kind] = {"trained": True, "dask": dask, "seconds": round(time.monotonic() - start, 1)}
        if not has_champion(cfg.tracking_uri, name):
            if kind == "programs":
                raise StackError(f"{name} was trained but not promoted: the service needs it")
            sup.say(f"warning: {name} was not promoted; positions use the standards only")
    return done


def _example_employee(cfg: StackConfig) -> str:
    emp = pd.read_parquet(
        cfg.data_dir / "clean" / "employees.parquet", columns=["employee_id", "status"]
    )
    active = emp[emp["status"] == "active"]
    return str((active if len(active) else emp)["employee_id"].iloc[0])


def _banner(cfg: StackConfig, info: dict[str, Any]) -> str:
    url, key = cfg.service_url, info["api_key"]
    who = info["example_employee"]
    lines = [
        f"Jenjang stack is up after {info['seconds_to_ready']:.0f} s:",
        f"  service         {url}  ({cfg.service_workers} workers on one port; "
        f"OpenAPI {url}/docs, HR pages {url}/, health {url}/readyz, "
        f"metrics {url}/metrics (admin key))",
        f"  MLflow          {cfg.tracking_uri}  (backend {display_url(cfg.mlflow_backend_url)}; "
        f"artifacts served from {cfg.artifacts_dir})",
        f"  Dask scheduler  {cfg.scheduler_address}  ({cfg.dask_workers} workers, no dashboard)",
        f"  app database    {display_url(cfg.app_url)}",
        f"  demo API key (scope lms): {key}",
        f"  try: curl -H 'X-API-Key: {key}' {url}/v1/employees/{who}/recommendations/programs?k=5",
        f"  env for other commands: JENJANG_DATABASE_URL={display_url(cfg.app_url)} "
        f"JENJANG_MLFLOW_TRACKING_URI={cfg.tracking_uri} "
        f"JENJANG_MLFLOW_ARTIFACT_ROOT={ARTIFACT_ROOT}",
        f"  logs {cfg.state_dir / 'logs'}/, pids {cfg.pid_file}, details {cfg.info_file}",
        f"  stop: Ctrl-C here, or `make stack-down` (kill -TERM {os.getpid()})",
    ]
    return "\n".join(lines)


def _start_scheduler(sup: Supervisor, env: Mapping[str, str]) -> Child:
    """Start the Dask scheduler (loopback, no dashboard)."""
    cfg, dask = sup.cfg, exe("dask")
    scheduler = sup.spawn(
        "dask-scheduler",
        [
            dask,
            "scheduler",
            "--host",
            cfg.host,
            "--port",
            str(cfg.scheduler_port),
            "--no-dashboard",
        ],
        env,
    )
    return scheduler


def _dask_workers(sup: Supervisor, env: Mapping[str, str], scheduler: Child) -> list[Child]:
    """Wait for the scheduler, start ``dask_workers`` workers and wait until all registered."""
    cfg, dask = sup.cfg, exe("dask")
    sup.wait_until("Dask scheduler", lambda: port_open(cfg.host, cfg.scheduler_port), [scheduler])
    workers = [
        sup.spawn(
            f"dask-worker-{i}",
            [
                dask,
                "worker",
                cfg.scheduler_address,
                "--host",
                cfg.host,
                "--nthreads",
                "1",
                "--no-dashboard",
                "--name",
                f"stack-worker-{i}",
                "--local-directory",
                str(cfg.state_dir / "dask"),
                "--death-timeout",
                "60",
            ],
            env,
        )
        for i in range(1, cfg.dask_workers + 1)
    ]
    sup.wait_until(
        f"{cfg.dask_workers} Dask workers",
        lambda: dask_workers(cfg.scheduler_address) >= cfg.dask_workers,
        [scheduler, *workers],
    )
    sup.say(f"Dask scheduler {cfg.scheduler_address}: {cfg.dask_workers} workers registered")
    return workers


def _start_service(sup: Supervisor, env: Mapping[str, str]) -> None:
    """``jenjang serve`` once a programmes champion (or its local copy) exists; waits until
    it is ready. Raises StackError when there is no model to serve."""
    cfg = sup.cfg
    local = cfg.state_dir / "models" / "jenjang-programs" / "current.json"
    if not has_champion(cfg.tracking_uri, "jenjang-programs") and not local.exists():
        raise StackError(
            f"no jenjang-programs@champion in {cfg.tracking_uri} and no local copy: "
            "the service cannot start (JENJANG_STACK_TRAIN=auto trains one)"
        )
    serve = [exe("jenjang"), "serve", "--host", cfg.host, "--port", str(cfg.port)]
    service = sup.spawn("service", [*serve, "--workers", str(cfg.service_workers)], env)
    sup.wait_until("service", lambda: http_ok(f"{cfg.service_url}/readyz"), [service])


def _write_info(sup: Supervisor, key: str, training: dict[str, Any], start: float) -> None:
    """Write ``<state>/stack.json`` (mode 600) and print the banner."""
    cfg = sup.cfg
    info = {
        "service": cfg.service_url,
        "mlflow": cfg.tracking_uri,
        "scheduler": cfg.scheduler_address,
        "app_database": cfg.app_url,
        "mlflow_database": cfg.mlflow_backend_url,
        "artifacts_dir": str(cfg.artifacts_dir),
        "api_key": key,
        "example_employee": _example_employee(cfg),
        "training": training,
        "supervisor_pid": os.getpid(),
        "pids": {c.name: c.pid for c in sup.children},
        "seconds_to_ready": round(time.monotonic() - start, 1),
    }
    cfg.info_file.touch(mode=0o600)
    cfg.info_file.write_text(json.dumps(info, indent=2))
    sup.say(_banner(cfg, info))


def _start_all(sup: Supervisor) -> None:
    """Start every component in order (see the module's documentation), then return once
    the service answers."""
    cfg = sup.cfg
    start = time.monotonic()
    cfg.state_dir.mkdir(parents=True, exist_ok=True)
    sup.write_pids()
    env = cfg.child_env()
    for name, created in ensure_databases(cfg).items():
        sup.say(f"database {name}: {'created' if created else 'exists'}")
    # the MLflow server takes longest to start: first, and the rest meanwhile
    mlflow = sup.spawn("mlflow", mlflow_argv(cfg), mlflow_env(cfg, env))
    scheduler = _start_scheduler(sup, env)
    sup.step("db upgrade", [exe("jenjang"), "db", "upgrade"], env)
    key = _demo_key(sup, env)
    _dask_workers(sup, env, scheduler)
    waited = sup.wait_until(
        "MLflow server", lambda: http_ok(f"{cfg.tracking_uri}/health"), [mlflow]
    )
    sup.say(f"MLflow server {cfg.tracking_uri}: healthy (waited {waited:.0f} s more)")
    training = _train_missing(sup, env)
    _start_service(sup, env)
    _write_info(sup, key, training, start)


def up(cfg: StackConfig, out: IO[str] | None = None) -> int:
    """Start the stack and supervise it until a signal; 0 after a clean stop, 1 on failure."""
    sup = Supervisor(cfg, out or sys.stdout)
    _signals(_raise_stop)
    rc, started = 0, False
    try:
        _preflight(cfg)
        started = True
        _start_all(sup)
        sup.watch()
    except Stop as stop:
        sup.say(f"{stop}: stopping the stack")
    except StackError as exc:
        sup.say(f"error: {exc}")
        rc = 1
    finally:
        _signals(signal.SIG_IGN)  # a second Ctrl-C must not cut the clean stop short
        sup.stop()
        if started:  # else the pid file and details may be another running stack's
            cfg.info_file.unlink(missing_ok=True)
            cfg.pid_file.unlink(missing_ok=True)
        sup.say("stack stopped" if rc == 0 else "stack stopped after an error")
    return rc


# ---------------------------------------------------------------------------- down, status
def _read_pids(pid_file: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(pid_file.read_text())
    except (OSError, ValueError):
        return None
    return data


def down(cfg: StackConfig, out: IO[str] | None = None, wait: float = 120.0) -> int:
    """Stop the stack of the pid file: SIGTERM its supervisor (which stops its children) and
    wait; then stop whatever of the recorded children is still alive. 0 when all are gone."""
    out = out or sys.stdout
    data = _read_pids(cfg.pid_file)
    if data is None:
        print(f"no stack running (no pid file {cfg.pid_file})", file=out)
        return 0
    sup = data.get("supervisor", {})
    pid = running_supervisor(cfg.pid_file)
    if pid is not None:
        print(f"stopping the stack (supervisor pid {pid})", file=out, flush=True)
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and matches(pid, sup["argv"]):
            time.sleep(0.2)
    killed = []
    for child in reversed(data.get("children", [])):
        members = group_members(int(child["pid"]))
        if members:
            print(f"  stopping {child['name']} (pid {child['pid']})", file=out, flush=True)
            if stop_group(int(child["pid"]), 15.0):
                killed.append(child["name"])
    left = [c["name"] for c in data.get("children", []) if group_members(int(c["pid"]))]
    if pid is not None and matches(pid, sup["argv"]):
        left.append("supervisor")
    if not left:
        cfg.pid_file.unlink(missing_ok=True)
        (cfg.state_dir / "stack.json").unlink(missing_ok=True)
    if killed:
        print(f"killed after the grace period: {', '.join(killed)}", file=out)
    print("stack stopped" if not left else f"still running: {', '.join(left)}", file=out)
    return 0 if not left else 1


def status(cfg: StackConfig, out: IO[str] | None = None) -> int:
    """Print the processes of the pid file and whether each is alive; 0 when all are."""
    out = out or sys.stdout
    data = _read_pids(cfg.pid_file)
    if data is None:
        print(f"no stack running (no pid file {cfg.pid_file})", file=out)
        return 1
    alive = running_supervisor(cfg.pid_file) is not None
    print(f"supervisor pid {data['supervisor']['pid']}: {'running' if alive else 'gone'}", file=out)
    ok = alive
    for child in data.get("children", []):
        members = group_members(int(child["pid"]))
        ok = ok and bool(members)
        state = f"running ({len(members)} processes)" if members else "gone"
        print(f"  {child['name']:<16} pid {child['pid']}: {state}", file=out)
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m stack.run",
        description="A production-like Jenjang stack on one machine (docs/stack.md).",
    )
    parser.add_argument("command", nargs="?", default="up", choices=("up", "down", "status"))
    args = parser.parse_args(argv)
    try:
        cfg = StackConfig.from_env()
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "down":
        return down(cfg)
    if args.command == "status":
        return status(cfg)
    return up(cfg)


if __name__ == "__main__":
    sys.exit(main())
