"""Dates of HR exports: ISO, day-first numeric, Indonesian/English month names, typed dates.

When the year is last the day comes first (``05/06/2023`` is 5 June); a time part is dropped
(dates are normalised to midnight, time zones dropped keeping the local wall time); years outside
1900-2100 are errors; bare numbers (e.g. Excel serials) are errors.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from recommender.data.parsing import (
    AnySeries,
    ObjArray,
    Parsed,
    factorize,
    is_blank,
    quote,
    series_like,
)

_MIN_YEAR: Final = 1900
_MAX_YEAR: Final = 2100
_MONTH_NAMES: Final[dict[int, tuple[str, ...]]] = {
    1: ("januari", "jan", "january"),
    2: ("februari", "feb", "peb", "pebruari", "february"),
    3: ("maret", "mar", "march"),
    4: ("april", "apr"),
    5: ("mei", "may"),
    6: ("juni", "jun", "june"),
    7: ("juli", "jul", "july"),
    8: ("agustus", "agu", "ags", "agt", "agst", "aug", "august"),
    9: ("september", "sep", "sept"),
    10: ("oktober", "okt", "oct", "october"),
    11: ("november", "nov", "nop", "nopember"),
    12: ("desember", "des", "dec", "december"),
}
_MONTHS: Final = {name: month for month, names in _MONTH_NAMES.items() for name in names}
_TIME = r"(?:(?:t|\s+)\d{1,2}[:.]\d{2}(?:[:.]\d{2}(?:\.\d+)?)?\s*(?:z|[+-]\d{2}:?\d{2})?)?"
_YMD = re.compile(rf"(?P<y>\d{{4}})[-/.](?P<m>\d{{1,2}})[-/.](?P<d>\d{{1,2}}){_TIME}")
_DMY = re.compile(rf"(?P<d>\d{{1,2}})[-/.](?P<m>\d{{1,2}})[-/.](?P<y>\d{{4}}){_TIME}")
_D_MON_Y = re.compile(r"(?P<d>\d{1,2})[\s\-/.]*(?P<m>[a-z]+)\.?[\s\-/.,]*(?P<y>\d{4})")
_MON_D_Y = re.compile(r"(?P<m>[a-z]+)\.?\s*(?P<d>\d{1,2})(?:st|nd|rd|th)?\s*,?\s*(?P<y>\d{4})")
_DATE_PATTERNS: Final = (_YMD, _DMY, _D_MON_Y, _MON_D_Y)
_ISO_PREFIX = r"\s*\d{4}-\d{2}-\d{2}"


def _month(token: str) -> int | None:
    return int(token) if token.isdigit() else _MONTHS.get(token)


def _date_from_text(text: str) -> dt.date:
    """Parse one date string in any accepted layout; ValueError quoting it otherwise."""
    lowered = " ".join(text.lower().split())
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(lowered)
        month = _month(match["m"]) if match else None
        if match and month is not None:
            try:
                return dt.date(int(match["y"]), month, int(match["d"]))
            except ValueError:
                break
    raise ValueError(f"cannot parse date {quote(text)}")


def _parse_date(raw: Any) -> np.datetime64:
    """One value (str, date, datetime, Timestamp, datetime64) -> datetime64[ns] at midnight."""
    if isinstance(raw, str):
        day = _date_from_text(raw)
    elif isinstance(raw, dt.date | np.datetime64):
        day = pd.Timestamp(raw).date()
    else:
        raise ValueError(f"cannot parse date {quote(raw)}")
    if not _MIN_YEAR <= day.year <= _MAX_YEAR:
        raise ValueError(f"date {quote(raw)} is outside {_MIN_YEAR}-{_MAX_YEAR}")
    return np.datetime64(day, "ns")


def _to_naive_midnight(values: AnySeries) -> AnySeries:
    """Drop the time zone (keeping wall time) and the time of day of a datetime Series."""
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_localize(None)
    return values.dt.normalize()


def _iso_fast_path(uniques: list[Any]) -> npt.NDArray[np.datetime64]:
    """Vectorised ISO-8601 parse of the string values; NaT where not ISO or out of range."""
    texts = pd.Series([u if isinstance(u, str) else None for u in uniques], dtype=object)
    iso = texts.where(texts.str.match(_ISO_PREFIX, na=False))
    try:
        stamps = _to_naive_midnight(pd.to_datetime(iso, format="ISO8601", errors="coerce"))
    except (ValueError, TypeError):  # e.g. mixed UTC offsets: leave it to the slow path
        return np.full(len(uniques), np.datetime64("NaT"), dtype="datetime64[ns]")
    stamps = stamps.where(stamps.dt.year.between(_MIN_YEAR, _MAX_YEAR))
    return stamps.to_numpy(dtype="datetime64[ns]")


def _parse_date_uniques(uniques: list[Any]) -> tuple[npt.NDArray[np.datetime64], ObjArray]:
    """Dates and errors per distinct value, with a trailing NaT/None slot for missing rows."""
    dates = np.append(_iso_fast_path(uniques), np.datetime64("NaT", "ns"))
    errors: ObjArray = np.full(len(dates), None, dtype=object)
    for i in np.flatnonzero(np.isnat(dates[:-1])):
        if not is_blank(uniques[i]):
            try:
                dates[i] = _parse_date(uniques[i])
            except ValueError as exc:
                errors[i] = str(exc)
    return dates, errors


def _normalize_typed_dates(s: AnySeries) -> Parsed:
    """Dates already of a datetime64 dtype: drop tz and time, check the year range."""
    values = _to_naive_midnight(s)
    bad = (~values.dt.year.between(_MIN_YEAR, _MAX_YEAR) & values.notna()).to_numpy(dtype=bool)
    errors: ObjArray = np.full(len(s), None, dtype=object)
    errors[bad] = [
        f"date {quote(d)} is outside {_MIN_YEAR}-{_MAX_YEAR}"
        for d in values[bad].dt.strftime("%Y-%m-%d")
    ]
    values = values.where(~bad).astype("datetime64[ns]")
    return Parsed(series_like(values.to_numpy(), s, values.dtype), series_like(errors, s))


def normalize_date(s: AnySeries) -> Parsed:
    """Normalise dates (ISO, day-first numeric, Indonesian/English month names) to midnight.

    Input: Series of str, date/datetime objects or a datetime64 dtype. Output values:
    datetime64[ns] Series at midnight, NaT if missing or invalid. Never raises on bad values.
    """
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return _normalize_typed_dates(s)
    codes, uniques = factorize(s)
    dates, errors = _parse_date_uniques(uniques)
    return Parsed(series_like(dates[codes], s, "datetime64[ns]"), series_like(errors[codes], s))


__all__ = [
    "normalize_date",
]
