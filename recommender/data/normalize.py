"""Normalise messy columns of ASN (Indonesian civil servant) HR exports, one column at a time.

Every ``normalize_*`` function takes one :class:`pandas.Series` holding strings, numbers (e.g. an
int column read from Parquet) or already-typed values, and returns a :class:`Parsed` pair of
Series with the input's index and name:

* ``values``: the canonical value, missing (``None`` / ``NaT``) where the input is missing or
  invalid;
* ``errors``: dtype object, ``None`` where fine, else a short English message.

They never raise on bad values. The work is done once per distinct value (``pd.factorize``) and
mapped back with NumPy indexing, so a column of millions of rows with few distinct values is
cheap. Missing input (``None``, NaN, NaT, ``pd.NA``, empty or whitespace-only strings; see
:func:`is_missing`) gives a missing value and no error: nullability is checked elsewhere.

Sources
-------
* NIP layout (Perka BKN 22/2007, the 18-digit NIP): ``YYYYMMDD`` birth date, ``YYYYMM`` month of
  appointment as CPNS, one sex digit (1 male, 2 female), ``NNN`` sequence number. Unlike the NIK
  (ID card), 40 is *not* added to the birth day of women.
* Grades (golongan/ruang) and rank titles (pangkat): PP 99/2000, I/a-I/d, II/a-II/d, III/a-III/d,
  IV/a-IV/e.
* Performance rating (predikat kinerja): PermenPANRB 6/2022 matrix, Sangat Baik, Baik, Butuh
  Perbaikan, Kurang/Misconduct, Sangat Kurang.
* Legacy rating scale (PP 46/2011, in force before 2022): Sangat Baik >= 91, Baik 76-90,
  Cukup 61-75, Kurang 51-60, Buruk <= 50.
* Training modalities: Peraturan LAN 10/2018 (classical and non-classical learning paths).

Assumptions
-----------
* NIP: the birth date must lie between 1940-01-01 and today; the appointment month must be 1-12,
  not in the future, and in a year at least 18 after the birth year. Error messages never contain
  the NIP or any part of it (it is personal data). A float NIP is rejected: 18 digits do not fit
  in a float, so its last digits are already lost.
* Grades: the roman number may be written in arabic digits (``3d``); "Tk.", "Tk", "Tkt" and
  "Tingkat" are the same word; a rank title alone gives its grade; a title and a grade that
  disagree are an error.
* Ratings, legacy labels mapped to the 2022 scale: ``Amat Baik`` (older DP3 wording) -> Sangat
  Baik, ``Cukup`` -> Butuh Perbaikan, ``Kurang`` -> Kurang, ``Buruk`` -> Sangat Kurang;
  ``Misconduct`` and ``Kurang/Misconduct`` -> Kurang.
* Legacy numeric scores 0-100 (number or text, comma or dot decimals) use the PP 46/2011 bands
  with the gaps closed: >= 91 Sangat Baik, >= 76 Baik, >= 61 Butuh Perbaikan, >= 51 Kurang,
  otherwise Sangat Kurang; scores outside 0-100 are errors.
* Dates: when the year is last the day comes first (``05/06/2023`` is 5 June); a time part is
  dropped (dates are normalised to midnight, time zones dropped keeping the local wall time);
  years outside 1900-2100 are errors; bare numbers (e.g. Excel serials) are errors.
* Modalities: free text is matched on a key with case, punctuation and spaces removed, then by a
  fuzzy match (``difflib``, cutoff 0.85) for typos. Leadership-training aliases carrying a level
  (``PIM IV``, ``PKN II``) take no part in the fuzzy match, so ``PKN III`` is an error rather
  than a guess.
"""

from __future__ import annotations

import datetime as dt
import difflib
import numbers
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, NamedTuple, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

AnySeries: TypeAlias = "pd.Series[Any]"
ObjArray: TypeAlias = npt.NDArray[np.object_]

