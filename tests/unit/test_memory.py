"""``recommender.api.memory.limit_arenas``: glibc's arenas capped for the worker's threads."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from recommender.api.memory import limit_arenas

SCRIPT = """
import ctypes, ctypes.util, sys, threading
from recommender.api.memory import limit_arenas
if sys.argv[1] == "1":
    assert limit_arenas(1)
kept = []
def work():
    kept.append([bytearray(64_000) for _ in range(50)])
threads = [threading.Thread(target=work) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
ctypes.CDLL(ctypes.util.find_library("c")).malloc_stats()
"""


def _arenas(limited: bool) -> int:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, "1" if limited else "0"],
        capture_output=True,
        text=True,
        check=True,
    )
    return sum(1 for line in out.stderr.splitlines() if line.startswith("Arena "))


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only"
)
def test_threads_share_one_arena_when_limited() -> None:
    assert _arenas(limited=False) > 1  # the default: the threads got arenas of their own
    assert _arenas(limited=True) == 1


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="arenas"):
        limit_arenas(0)
