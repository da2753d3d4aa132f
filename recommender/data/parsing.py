"""The shared machinery of the column normalisers (:mod:`recommender.data.normalize`): the
:class:`Parsed` result, :func:`is_missing`, and helpers that parse each distinct value of a
Series once (``pd.factorize``) and map the result back with NumPy indexing.

A parser (``Callable[[Any], T]``) returns the canonical value or raises ValueError whose message
becomes the row's error; :func:`normalize_with` turns it into a Series normaliser.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

AnySeries: TypeAlias = "pd.Series[Any]"
ObjArray: TypeAlias = npt.NDArray[np.object_]


@dataclass(frozen=True)
class Parsed:
    """Result of normalising one column.

    ``values`` has the input's index; it holds None/NaN/NaT where the input is missing or
    invalid. ``errors`` (dtype object, same index) is None where fine, else a short message.
    """

    values: AnySeries
    errors: AnySeries


_MAX_QUOTED = 60


def is_blank(value: object) -> bool:
    """True for a string that is empty or whitespace only."""
    return isinstance(value, str) and not value.strip()


def is_number(value: object) -> bool:
    """True for a real number that is not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def as_text(value: object) -> str:
    """Text of a value; integral floats lose their '.0' (``3.0`` -> ``'3'``)."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def quote(value: object) -> str:
    """Quote a (non-personal) value for an error message, shortened if long."""
    text = as_text(value)
    if len(text) > _MAX_QUOTED:
        text = text[: _MAX_QUOTED - 3] + "..."
    return f"'{text}'"


def compact(text: str) -> str:
    """Lower-case ``text`` and drop everything but letters and digits."""
    return re.sub(r"[^0-9a-z]+", "", text.lower())


def factorize(s: AnySeries) -> tuple[npt.NDArray[np.intp], list[Any]]:
    """Codes (-1 for NA) and distinct non-NA values of ``s``."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.intp), list(uniques)


def is_missing(s: AnySeries) -> AnySeries:
    """Bool Series (same index): True for None/NaN/NaT/NA and empty or whitespace-only strings."""
    api = pd.api.types
    if api.is_numeric_dtype(s.dtype) or api.is_datetime64_any_dtype(s.dtype):
        return s.isna().astype(bool)
    codes, uniques = factorize(s)
    blank = np.array([is_blank(u) for u in uniques] + [True], dtype=bool)
    return pd.Series(blank[codes], index=s.index, name=s.name)


def map_unique(s: AnySeries, parse: Callable[[Any], Any]) -> tuple[ObjArray, ObjArray]:
    """Apply ``parse`` once per distinct non-missing value of ``s``.

    ``parse`` returns the canonical value or raises ValueError whose message becomes the error.
    Returns (values, errors) object arrays aligned with ``s``, None where missing or invalid.
    """
    codes, uniques = factorize(s)
    values: ObjArray = np.full(len(uniques) + 1, None, dtype=object)
    errors: ObjArray = np.full(len(uniques) + 1, None, dtype=object)
    for i, raw in enumerate(uniques):
        if is_blank(raw):
            continue
        try:
            values[i] = parse(raw)
        except ValueError as exc:
            errors[i] = str(exc)
    return values[codes], errors[codes]


def series_like(data: npt.NDArray[Any], s: AnySeries, dtype: Any = object) -> AnySeries:
    """Wrap an array aligned with ``s`` into a Series with the index and name of ``s``."""
    out: AnySeries = pd.Series(data, index=s.index, name=s.name, dtype=dtype)
    return out


def normalize_with(s: AnySeries, parse: Callable[[Any], Any]) -> Parsed:
    """Run ``map_unique`` and wrap the arrays into a :class:`Parsed` (object dtype values)."""
    values, errors = map_unique(s, parse)
    return Parsed(series_like(values, s), series_like(errors, s))


def lookup(table: Mapping[str, str], what: str) -> Callable[[Any], str]:
    """Parser looking the compacted text of a value up in ``table`` (keys already compacted)."""

    def parse(raw: Any) -> str:
        found = table.get(compact(as_text(raw)))
        if found is None:
            raise ValueError(f"unknown {what} {quote(raw)}")
        return found

    return parse


def compact_table(groups: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """``{canonical: spellings}`` -> ``{compacted spelling: canonical}`` (canonical included)."""
    table: dict[str, str] = {}
    for canonical, spellings in groups.items():
        for spelling in (canonical, *spellings):
            key = compact(spelling)
            if table.setdefault(key, canonical) != canonical:
                raise ValueError(f"alias {spelling!r} maps to two values")
    return table


__all__ = [
    "AnySeries",
    "ObjArray",
    "Parsed",
    "as_text",
    "compact",
    "compact_table",
    "factorize",
    "is_blank",
    "is_missing",
    "is_number",
    "lookup",
    "map_unique",
    "normalize_with",
    "quote",
    "series_like",
]
