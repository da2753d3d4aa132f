"""Configuration of a Jenjang stack: ``JENJANG_STACK_*`` variables, the children's
environment, the MLflow server's command line (see :mod:`stack.run`)."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from recommender.store.db import normalise_url

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
        exe("mlflow"),
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


def exe(name: str) -> str:
    """The program ``name`` of this interpreter's folder; StackError when missing."""
    path = BIN / name
    if not path.exists():
        raise StackError(f"{path} not found: run `make install` first")
    return str(path)
