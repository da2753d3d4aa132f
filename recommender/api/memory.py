"""Memory of a service worker: keep glibc's allocator to a bounded number of arenas.

glibc gives each thread that allocates its own malloc arena (up to 8 per core). The service
computes answers on a few threads (:func:`recommender.api.app.create_app`, ``compute_threads``)
whose arenas keep freed memory mapped: in a 5-minute soak at 100 req/s a worker grew 714 ->
864 MiB (+21 %) with the default, +14 % with 2 arenas, +0.3 % with one (docs/reliability.md).
CPU-bound Python runs one thread at a time under the GIL, so one shared arena costs no speed.

glibc fixes its arena limit when the process first needs a second arena, so the limit holds
only when set before any thread allocates: ``jenjang serve`` sets ``MALLOC_ARENA_MAX`` and
starts itself again (:func:`reexec_with_arena_limit`) before anything else runs; the
``mallopt`` call of :func:`limit_arenas` (at app creation) is the fallback for other ASGI
servers and takes effect only where no thread has made an arena yet.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import platform
import sys

log = logging.getLogger(__name__)

#: ``M_ARENA_MAX`` of glibc's ``mallopt``.
M_ARENA_MAX = -8


def limit_arenas(arenas: int) -> bool:
    """Cap glibc's malloc arenas at ``arenas`` for threads that allocate from now on (set it
    before the worker threads start). Returns True when applied, False where the C library is
    not glibc (nothing is changed there). Raises ValueError for ``arenas`` < 1."""
    if arenas < 1:
        raise ValueError("arenas must be >= 1")
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    applied = bool(mallopt(M_ARENA_MAX, arenas))
    if not applied:
        log.warning("mallopt(M_ARENA_MAX, %d) was refused by the C library", arenas)
    return applied


#: The environment variable glibc reads at start-up.
ARENA_ENV = "MALLOC_ARENA_MAX"


def reexec_with_arena_limit(arenas: int) -> None:
    """Replace this process by the same command with ``MALLOC_ARENA_MAX=arenas`` in its
    environment, unless it is already set, ``arenas`` is 0, or the C library is not glibc
    (then it returns and nothing changes). Call it before any thread starts; it does not
    return when it re-executes. Raises OSError when the interpreter cannot be executed."""
    if arenas <= 0 or os.environ.get(ARENA_ENV) or platform.libc_ver()[0] != "glibc":
        return
    env = {**os.environ, ARENA_ENV: str(arenas)}
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)
