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
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
#: The folder of the interpreter running this file (the project's .venv/bin): jenjang, mlflow, dask.
BIN = Path(sys.executable).parent
#: Experiments of the stack keep their artifacts on the MLflow server (``mlflow-artifacts:/<exp>``).
ARTIFACT_ROOT = "mlflow-artifacts:///"
MODELS = ("programs", "careers")
DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

#: Every ``JENJANG_STACK_*`` variable and its default.
DEFAULTS: dict[str, str] = {
    "JENJANG_STACK_HOST": "127.0.0.1",
    "JENJANG_STACK_PORT": "8000",
    "JENJANG_STACK_MLFLOW_PORT": "5500",
    "JENJANG_STACK_SCHEDULER_PORT": "8786",
    "JENJANG_STACK_POSTGRES_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    "JENJANG_STACK_APP_DB": "jenjang_app",
    "JENJANG_STACK_MLFLOW_DB": "jenjang_mlflow",
    "JENJANG_STACK_SERVICE_WORKERS": "2",
    "JENJANG_STACK_DASK_WORKERS": "2",
    "JENJANG_STACK_MLFLOW_WORKERS": "2",
    "JENJANG_STACK_DIR": str(ROOT / "stack" / ".state"),
    "JENJANG_STACK_PIDFILE": str(ROOT / "stack" / ".pids"),
    "JENJANG_STACK_TRAIN": "auto",
    "JENJANG_STACK_TIMEOUT": "180",
    # empty: the promotion gate's own parity floor (0.8); a number relaxes it (tiny test data)
    "JENJANG_STACK_MIN_PARITY": "",
}


class StackError(RuntimeError):
    """The stack cannot start (bad setting, port taken, a component failed): one clear line."""


