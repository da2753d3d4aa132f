"""Memory of a service worker: keep glibc's allocator to a bounded number of arenas.

glibc gives each thread that allocates its own malloc arena (up to 8 per core). The service
computes answers on a few threads (:func:`recommender.api.app.create_app`, ``compute_threads``)
whose arenas keep freed memory mapped: in a 5-minute soak at 100 req/s a worker grew 714 ->
864 MiB (+21 %) with the default, +14 % with 2 arenas, +0.3 % with one (docs/reliability.md).
CPU-bound Python runs one thread at a time under the GIL, so one shared arena costs no speed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

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
