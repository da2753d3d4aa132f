"""Served answers, serialised (:class:`Answer`), and the bounded cache that keeps them
(:class:`AnswerCache`)."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any, NamedTuple


class Answer(NamedTuple):
    """A served answer, serialised: ``body`` the JSON object of the answer, ``log_items`` the
    JSON list of ``{"item_id", "score", "reasons"}`` for the audit trail, model and version.

    The cache keeps it as a plain tuple of bytes and str, which the garbage collector stops
    tracking: a large cache then costs full collections nothing (a tracked cache made every
    endpoint slower as it grew)."""

    body: bytes
    log_items: bytes
    model_name: str
    model_version: str

    @classmethod
    def of(cls, answer: dict[str, Any], item_key: str) -> Answer:
        """Serialise ``answer`` (``model``, ``items`` with ``item_key``, scores, codes)."""
        model = answer.get("model") or {}
        items = [
            {
                "item_id": str(i[item_key]),
                "score": i.get("score"),
                "reasons": i.get("reason_codes", []),
            }
            for i in answer.get("items", [])
        ]
        return cls(
            json.dumps(answer, ensure_ascii=False, default=str).encode(),
            json.dumps(items).encode(),
            str(model.get("name")),
            str(model.get("version")),
        )


class AnswerCache:
    """A bounded LRU of answers keyed by (employee_id, ...); ``forget(employee_id)`` drops a
    person's answers, ``clear()`` all of them. Thread-safe."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._data: OrderedDict[tuple[Hashable, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Hashable, ...]) -> Any | None:
        """The cached answer or None."""
        with self._lock:
            if key not in self._data:
                return None
            self._data.move_to_end(key)
            return self._data[key]

    def put(self, key: tuple[Hashable, ...], value: Any) -> None:
        """Store an answer, evicting the least recently used beyond ``size``."""
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def forget(self, employee_id: str) -> None:
        """Drop every answer about ``employee_id``."""
        with self._lock:
            for key in [k for k in self._data if k[0] == employee_id]:
                del self._data[key]

    def clear(self) -> None:
        """Drop everything."""
        with self._lock:
            self._data.clear()
