"""Measure a command's wall time and the peak resident memory of its whole process tree."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class RunStats:
    """Wall time in seconds and the peak summed RSS of the tree in bytes."""

    seconds: float
    peak_rss: int
    returncode: int


def children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def tree_rss(pid: int) -> int:
    """Summed RSS in bytes of ``pid`` and all its descendants (0 for vanished processes)."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
        stack += children(p)
    return total


def run(cmd: list[str], interval: float = 0.2, env: dict[str, str] | None = None) -> RunStats:
    """Run ``cmd`` to completion, sampling the tree's memory every ``interval`` seconds."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(interval)
    return RunStats(time.perf_counter() - start, peak, proc.returncode)
