"""Training modalities (Peraturan LAN 10/2018: classical and non-classical learning paths)
and the normaliser of free-text training types.

Free text is matched on a key with case, punctuation and spaces removed, then by a fuzzy match
(``difflib``, cutoff 0.85) for typos. Leadership-training aliases carrying a level (``PIM IV``,
``PKN II``) take no part in the fuzzy match, so ``PKN III`` is an error rather than a guess.
"""

from __future__ import annotations

import difflib
from typing import Any, Final, NamedTuple

from recommender.data.parsing import (
    AnySeries,
    Parsed,
    compact,
    compact_table,
    normalize_with,
    quote,
)


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
    exact = compact_table({c: groups[c] + levelled.get(c, []) for c in groups})
    # PKN spellings all end in a level ("... Tingkat II"): no fuzzy guess between levels.
    fuzzy = compact_table({c: g for c, g in groups.items() if not c.startswith("pkn")})
    return exact, fuzzy


_MODALITY_EXACT, _MODALITY_FUZZY = _modality_table()
_FUZZY_CUTOFF: Final = 0.85


def _parse_modality(raw: Any) -> str:
    key = compact(str(raw))
    code = _MODALITY_EXACT.get(key)
    if code is None and key:
        close = difflib.get_close_matches(key, list(_MODALITY_FUZZY), n=1, cutoff=_FUZZY_CUTOFF)
        code = _MODALITY_FUZZY[close[0]] if close else None
    if code is None:
        raise ValueError(f"unknown training type {quote(raw)}")
    return code


def normalize_modality(s: AnySeries) -> Parsed:
    """Normalise free-text training types (``Diklat PIM IV``, ``E-Learing``...) to a code.

    Input: Series of str. Output values: object Series of str keys of :data:`MODALITIES`, None
    if missing or invalid. Never raises on bad values.
    """
    return normalize_with(s, _parse_modality)


__all__ = [
    "MODALITIES",
    "Modality",
    "normalize_modality",
]
