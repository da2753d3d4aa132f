"""Read-only values derived once from a long-lived object (a snapshot, a catalogue)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class Memoised:
    """Mixin for dataclasses with a ``cache: dict`` field (``init=False``, so
    ``dataclasses.replace`` starts a new, empty cache): :meth:`memo` builds a value once per
    key; :meth:`memo_for` once per key and companion object (rebuilt if the companion changes,
    compared by identity). Values depend only on fields that are never reassigned."""

    cache: dict[Any, Any]

    def memo(self, key: Any, build: Callable[[], T]) -> T:
        """``build()`` once per ``key``; later calls return the same (read-only) value."""
        if key not in self.cache:
            self.cache[key] = build()
        value: T = self.cache[key]
        return value

    def memo_for(self, key: Any, companion: object, build: Callable[[], T]) -> T:
        """Like :meth:`memo`, for values that also depend on ``companion``."""
        hit = self.cache.get(key)
        if hit is None or hit[0] is not companion:
            hit = (companion, build())
            self.cache[key] = hit
        value: T = hit[1]
        return value