class Stop(Exception):  # noqa: N818 (a signal, not an error)
    """Raised in the main thread by SIGINT / SIGTERM / SIGHUP: stop everything."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


# ------------------------------------------------------------------------------ configuration
@dataclass(frozen=True)
class StackConfig:
    """Ports, databases, folders and sizes of one stack (see :meth:`from_env`)."""

    host: str
    port: int
    mlflow_port: int
    scheduler_port: int
    postgres_url: str
    app_db: str
    mlflow_db: str
    service_workers: int
    dask_workers: int
    mlflow_workers: int
    state_dir: Path
    pid_file: Path
    data_dir: Path
    train: str
    timeout: float
    min_parity: float | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StackConfig:
        """Read ``JENJANG_STACK_*`` (defaults in :data:`DEFAULTS`) and ``JENJANG_DATA_DIR``.
        Raises StackError naming the variable when a value is not valid."""
        env = os.environ if env is None else env

        def get(name: str) -> str:
            return env.get(name) or DEFAULTS[name]

        def number(name: str, low: int, high: int) -> int:
            try:
                value = int(get(name))
            except ValueError:
                raise StackError(f"{name}={get(name)!r} is not a whole number") from None
            if not low <= value <= high:
                raise StackError(f"{name}={value} must lie between {low} and {high}")
            return value

        for name in ("JENJANG_STACK_APP_DB", "JENJANG_STACK_MLFLOW_DB"):
            if not DB_NAME.match(get(name)):
                raise StackError(f"{name}={get(name)!r}: use lower-case letters, digits and _")
        if get("JENJANG_STACK_APP_DB") == get("JENJANG_STACK_MLFLOW_DB"):
            raise StackError("JENJANG_STACK_APP_DB and JENJANG_STACK_MLFLOW_DB must differ")
        train = get("JENJANG_STACK_TRAIN")
        if train not in ("auto", "never"):
            raise StackError(f"JENJANG_STACK_TRAIN={train!r}: use auto or never")
        try:
            timeout = float(get("JENJANG_STACK_TIMEOUT"))
        except ValueError:
            raise StackError("JENJANG_STACK_TIMEOUT must be a number of seconds") from None
        min_parity = None
        if env.get("JENJANG_STACK_MIN_PARITY"):
            try:
                min_parity = float(env["JENJANG_STACK_MIN_PARITY"])
            except ValueError:
                raise StackError("JENJANG_STACK_MIN_PARITY must be a number from 0 to 1") from None
            if not 0 <= min_parity <= 1:
                raise StackError("JENJANG_STACK_MIN_PARITY must be a number from 0 to 1")
        cfg = cls(
            host=get("JENJANG_STACK_HOST"),
            port=number("JENJANG_STACK_PORT", 1, 65535),
            mlflow_port=number("JENJANG_STACK_MLFLOW_PORT", 1, 65535),
            scheduler_port=number("JENJANG_STACK_SCHEDULER_PORT", 1, 65535),
            postgres_url=get("JENJANG_STACK_POSTGRES_URL"),
            app_db=get("JENJANG_STACK_APP_DB"),
            mlflow_db=get("JENJANG_STACK_MLFLOW_DB"),
            service_workers=number("JENJANG_STACK_SERVICE_WORKERS", 1, 64),
            dask_workers=number("JENJANG_STACK_DASK_WORKERS", 1, 64),
            mlflow_workers=number("JENJANG_STACK_MLFLOW_WORKERS", 1, 64),
            state_dir=Path(get("JENJANG_STACK_DIR")).resolve(),
            pid_file=Path(get("JENJANG_STACK_PIDFILE")).resolve(),
            data_dir=Path(env.get("JENJANG_DATA_DIR") or ROOT / "data" / "demo").resolve(),
            train=train,
            timeout=timeout,
            min_parity=min_parity,
        )
        ports = [cfg.port, cfg.mlflow_port, cfg.scheduler_port]
        if len(set(ports)) != len(ports):
            raise StackError(f"service, MLflow and scheduler ports must differ: {ports}")
        return cfg

    def _database(self, name: str, *, hide_password: bool = False) -> str:
        from recommender.store.db import normalise_url

        url = normalise_url(self.postgres_url).set(database=name)
        return url.render_as_string(hide_password=hide_password)

    @property
    def app_url(self) -> str:
        """SQLAlchemy URL of the application database (``postgresql+psycopg://``)."""
        return self._database(self.app_db)

    @property
    def mlflow_backend_url(self) -> str:
        """SQLAlchemy URL of MLflow's backend store (runs, metrics, registry)."""
        return self._database(self.mlflow_db)

    @property
    def tracking_uri(self) -> str:
        return f"http://{self.host}:{self.mlflow_port}"

    @property
    def scheduler_address(self) -> str:
        return f"tcp://{self.host}:{self.scheduler_port}"

    @property
    def service_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def artifacts_dir(self) -> Path:
        """Where the MLflow server keeps the artifacts it serves."""
        return self.state_dir / "mlartifacts"

    @property
    def info_file(self) -> Path:
        """URLs, demo key and pids, written once the stack answers (mode 600)."""
        return self.state_dir / "stack.json"

    def child_env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment of every child: ``base`` (default: this process's) plus the
        settings that point Jenjang at the stack."""
        env = dict(os.environ if base is None else base)
        env.pop("MLFLOW_TRACKING_URI", None)  # the JENJANG_ variable is the one that counts
        env.update(
            {
                "JENJANG_DATABASE_URL": self.app_url,
                "JENJANG_MLFLOW_TRACKING_URI": self.tracking_uri,
                "JENJANG_MLFLOW_ARTIFACT_ROOT": ARTIFACT_ROOT,
                "JENJANG_MODELS_DIR": str(self.state_dir / "models"),
                "JENJANG_DATA_DIR": str(self.data_dir),
                "MLFLOW_DISABLE_TELEMETRY": "true",
                "DO_NOT_TRACK": "1",
                "OMP_WAIT_POLICY": "PASSIVE",
                # MLflow's GenAI job runner starts 7 extra processes; nothing here uses it
                "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env


def mlflow_argv(cfg: StackConfig) -> list[str]:
    """``mlflow server`` serving the artifacts itself; the backend store comes from
    :func:`mlflow_env` (a URL with a password never shows in ``ps`` or the pid file)."""
    return [
        _exe("mlflow"),
        "server",
        "--serve-artifacts",
        "--artifacts-destination",
        str(cfg.artifacts_dir),
        "--host",
        cfg.host,
        "--port",
        str(cfg.mlflow_port),
        "--workers",
        str(cfg.mlflow_workers),
    ]


def mlflow_env(cfg: StackConfig, env: Mapping[str, str]) -> dict[str, str]:
    """``env`` plus the MLflow server's backend store (runs, metrics, registry: PostgreSQL)."""
    return {**env, "MLFLOW_BACKEND_STORE_URI": cfg.mlflow_backend_url}


def _exe(name: str) -> str:
    path = BIN / name
    if not path.exists():
        raise StackError(f"{path} not found: run `make install` first")
    return str(path)


# ---------------------------------------------------------------------------- postgresql
def ensure_databases(cfg: StackConfig) -> dict[str, bool]:
    """Create the application and MLflow databases when missing; name -> created now."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.pool import NullPool

    from recommender.store.db import display_url, normalise_url

    engine = create_engine(
        normalise_url(cfg.postgres_url),
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
        connect_args={"connect_timeout": 5},
    )
    created = {}
    try:
        with engine.connect() as conn:
            for name in (cfg.app_db, cfg.mlflow_db):
                found = conn.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
                ).first()
                if found is None:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
                created[name] = found is None
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise StackError(
            f"PostgreSQL at {display_url(cfg.postgres_url)} (JENJANG_STACK_POSTGRES_URL): {reason}"
        ) from exc
    finally:
        engine.dispose()
    return created


def drop_databases(postgres_url: str, names: Sequence[str]) -> None:
    """Drop ``names`` (closing their connections). For throw-away stacks (tests, benchmarks)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from recommender.store.db import normalise_url

    engine = create_engine(
        normalise_url(postgres_url), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        with engine.connect() as conn:
            for name in names:
                if not DB_NAME.match(name):
                    raise ValueError(f"not a database name: {name!r}")
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


# ------------------------------------------------------------------------------ processes
def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _cmdline(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part] or None


def _pgid_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[2])


def group_members(pgid: int) -> list[int]:
    """Live processes of process group ``pgid`` that run this interpreter's venv (the only
    programs the stack starts), so a recycled group id never reaches anyone else."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or _pgid_of(int(entry.name)) != pgid:
            continue
        cmd = _cmdline(int(entry.name))
        if cmd and cmd[0].startswith(str(BIN)):
            members.append(int(entry.name))
    return members


def _matches(pid: int, argv: Sequence[str]) -> bool:
    """True when ``pid`` still runs ``argv`` (script path, then the same arguments)."""
    cmd = _cmdline(pid)
    if not cmd:
        return False
    if cmd == list(argv):
        return True
    tail = list(argv[1:])
    return Path(argv[0]).name in " ".join(cmd) and (not tail or cmd[-len(tail) :] == tail)


def _signal_group(pgid: int, signum: int) -> None:
    for pid in group_members(pgid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join("    " + line for line in text.splitlines()[-lines:])


@dataclass
class Child:
    """One started program: its own session and process group (``pgid == pid``)."""

    name: str
    argv: list[str]
    popen: subprocess.Popen[bytes]
    log: Path
    service: bool  # runs until stopped (False: a one-shot step)

    @property
    def pid(self) -> int:
        return self.popen.pid


@dataclass
class Supervisor:
    """Starts, watches and stops the children of one stack; keeps the pid file current."""

    cfg: StackConfig
    out: IO[str] = field(default_factory=lambda: sys.stdout)
    children: list[Child] = field(default_factory=list)

    @property
    def log_dir(self) -> Path:
        return self.cfg.state_dir / "logs"

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def write_pids(self) -> None:
        me = _cmdline(os.getpid()) or sys.argv
        data = {
            "supervisor": {"pid": os.getpid(), "argv": me},
            "state_dir": str(self.cfg.state_dir),
            "children": [
                {"name": c.name, "pid": c.pid, "argv": c.argv}
                for c in self.children
                if c.popen.poll() is None
            ],
        }
        self.cfg.pid_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.cfg.pid_file.with_name(self.cfg.pid_file.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        os.replace(tmp, self.cfg.pid_file)

    def spawn(
        self,
        name: str,
        argv: list[str],
        env: Mapping[str, str],
        *,
        service: bool = True,
        pipe: bool = False,
    ) -> Child:
        """Start ``argv`` in a new session; output to ``<state>/logs/<name>.log`` (or a pipe)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{name.replace(' ', '-')}.log"
        with log.open("a") as fh:
            fh.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(argv)}\n")
            fh.flush()
            popen = subprocess.Popen(
                argv,
                env=dict(env),
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE if pipe else fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches only the supervisor, which stops all
            )
        child = Child(name, argv, popen, log, service)
        self.children.append(child)
        self.write_pids()
        return child

    def step(
        self, name: str, argv: list[str], env: Mapping[str, str], *, secret: bool = False
    ) -> str:
        """Run a one-shot command to its end, echoing and logging its output (``secret``:
        neither); returns the output. Raises StackError when it fails."""
        child = self.spawn(name, argv, env, service=False, pipe=True)
        assert child.popen.stdout is not None
        lines = []
        with child.log.open("a") as log:
            for raw in child.popen.stdout:
                line = raw.decode(errors="replace")
                lines.append(line)
                if not secret:
                    log.write(line)
                    self.out.write("    " + line)
                    self.out.flush()
        rc = child.popen.wait()
        self.children.remove(child)
        self.write_pids()
        if rc != 0:
            raise StackError(f"`{name}` failed with exit code {rc} (log: {child.log})")
        return "".join(lines)

    def check_alive(self, child: Child) -> None:
        rc = child.popen.poll()
        if rc is not None:
            raise StackError(
                f"{child.name} exited with code {rc}; last lines of {child.log}:\n"
                + _tail(child.log)
            )

    def wait_until(self, what: str, ready: Any, children: Sequence[Child]) -> float:
        """Poll ``ready()`` until it is true; fail when a child dies or on timeout. Returns
        the seconds waited."""
        start = time.monotonic()
        while True:
            for child in children:
                self.check_alive(child)
            if ready():
                return time.monotonic() - start
            if time.monotonic() - start > self.cfg.timeout:
                logs = ", ".join(str(c.log) for c in children)
                raise StackError(
                    f"{what} not ready after {self.cfg.timeout:.0f} s "
                    f"(JENJANG_STACK_TIMEOUT; logs: {logs})"
                )
            time.sleep(0.25)

    def stop(self, grace: float = 15.0) -> None:
        """Stop every child, last started first: SIGTERM to its group, SIGKILL after
        ``grace`` seconds."""
        for child in reversed(self.children):
            if child.popen.poll() is None or group_members(child.pid):
                self.say(f"  stopping {child.name} (pid {child.pid})")
            if stop_group(child.pid, grace, child.popen):
                self.say(f"  {child.name} killed after {grace:.0f} s")
        self.children.clear()

    def watch(self) -> None:
        """Run until a signal arrives (raises Stop) or a child exits (raises StackError)."""
        while True:
            for child in self.children:
                self.check_alive(child)
            time.sleep(1.0)


def stop_group(pgid: int, grace: float, popen: subprocess.Popen[bytes] | None = None) -> bool:
    """SIGTERM the process group ``pgid``; SIGKILL what is left after ``grace`` seconds.
    Returns True when it had to kill."""

    def gone() -> bool:
        if popen is not None and popen.poll() is None:
            return False
        return not group_members(pgid)

    if gone():
        return False
    _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if gone():
            return False
        time.sleep(0.1)
    _signal_group(pgid, signal.SIGKILL)
    if popen is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(5)
    return True


# ------------------------------------------------------------------------------- health
def http_ok(url: str, timeout: float = 2.0) -> bool:
    """True when ``GET url`` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return int(resp.status) == 200
    except (OSError, urllib.error.URLError):
        return False


def has_champion(tracking_uri: str, name: str) -> bool:
    """Whether ``name@champion`` exists in the MLflow server's registry (REST API)."""
    query = urllib.parse.urlencode({"name": name, "alias": "champion"})
    url = f"{tracking_uri}/api/2.0/mlflow/registered-models/alias?{query}"
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return int(resp.status) == 200
    except urllib.error.HTTPError as exc:
        body = exc.read().decode(errors="replace")
        # no such model: 404 RESOURCE_DOES_NOT_EXIST; a model without the alias: 400 "not found"
        if exc.code == 404 or (exc.code == 400 and "not found" in body):
            return False
        raise StackError(f"MLflow registry at {tracking_uri}: HTTP {exc.code} {body}") from exc
    except OSError as exc:
        raise StackError(f"MLflow registry at {tracking_uri}: {exc}") from exc


def dask_workers(address: str) -> int:
    """Number of workers registered with the scheduler at ``address`` (0 when unreachable)."""
    from distributed import Client

    try:
        with Client(address, timeout="5s") as client:  # type: ignore[no-untyped-call]
            return len(client.nthreads())
    except (OSError, TimeoutError):
        return 0


def offers_dask(env: Mapping[str, str], kind: str) -> bool:
    """Whether ``jenjang train <kind>`` has a ``--dask`` option (checked at run time)."""
    out = subprocess.run(
        [_exe("jenjang"), "train", kind, "--help"],
        env={**env, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"},
        capture_output=True,
        text=True,
        check=False,
    )
    return "--dask" in out.stdout


# ------------------------------------------------------------------------------------ up
def _signals(handler: Any) -> None:
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, handler)


def _raise_stop(signum: int, _frame: FrameType | None) -> None:
    raise Stop(signum)


def running_supervisor(pid_file: Path) -> int | None:
    """The pid of the live supervisor recorded in ``pid_file``, if any."""
    try:
        data = json.loads(pid_file.read_text())
        pid, argv = int(data["supervisor"]["pid"]), data["supervisor"]["argv"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return pid if pid != os.getpid() and _matches(pid, argv) else None


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
    from recommender.store.keys import key_id_of

    path = sup.cfg.state_dir / "demo-key.json"
    with contextlib.suppress(OSError, ValueError, KeyError):
        saved = json.loads(path.read_text())
        if saved["database"] == sup.cfg.app_url:
            listed = subprocess.run(
                [_exe("jenjang"), "keys", "list", "--json"],
                env=dict(env),
                capture_output=True,
                text=True,
                check=True,
            )
            live = {k["key_id"] for k in json.loads(listed.stdout)["keys"] if not k["revoked_at"]}
            if key_id_of(saved["key"]) in live:
                return str(saved["key"])
    create = [_exe("jenjang"), "keys", "create", "--scope", "lms", "--label", "stack demo"]
    out = sup.step("keys create", create, env, secret=True)
    key = out.strip().splitlines()[-1].strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps({"database": sup.cfg.app_url, "key": key}))
    return key


#: Reason recorded when the stack promotes a model that misses the exposure rule (the demo's
#: do, on attainable exposure by age band and grade: docs/fairness.md);
#: JENJANG_STACK_FAIRNESS_OVERRIDE="" keeps the rule strict.
DEMO_FAIRNESS_OVERRIDE = (
    "demo organisation (synthetic): exposure gaps by age band and grade are documented in "
    "docs/fairness.md"
)


def promote_argv(cfg: StackConfig, env: Mapping[str, str], kind: str) -> list[str]:
    """``jenjang promote <kind>`` as the stack runs it: with the fairness override
    (``JENJANG_STACK_FAIRNESS_OVERRIDE``, default :data:`DEMO_FAIRNESS_OVERRIDE`), or, with
    ``JENJANG_STACK_MIN_PARITY`` set, with that parity floor (``--min-parity``) and the
    exposure rule kept strict."""
    promote = [_exe("jenjang"), "promote", kind]
    if cfg.min_parity is not None:
        return [*promote, "--min-parity", str(cfg.min_parity)]
    override = env.get("JENJANG_STACK_FAIRNESS_OVERRIDE", DEMO_FAIRNESS_OVERRIDE)
    if override:  # the demo champions miss the exposure rule by age and grade
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
        argv = [_exe("jenjang"), "train", kind]
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
    import pandas as pd

    emp = pd.read_parquet(
        cfg.data_dir / "clean" / "employees.parquet", columns=["employee_id", "status"]
    )
    active = emp[emp["status"] == "active"]
    return str((active if len(active) else emp)["employee_id"].iloc[0])


def _banner(cfg: StackConfig, info: dict[str, Any]) -> str:
    from recommender.store.db import display_url

    url, key = cfg.service_url, info["api_key"]
    who = info["example_employee"]
    lines = [
        f"Jenjang stack is up after {info['seconds_to_ready']:.0f} s:",
        f"  service         {url}  ({cfg.service_workers} workers on one port; "
        f"OpenAPI {url}/docs, HR pages {url}/, health {url}/readyz, metrics {url}/metrics)",
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


def up(cfg: StackConfig, out: IO[str] | None = None) -> int:
    """Start the stack and supervise it until a signal; 0 after a clean stop, 1 on failure."""
    sup = Supervisor(cfg, out or sys.stdout)
    _signals(_raise_stop)
    rc, started = 0, False
    try:
        _preflight(cfg)
        started = True
        start = time.monotonic()
        cfg.state_dir.mkdir(parents=True, exist_ok=True)
        sup.write_pids()
        env = cfg.child_env()
        for name, created in ensure_databases(cfg).items():
            sup.say(f"database {name}: {'created' if created else 'exists'}")
        # the MLflow server takes longest to start: first, and the rest meanwhile
        mlflow = sup.spawn("mlflow", mlflow_argv(cfg), mlflow_env(cfg, env))
        dask = _exe("dask")
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
        sup.step("db upgrade", [_exe("jenjang"), "db", "upgrade"], env)
        key = _demo_key(sup, env)
        sup.wait_until(
            "Dask scheduler", lambda: port_open(cfg.host, cfg.scheduler_port), [scheduler]
        )
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
        waited = sup.wait_until(
            "MLflow server", lambda: http_ok(f"{cfg.tracking_uri}/health"), [mlflow]
        )
        sup.say(f"MLflow server {cfg.tracking_uri}: healthy (waited {waited:.0f} s more)")
        training = _train_missing(sup, env)
        local = cfg.state_dir / "models" / "jenjang-programs" / "current.json"
        if not has_champion(cfg.tracking_uri, "jenjang-programs") and not local.exists():
            raise StackError(
                f"no jenjang-programs@champion in {cfg.tracking_uri} and no local copy: "
                "the service cannot start (JENJANG_STACK_TRAIN=auto trains one)"
            )
        service = sup.spawn(
            "service",
            [
                _exe("jenjang"),
                "serve",
                "--host",
                cfg.host,
                "--port",
                str(cfg.port),
                "--workers",
                str(cfg.service_workers),
            ],
            env,
        )
        sup.wait_until("service", lambda: http_ok(f"{cfg.service_url}/readyz"), [service])
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
        while time.monotonic() < deadline and _matches(pid, sup["argv"]):
            time.sleep(0.2)
    killed = []
    for child in reversed(data.get("children", [])):
        members = group_members(int(child["pid"]))
        if members:
            print(f"  stopping {child['name']} (pid {child['pid']})", file=out, flush=True)
            if stop_group(int(child["pid"]), 15.0):
                killed.append(child["name"])
    left = [c["name"] for c in data.get("children", []) if group_members(int(c["pid"]))]
    if pid is not None and _matches(pid, sup["argv"]):
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
