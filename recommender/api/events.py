"""Compatibility: the LMS event parser moved to :mod:`recommender.events` (runtime library, no
HTTP); this module only re-exports it for old import paths."""

from recommender.events import (
    MAX_BATCH,
    BatchResult,
    BatchTooLargeError,
    Event,
    ItemError,
    identity_functions,
    parse_batch,
)

__all__ = [
    "MAX_BATCH",
    "BatchResult",
    "BatchTooLargeError",
    "Event",
    "ItemError",
    "identity_functions",
    "parse_batch",
]
