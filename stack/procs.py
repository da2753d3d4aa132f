"""Processes of a stack: start, watch and stop children in their own process groups."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from stack.config import BIN, ROOT, StackConfig, StackError


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


def matches(pid: int, argv: Sequence[str]) -> bool:
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


def running_supervisor(pid_file: Path) -> int | None:
    """The pid of the live supervisor recorded in ``pid_file``, if any."""
    try:
        data = json.loads(pid_file.read_text())
        pid, argv = int(data["supervisor"]["pid"]), data["supervisor"]["argv"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return pid if pid != os.getpid() and matches(pid, argv) else None
