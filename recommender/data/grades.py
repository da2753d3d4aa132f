"""Grades (golongan/ruang) and rank titles (pangkat) of PP 99/2000: I/a-I/d, II/a-II/d,
III/a-III/d, IV/a-IV/e.

The roman number may be written in arabic digits (``3d``); "Tk.", "Tk", "Tkt" and "Tingkat"
are the same word; a rank title alone gives its grade; a title and a grade that disagree are an
error.
"""

from __future__ import annotations

import re
from typing import Any, Final

from recommender.data.parsing import AnySeries, Parsed, normalize_with, quote

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
        raise ValueError(f"unknown grade {quote(grade)}") from None


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
        raise ValueError(f"unknown grade {quote(raw)}")
    if title_grade is not None and title_grade != code_grade:
        raise ValueError(f"rank title and grade disagree in {quote(raw)}")
    return code_grade


def normalize_grade(s: AnySeries) -> Parsed:
    """Normalise golongan/ruang (``III-d``, ``3d``, ``Penata Tk. I (III/d)``...) to ``'III/d'``.

    Input: Series of str. Output values: object Series of str in :data:`GRADES`, None if missing
    or invalid. Never raises on bad values.
    """
    return normalize_with(s, _parse_grade)


__all__ = [
    "GRADES",
    "RANK_TITLES",
    "grade_rank",
    "normalize_grade",
]