__all__ = [
    "EDUCATION_LEVELS",
    "GRADES",
    "MODALITIES",
    "RANK_TITLES",
    "RATINGS",
    "Modality",
    "NipParts",
    "Parsed",
    "grade_rank",
    "is_missing",
    "nip_parts",
    "normalize_bool",
    "normalize_date",
    "normalize_education",
    "normalize_grade",
    "normalize_modality",
    "normalize_nip",
    "normalize_rating",
    "normalize_sex",
    "parse_nip",
]


@dataclass(frozen=True)
class Parsed:
    """Result of normalising one column.

    ``values`` has the input's index; it holds None/NaN/NaT where the input is missing or
    invalid. ``errors`` (dtype object, same index) is None where fine, else a short message.
    """

    values: AnySeries
    errors: AnySeries


# --------------------------------------------------------------------------------------------
# Shared machinery
# --------------------------------------------------------------------------------------------

_MAX_QUOTED = 60


def _is_blank(value: object) -> bool:
    """True for a string that is empty or whitespace only."""
    return isinstance(value, str) and not value.strip()


def _is_number(value: object) -> bool:
    """True for a real number that is not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _as_text(value: object) -> str:
    """Text of a value; integral floats lose their '.0' (``3.0`` -> ``'3'``)."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _quote(value: object) -> str:
    """Quote a (non-personal) value for an error message, shortened if long."""
    text = _as_text(value)
    if len(text) > _MAX_QUOTED:
        text = text[: _MAX_QUOTED - 3] + "..."
    return f"'{text}'"


def _compact(text: str) -> str:
    """Lower-case ``text`` and drop everything but letters and digits."""
    return re.sub(r"[^0-9a-z]+", "", text.lower())


