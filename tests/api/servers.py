"""Real ``jenjang serve`` processes on loopback for the fault and security tests: start one on
a free port with only ``JENJANG_*`` variables of the test, wait until it answers, stop it with a
signal, read what it printed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import TEST_KEY

JENJANG = Path(sys.executable).with_name("jenjang")


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tiny_env(
    data_dir: Path, root: Path, *, mlflow_uri: str, database_url: str, **extra: str
) -> dict[str, str]:
    """``JENJANG_*`` settings of a service on the tiny organisation, everything else under
    ``root``; ``extra`` adds or overrides (``ENV="production"`` -> ``JENJANG_ENV``)."""
    env = {
        "JENJANG_ENV": "development",
        "JENJANG_PSEUDONYM_KEY": TEST_KEY,
        "JENJANG_DATA_DIR": str(data_dir),
        "JENJANG_MODELS_DIR": str(root / "models"),
        "JENJANG_MLFLOW_TRACKING_URI": mlflow_uri,
        "JENJANG_MLFLOW_ARTIFACT_ROOT": str(root / "mlartifacts"),
        "JENJANG_DATABASE_URL": database_url,
    }
    env.update({f"JENJANG_{k}": v for k, v in extra.items()})
    return env


@dataclass
class Served:
    """A running ``jenjang serve``: its process, port and output file."""

    proc: subprocess.Popen[bytes]
    port: int
    output_file: Path
    started_in: float = 0.0

    @property
    def base(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        """Everything the process printed so far (stdout and stderr)."""
        return self.output_file.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Send ``sig`` and wait for the exit code (killed after ``timeout`` seconds)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise


def start(
    env: dict[str, str], output_file: Path, *args: str, wait: bool = True, timeout: float = 90.0
) -> Served:
    """``jenjang serve --port <free> *args`` with ``env`` over a copy of this process's
    environment without its own ``JENJANG_*`` variables; with ``wait``, returns once
    ``/healthz`` answers (start-up done), raising with the output if the process ends first."""
    port = free_port()
    full = {k: v for k, v in os.environ.items() if not k.startswith("JENJANG_")}
    full.update(env)
    began = time.monotonic()
    with output_file.open("wb") as out:
        proc = subprocess.Popen(
            [str(JENJANG), "serve", "--port", str(port), *args],
            env=full,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    served = Served(proc, port, output_file)
    if wait:
        wait_until(lambda: _answers(served), timeout, lambda: served.output()[-3000:])
        served.started_in = time.monotonic() - began
    return served


def _answers(served: Served) -> bool:
    if served.proc.poll() is not None:
        raise RuntimeError(
            f"jenjang serve exited with {served.proc.returncode}:\n{served.output()}"
        )
    try:
        return httpx.get(served.base + "/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def wait_until(
    condition: Callable[[], bool], timeout: float, why: Callable[[], str] = lambda: ""
) -> None:
    """Poll ``condition`` every 0.1 s until it is true; AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s\n{why()}")
        time.sleep(0.1)
