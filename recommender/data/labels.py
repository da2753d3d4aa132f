"""Fixed vocabularies of HR exports: performance ratings, sex, education levels, booleans.

Ratings (predikat kinerja, PermenPANRB 6/2022): Sangat Baik, Baik, Butuh Perbaikan,
Kurang/Misconduct, Sangat Kurang. Legacy labels map to the 2022 scale: ``Amat Baik`` (older DP3
wording) -> Sangat Baik, ``Cukup`` -> Butuh Perbaikan, ``Kurang`` -> Kurang, ``Buruk`` -> Sangat
Kurang; ``Misconduct`` and ``Kurang/Misconduct`` -> Kurang. Legacy numeric scores 0-100 (number
or text, comma or dot decimals) use the PP 46/2011 bands (Sangat Baik >= 91, Baik 76-90, Cukup
61-75, Kurang 51-60, Buruk <= 50) with the gaps closed: >= 91 Sangat Baik, >= 76 Baik, >= 61
Butuh Perbaikan, >= 51 Kurang, otherwise Sangat Kurang; scores outside 0-100 are errors.
"""

from __future__ import annotations

import re
from typing import Any, Final

import numpy as np

from recommender.data.parsing import (
    AnySeries,
    Parsed,
    compact,
    compact_table,
    is_number,
    lookup,
    normalize_with,
    quote,
)

# --- performance rating (predikat kinerja) ----------------------------------------------------

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
        raise ValueError(f"rating score {quote(raw)} is outside 0-100")
    return next(label for bound, label in _SCORE_BANDS if score >= bound)


def _parse_rating(raw: Any) -> str:
    if is_number(raw):
        return _rating_from_score(float(raw), raw)
    text = re.sub(r"\s*/\s*", "/", " ".join(str(raw).lower().split()))
    if _SCORE_TEXT.fullmatch(text):
        return _rating_from_score(float(text.replace(",", ".")), raw)
    label = _RATING_LABELS.get(text)
    if label is None:
        raise ValueError(f"unknown rating {quote(raw)}")
    return label


def normalize_rating(s: AnySeries) -> Parsed:
    """Normalise performance ratings (2022 labels, legacy labels, 0-100 scores) to RATINGS.

    Input: Series of str or numbers. Output values: object Series of str in :data:`RATINGS`,
    None if missing or invalid. Never raises on bad values.
    """
    return normalize_with(s, _parse_rating)


# --- sex, education, booleans ---------------------------------------------------------------

_SEX: Final = compact_table(
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
_EDUCATION: Final = compact_table(
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

_BOOL: Final = compact_table(
    {
        "true": ("ya", "y", "yes", "t", "1", "benar"),
        "false": ("tidak", "n", "no", "f", "0", "salah"),
    }
)


def _parse_bool(raw: Any) -> bool:
    if isinstance(raw, bool | np.bool_):
        return bool(raw)
    if is_number(raw) and raw in (0, 1):
        return bool(raw)
    found = _BOOL.get(compact(str(raw))) if isinstance(raw, str) else None
    if found is None:
        raise ValueError(f"cannot parse boolean {quote(raw)}")
    return found == "true"


def normalize_sex(s: AnySeries) -> Parsed:
    """Normalise sex (``Laki-laki``, ``Wanita``, ``M``, ``2``...) to ``'L'`` or ``'P'``.

    Input: Series of str or int. Output values: object Series, None if missing or invalid.
    Never raises on bad values.
    """
    return normalize_with(s, lookup(_SEX, "sex"))


def normalize_education(s: AnySeries) -> Parsed:
    """Normalise education levels (``SLTA``, ``D-III``, ``Strata 1``...) to EDUCATION_LEVELS.

    Input: Series of str. Output values: object Series of str, None if missing or invalid.
    Never raises on bad values.
    """
    return normalize_with(s, lookup(_EDUCATION, "education level"))


def normalize_bool(s: AnySeries) -> Parsed:
    """Normalise booleans (ya/tidak, y/n, true/false, 1/0, benar/salah, bools) to True/False.

    Input: Series of str, numbers or bool (also nullable ``boolean``). Output values: object
    Series of bool, None if missing or invalid. Never raises on bad values.
    """
    return normalize_with(s, _parse_bool)


__all__ = [
    "EDUCATION_LEVELS",
    "RATINGS",
    "normalize_bool",
    "normalize_education",
    "normalize_rating",
    "normalize_sex",
]