def _factorize(s: AnySeries) -> tuple[npt.NDArray[np.intp], list[Any]]:
    """Codes (-1 for NA) and distinct non-NA values of ``s``."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.intp), list(uniques)


def is_missing(s: AnySeries) -> AnySeries:
    """Bool Series (same index): True for None/NaN/NaT/NA and empty or whitespace-only strings."""
    api = pd.api.types
    if api.is_numeric_dtype(s.dtype) or api.is_datetime64_any_dtype(s.dtype):
        return s.isna().astype(bool)
    codes, uniques = _factorize(s)
    blank = np.array([_is_blank(u) for u in uniques] + [True], dtype=bool)
    return pd.Series(blank[codes], index=s.index, name=s.name)


def _map_unique(s: AnySeries, parse: Callable[[Any], Any]) -> tuple[ObjArray, ObjArray]:
    """Apply ``parse`` once per distinct non-missing value of ``s``.

    ``parse`` returns the canonical value or raises ValueError whose message becomes the error.
    Returns (values, errors) object arrays aligned with ``s``, None where missing or invalid.
    """
    codes, uniques = _factorize(s)
    values: ObjArray = np.full(len(uniques) + 1, None, dtype=object)
    errors: ObjArray = np.full(len(uniques) + 1, None, dtype=object)
    for i, raw in enumerate(uniques):
        if _is_blank(raw):
            continue
        try:
            values[i] = parse(raw)
        except ValueError as exc:
            errors[i] = str(exc)
    return values[codes], errors[codes]


def _series(data: npt.NDArray[Any], s: AnySeries, dtype: Any = object) -> AnySeries:
    """Wrap an array aligned with ``s`` into a Series with the index and name of ``s``."""
    out: AnySeries = pd.Series(data, index=s.index, name=s.name, dtype=dtype)
    return out


def _normalize_with(s: AnySeries, parse: Callable[[Any], Any]) -> Parsed:
    """Run ``_map_unique`` and wrap the arrays into a :class:`Parsed` (object dtype values)."""
    values, errors = _map_unique(s, parse)
    return Parsed(_series(values, s), _series(errors, s))


def _lookup(table: Mapping[str, str], what: str) -> Callable[[Any], str]:
    """Parser looking the compacted text of a value up in ``table`` (keys already compacted)."""

    def parse(raw: Any) -> str:
        found = table.get(_compact(_as_text(raw)))
        if found is None:
            raise ValueError(f"unknown {what} {_quote(raw)}")
        return found

    return parse


def _compact_table(groups: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """``{canonical: spellings}`` -> ``{compacted spelling: canonical}`` (canonical included)."""
    table: dict[str, str] = {}
    for canonical, spellings in groups.items():
        for spelling in (canonical, *spellings):
            key = _compact(spelling)
            if table.setdefault(key, canonical) != canonical:
                raise ValueError(f"alias {spelling!r} maps to two values")
    return table


# --------------------------------------------------------------------------------------------
# NIP
# --------------------------------------------------------------------------------------------

_NIP_LENGTH: Final = 18
_NIP_MIN_BIRTH: Final = dt.date(1940, 1, 1)
_NIP_SEPARATORS = re.compile(r"[\s.\-]+")


class NipParts(NamedTuple):
    """Fields encoded in an 18-digit NIP."""

    birth_date: dt.date
    appointed: dt.date  # first day of the month of appointment as CPNS
    sex: str  # 'L' male, 'P' female
    sequence: int


def _today() -> dt.date:
    return dt.date.today()


def _nip_digits(nip: str) -> str:
    """Strip separators (spaces, dots, dashes, a leading apostrophe); check 18 digits."""
    digits = _NIP_SEPARATORS.sub("", nip.strip().lstrip("'"))
    if not digits.isascii() or not digits.isdigit():
        raise ValueError("NIP must contain only digits, spaces, dots or dashes")
    if len(digits) != _NIP_LENGTH:
        raise ValueError(f"NIP must have {_NIP_LENGTH} digits, found {len(digits)}")
    return digits


def _nip_birth(digits: str) -> dt.date:
    try:
        birth = dt.date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise ValueError("NIP birth date is not a valid date") from None
    if not _NIP_MIN_BIRTH <= birth <= _today():
        raise ValueError("NIP birth date is not between 1940 and today")
    return birth


def _nip_appointed(digits: str, birth: dt.date) -> dt.date:
    year, month = int(digits[8:12]), int(digits[12:14])
    if not 1 <= month <= 12:
        raise ValueError("NIP appointment month is not valid")
    if year < birth.year + 18:
        raise ValueError("NIP appointment is less than 18 years after birth")
    appointed = dt.date(year, month, 1)
    if appointed > _today():
        raise ValueError("NIP appointment month is in the future")
    return appointed


def nip_parts(nip: str) -> NipParts:
    """Decode an NIP (18 digits, spaces/dots/dashes allowed) into its :class:`NipParts`.

    Raises ValueError when the NIP is invalid; the message never contains the NIP or any part
    of it.
    """
    digits = _nip_digits(nip)
    birth = _nip_birth(digits)
    appointed = _nip_appointed(digits, birth)
    sex = {"1": "L", "2": "P"}.get(digits[14])
    if sex is None:
        raise ValueError("NIP sex digit must be 1 or 2")
    return NipParts(birth, appointed, sex, int(digits[15:]))


def _parse_nip(raw: Any) -> str:
    if isinstance(raw, bool | np.bool_):
        raise ValueError("NIP must be text or an integer, not a boolean")
    if isinstance(raw, numbers.Integral):
        raw = str(int(raw))
    elif _is_number(raw):
        raise ValueError("NIP must be text or an integer, not a float (its digits may be lost)")
    digits = _nip_digits(str(raw))
    nip_parts(digits)
    return digits


def parse_nip(raw: str | int) -> str:
    """One NIP (text with optional spaces/dots/dashes, or an integer) -> its 18 digits.

    Raises ValueError (the message never contains the NIP) when it is not a valid NIP.
    """
    return _parse_nip(raw)


def normalize_nip(s: AnySeries) -> Parsed:
    """Normalise NIPs (text with optional spaces/dots/dashes, or integers) to 18-digit strings.

    Input: Series of str/int. Output values: object Series of 18-digit str, None if missing or
    invalid. Error messages never contain the NIP. Never raises on bad values.
    """
    return _normalize_with(s, _parse_nip)


# --------------------------------------------------------------------------------------------
# Grade (golongan/ruang)
# --------------------------------------------------------------------------------------------

_ROMANS: Final = ("I", "II", "III", "IV")
_GRADE_TITLES: Final[dict[str, tuple[str, ...]]] = {
    "I": ("Juru Muda", "Juru Muda Tingkat I", "Juru", "Juru Tingkat I"),
    "II": ("Pengatur Muda", "Pengatur Muda Tingkat I", "Pengatur", "Pengatur Tingkat I"),
    "III": ("Penata Muda", "Penata Muda Tingkat I", "Penata", "Penata Tingkat I"),
    "IV": (
        "Pembina",
        "Pembina Tingkat I",
        "Pembina Utama Muda",
        "Pembina Utama Madya",
        "Pembina Utama",
    ),
}
RANK_TITLES: Final[dict[str, str]] = {
    f"{roman}/{'abcde'[i]}": title
    for roman, titles in _GRADE_TITLES.items()
    for i, title in enumerate(titles)
}
GRADES: Final[tuple[str, ...]] = tuple(RANK_TITLES)
_GRADE_INDEX: Final = {grade: i for i, grade in enumerate(GRADES)}

_TINGKAT = re.compile(r"(?<![a-z])(?:tingkat|tkt|tk)(?![a-z])\.?\s*")
_TINGKAT_ONE = re.compile(r"tingkat 1(?![0-9])")
_GOLONGAN = re.compile(r"(?<![a-z])(?:golongan|gol|ruang)(?![a-z])\.?")
_GRADE_CODE = re.compile(r"(iv|iii|ii|i|[0-9])\s*[/\-.\s]?\s*([a-z])")
_GRADE_PUNCT = " /,()[]-.:;"


def _title_pattern(title: str) -> re.Pattern[str]:
    words = r"\s+".join(re.escape(w) for w in title.lower().split())
    return re.compile(rf"(?<![a-z]){words}(?![a-z])")


_TITLE_PATTERNS: Final = sorted(
    ((_title_pattern(t), g) for g, t in RANK_TITLES.items()),
    key=lambda pair: -len(pair[0].pattern),
)


def grade_rank(grade: str) -> int:
    """0-based position of a canonical grade (``'III/d'``) in :data:`GRADES`.

    Raises ValueError for anything that is not a canonical grade.
    """
    try:
        return _GRADE_INDEX[grade]
    except (KeyError, TypeError):
        raise ValueError(f"unknown grade {_quote(grade)}") from None


def _grade_text(raw: str) -> str:
    """Lower-case, unify 'Tk.'/'Tkt'/'Tingkat' and drop 'Gol.'/'Golongan'/'Ruang'."""
    text = " ".join(raw.lower().split())
    text = _TINGKAT_ONE.sub("tingkat i", _TINGKAT.sub("tingkat ", text))
    return " ".join(_GOLONGAN.sub(" ", text).split())


def _split_title(text: str) -> tuple[str | None, str]:
    """Find a rank title in ``text``; return (its grade or None, the rest of the text)."""
    for pattern, grade in _TITLE_PATTERNS:
        match = pattern.search(text)
        if match:
            return grade, text[: match.start()] + " " + text[match.end() :]
    return None, text


def _grade_code(code: str) -> str | None:
    """Canonical grade for a bare code such as 'iii/d', '3d', 'iiid'; None if not one."""
    match = _GRADE_CODE.fullmatch(code)
    if match is None:
        return None
    roman, letter = match.groups()
    if roman.isdigit():
        roman = _ROMANS[int(roman) - 1] if 1 <= int(roman) <= 4 else "?"
    grade = f"{roman.upper()}/{letter}"
    return grade if grade in _GRADE_INDEX else None


def _parse_grade(raw: Any) -> str:
    title_grade, rest = _split_title(_grade_text(str(raw)))
    rest = rest.strip(_GRADE_PUNCT)
    if not rest and title_grade is not None:
        return title_grade
    code_grade = _grade_code(rest)
    if code_grade is None:
        raise ValueError(f"unknown grade {_quote(raw)}")
    if title_grade is not None and title_grade != code_grade:
        raise ValueError(f"rank title and grade disagree in {_quote(raw)}")
    return code_grade


def normalize_grade(s: AnySeries) -> Parsed:
    """Normalise golongan/ruang (``III-d``, ``3d``, ``Penata Tk. I (III/d)``...) to ``'III/d'``.

    Input: Series of str. Output values: object Series of str in :data:`GRADES`, None if missing
    or invalid. Never raises on bad values.
    """
    return _normalize_with(s, _parse_grade)


# --------------------------------------------------------------------------------------------
# Rating (predikat kinerja)
# --------------------------------------------------------------------------------------------

RATINGS: Final[tuple[str, ...]] = (
    "Sangat Baik",
    "Baik",
    "Butuh Perbaikan",
    "Kurang",
    "Sangat Kurang",
)
_RATING_LABELS: Final[dict[str, str]] = {
    **{r.lower(): r for r in RATINGS},
    "kurang/misconduct": "Kurang",
    "misconduct": "Kurang",
    "amat baik": "Sangat Baik",
    "cukup": "Butuh Perbaikan",
    "buruk": "Sangat Kurang",
}
#: Lower bounds of the legacy PP 46/2011 score bands, best first.
_SCORE_BANDS: Final = (
    (91.0, "Sangat Baik"),
    (76.0, "Baik"),
    (61.0, "Butuh Perbaikan"),
    (51.0, "Kurang"),
    (0.0, "Sangat Kurang"),
)
_SCORE_TEXT = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def _rating_from_score(score: float, raw: Any) -> str:
    if not 0.0 <= score <= 100.0:
        raise ValueError(f"rating score {_quote(raw)} is outside 0-100")
    return next(label for bound, label in _SCORE_BANDS if score >= bound)


def _parse_rating(raw: Any) -> str:
    if _is_number(raw):
        return _rating_from_score(float(raw), raw)
    text = re.sub(r"\s*/\s*", "/", " ".join(str(raw).lower().split()))
    if _SCORE_TEXT.fullmatch(text):
        return _rating_from_score(float(text.replace(",", ".")), raw)
    label = _RATING_LABELS.get(text)
    if label is None:
        raise ValueError(f"unknown rating {_quote(raw)}")
    return label


def normalize_rating(s: AnySeries) -> Parsed:
    """Normalise performance ratings (2022 labels, legacy labels, 0-100 scores) to RATINGS.

    Input: Series of str or numbers. Output values: object Series of str in :data:`RATINGS`,
    None if missing or invalid. Never raises on bad values.
    """
    return _normalize_with(s, _parse_rating)


# --------------------------------------------------------------------------------------------
# Date
# --------------------------------------------------------------------------------------------

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
    raise ValueError(f"cannot parse date {_quote(text)}")


def _parse_date(raw: Any) -> np.datetime64:
    """One value (str, date, datetime, Timestamp, datetime64) -> datetime64[ns] at midnight."""
    if isinstance(raw, str):
        day = _date_from_text(raw)
    elif isinstance(raw, dt.date | np.datetime64):
        day = pd.Timestamp(raw).date()
    else:
        raise ValueError(f"cannot parse date {_quote(raw)}")
    if not _MIN_YEAR <= day.year <= _MAX_YEAR:
        raise ValueError(f"date {_quote(raw)} is outside {_MIN_YEAR}-{_MAX_YEAR}")
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
        if not _is_blank(uniques[i]):
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
        f"date {_quote(d)} is outside {_MIN_YEAR}-{_MAX_YEAR}"
        for d in values[bad].dt.strftime("%Y-%m-%d")
    ]
    values = values.where(~bad).astype("datetime64[ns]")
    return Parsed(_series(values.to_numpy(), s, values.dtype), _series(errors, s))


def normalize_date(s: AnySeries) -> Parsed:
    """Normalise dates (ISO, day-first numeric, Indonesian/English month names) to midnight.

    Input: Series of str, date/datetime objects or a datetime64 dtype. Output values:
    datetime64[ns] Series at midnight, NaT if missing or invalid. Never raises on bad values.
    """
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return _normalize_typed_dates(s)
    codes, uniques = _factorize(s)
    dates, errors = _parse_date_uniques(uniques)
    return Parsed(_series(dates[codes], s, "datetime64[ns]"), _series(errors[codes], s))


# --------------------------------------------------------------------------------------------
# Training modality
# --------------------------------------------------------------------------------------------


class Modality(NamedTuple):
    """A training modality (Peraturan LAN 10/2018): labels and classical/non-classical path."""

    label_id: str
    label_en: str
    classical: bool


MODALITIES: Final[dict[str, Modality]] = {
    "latsar": Modality("Pelatihan Dasar CPNS", "Basic training for CPNS", True),
    "pkp": Modality("Pelatihan Kepemimpinan Pengawas", "Supervisor leadership training", True),
    "pka": Modality(
        "Pelatihan Kepemimpinan Administrator", "Administrator leadership training", True
    ),
    "pkn_ii": Modality(
        "Pelatihan Kepemimpinan Nasional Tingkat II", "National leadership training II", True
    ),
    "pkn_i": Modality(
        "Pelatihan Kepemimpinan Nasional Tingkat I", "National leadership training I", True
    ),
    "fungsional_dasar": Modality("Pelatihan Dasar Fungsional", "Basic functional training", True),
    "fungsional_penjenjangan": Modality(
        "Pelatihan Penjenjangan Fungsional", "Functional level training", True
    ),
    "teknis": Modality("Pelatihan Teknis", "Technical training", True),
    "manajerial": Modality("Pelatihan Manajerial", "Managerial training", True),
    "sosial_kultural": Modality("Pelatihan Sosial Kultural", "Socio-cultural training", True),
    "seminar": Modality("Seminar/Konferensi/Sarasehan", "Seminar/conference", True),
    "workshop": Modality("Workshop/Lokakarya", "Workshop", True),
    "bimtek": Modality("Bimbingan Teknis", "Technical guidance", True),
    "kursus": Modality("Kursus/Penataran", "Course", True),
    "sosialisasi": Modality("Sosialisasi", "Socialisation", True),
    "e_learning": Modality("E-Learning", "E-learning", False),
    "pjj": Modality("Pelatihan Jarak Jauh", "Distance learning", False),
    "coaching": Modality("Coaching", "Coaching", False),
    "mentoring": Modality("Mentoring", "Mentoring", False),
    "detasering": Modality("Detasering", "Secondment", False),
    "magang": Modality("Magang/Praktik Kerja", "Internship", False),
    "patok_banding": Modality("Patok Banding", "Benchmarking", False),
    "pertukaran": Modality(
        "Pertukaran PNS dengan Pegawai Swasta/BUMN",
        "Exchange with private-sector/state-enterprise employees",
        False,
    ),
    "belajar_mandiri": Modality("Belajar Mandiri", "Self-study", False),
    "komunitas_belajar": Modality("Komunitas Belajar", "Community of practice", False),
    "bimbingan_kerja": Modality("Bimbingan di Tempat Kerja", "On-the-job training", False),
    "outbound": Modality("Pembelajaran Alam Terbuka", "Outdoor learning", False),
}

_MODALITY_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "latsar": ("Latsar CPNS", "Diklat Prajabatan", "Prajabatan", "Prajab", "Diklat Prajab"),
    "detasering": ("Datasering", "Detaseering"),
    "e_learning": ("elearning", "E Learning", "online course", "MOOC", "online learning"),
    "seminar": ("Webinar", "Seminar", "Konferensi", "Conference", "Sarasehan"),
    "workshop": ("Lokakarya", "Workshop"),
    "patok_banding": ("Benchmarking", "Studi Banding", "Patok Banding"),
    "magang": ("Magang", "Internship", "Praktik Kerja", "Praktek Kerja"),
    "bimbingan_kerja": ("OJT", "On the job training", "On-the-job"),
    "komunitas_belajar": ("CoP", "Community of Practice"),
    "belajar_mandiri": ("Self-study", "Self-learning"),
    "teknis": ("Diklat Teknis",),
    "manajerial": ("Diklat Manajerial",),
    "sosial_kultural": ("Diklat Sosial Kultural",),
    "fungsional_dasar": ("Diklat Fungsional", "Diklat Dasar Fungsional"),
    "fungsional_penjenjangan": ("Penjenjangan", "Diklat Penjenjangan", "Penjenjangan Fungsional"),
    "kursus": ("Kursus", "Penataran"),
    "outbound": ("Outbound", "Outbond", "Alam Terbuka"),
    "pjj": ("distance learning",),
    "bimtek": ("Bimbingan Teknis",),
    "pertukaran": ("Pertukaran Pegawai", "Pertukaran PNS"),
}

#: Leadership training named by level: ``Diklat PIM IV``, ``PIM 4``, ``PKN Tk. II``...
_LEADERSHIP_PREFIXES: Final = ("diklat pim", "diklatpim", "pim", "diklat kepemimpinan")
_LEADERSHIP_LEVELS: Final = (
    ("iv", "4", "pkp"),
    ("iii", "3", "pka"),
    ("ii", "2", "pkn_ii"),
    ("i", "1", "pkn_i"),
)
_PKN_PREFIXES: Final = ("pkn", "pelatihan kepemimpinan nasional", "diklat kepemimpinan nasional")


def _leadership_aliases() -> dict[str, list[str]]:
    """Spellings with a level, with and without 'Tingkat'/'Tk', roman and arabic numerals."""
    aliases: dict[str, list[str]] = {}
    for roman, arabic, code in _LEADERSHIP_LEVELS:
        prefixes = _LEADERSHIP_PREFIXES + (_PKN_PREFIXES if code.startswith("pkn") else ())
        aliases[code] = [
            f"{prefix} {infix} {level}"
            for prefix in prefixes
            for infix in ("", "tingkat", "tk", "tkt")
            for level in (roman, arabic)
        ]
    return aliases


def _modality_table() -> tuple[dict[str, str], dict[str, str]]:
    """(exact table, fuzzy table): compacted spelling -> code; the fuzzy one has no levels."""
    groups: dict[str, list[str]] = {
        code: [m.label_id, m.label_en, *m.label_id.split("/")[:1], *_MODALITY_ALIASES.get(code, ())]
        for code, m in MODALITIES.items()
    }
    levelled = _leadership_aliases()
    exact = _compact_table({c: groups[c] + levelled.get(c, []) for c in groups})
    # PKN spellings all end in a level ("... Tingkat II"): no fuzzy guess between levels.
    fuzzy = _compact_table({c: g for c, g in groups.items() if not c.startswith("pkn")})
    return exact, fuzzy


_MODALITY_EXACT, _MODALITY_FUZZY = _modality_table()
_FUZZY_CUTOFF: Final = 0.85


def _parse_modality(raw: Any) -> str:
    key = _compact(str(raw))
    code = _MODALITY_EXACT.get(key)
    if code is None and key:
        close = difflib.get_close_matches(key, list(_MODALITY_FUZZY), n=1, cutoff=_FUZZY_CUTOFF)
        code = _MODALITY_FUZZY[close[0]] if close else None
    if code is None:
        raise ValueError(f"unknown training type {_quote(raw)}")
    return code


def normalize_modality(s: AnySeries) -> Parsed:
    """Normalise free-text training types (``Diklat PIM IV``, ``E-Learing``...) to a code.

    Input: Series of str. Output values: object Series of str keys of :data:`MODALITIES`, None
    if missing or invalid. Never raises on bad values.
    """
    return _normalize_with(s, _parse_modality)


# --------------------------------------------------------------------------------------------
# Sex, education, booleans
# --------------------------------------------------------------------------------------------

_SEX: Final = _compact_table(
    {
        "L": ("Laki-laki", "Laki laki", "Laki", "Lk", "Pria", "M", "Male", "1"),
        "P": ("Perempuan", "Pr", "Wanita", "F", "Female", "2"),
    }
)

EDUCATION_LEVELS: Final[tuple[str, ...]] = (
    "SD",
    "SMP",
    "SMA",
    "D1",
    "D2",
    "D3",
    "D4",
    "S1",
    "S2",
    "S3",
)
_EDUCATION: Final = _compact_table(
    {
        "SD": ("Sekolah Dasar", "MI"),
        "SMP": ("SLTP", "MTs"),
        "SMA": ("SMK", "SMU", "SLTA", "MA"),
        "D1": ("D-I", "Diploma I", "Diploma 1"),
        "D2": ("D-II", "Diploma II", "Diploma 2"),
        "D3": ("D-III", "D 3", "Diploma III", "Diploma 3"),
        "D4": ("D-IV", "Diploma IV", "Diploma 4", "Sarjana Terapan"),
        "S1": ("Sarjana", "Strata 1", "Strata I", "S-1"),
        "S2": ("Magister", "Master", "Strata 2", "Strata II", "S-2"),
        "S3": ("Doktor", "Doktoral", "Doctor", "Strata 3", "Strata III", "S-3"),
    }
)

_BOOL: Final = _compact_table(
    {
        "true": ("ya", "y", "yes", "t", "1", "benar"),
        "false": ("tidak", "n", "no", "f", "0", "salah"),
    }
)


def _parse_bool(raw: Any) -> bool:
    if isinstance(raw, bool | np.bool_):
        return bool(raw)
    if _is_number(raw) and raw in (0, 1):
        return bool(raw)
    found = _BOOL.get(_compact(str(raw))) if isinstance(raw, str) else None
    if found is None:
        raise ValueError(f"cannot parse boolean {_quote(raw)}")
    return found == "true"


def normalize_sex(s: AnySeries) -> Parsed:
    """Normalise sex (``Laki-laki``, ``Wanita``, ``M``, ``2``...) to ``'L'`` or ``'P'``.

    Input: Series of str or int. Output values: object Series, None if missing or invalid.
    Never raises on bad values.
    """
    return _normalize_with(s, _lookup(_SEX, "sex"))


def normalize_education(s: AnySeries) -> Parsed:
    """Normalise education levels (``SLTA``, ``D-III``, ``Strata 1``...) to EDUCATION_LEVELS.

    Input: Series of str. Output values: object Series of str, None if missing or invalid.
    Never raises on bad values.
    """
    return _normalize_with(s, _lookup(_EDUCATION, "education level"))


def normalize_bool(s: AnySeries) -> Parsed:
    """Normalise booleans (ya/tidak, y/n, true/false, 1/0, benar/salah, bools) to True/False.

    Input: Series of str, numbers or bool (also nullable ``boolean``). Output values: object
    Series of bool, None if missing or invalid. Never raises on bad values.
    """
    return _normalize_with(s, _parse_bool)
