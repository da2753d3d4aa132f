"""Civil-service reference facts used across the package (see ``shared/docs/domain.md``).

Everything here is a constant of the domain, not of the data: tiers and their ordering, the
managerial level each tier requires, priority themes and JP rules. Values tagged [R] or [A] in the
domain reference are marked the same way in comments; keep them configurable where they matter.
"""

from __future__ import annotations

from typing import Final

FAMILIES: Final = ("jpt", "administrator", "pengawas", "fungsional", "pelaksana")
CATEGORIES: Final = ("manajerial", "nonmanajerial")

#: Position tiers, with an ordinal level on one ladder so moves can be called up, across or down.
#: The equalisation of 2020 (administrator -> ahli madya, pengawas -> ahli muda) fixes the anchors.
TIER_LEVEL: Final[dict[str, int]] = {
    "pelaksana": 1,
    "pemula": 1,
    "terampil": 2,
    "ahli_pertama": 2,
    "mahir": 2,
    "pengawas": 3,
    "penyelia": 3,
    "ahli_muda": 3,
    "administrator": 4,
    "ahli_madya": 4,
    "jpt_pratama": 5,
    "ahli_utama": 5,
    "jpt_madya": 6,
    "jpt_utama": 7,
}
TIERS: Final = tuple(TIER_LEVEL)

#: Required managerial / socio-cultural level by tier (PermenPANRB 38/2017; JF profile [R]).
MANAGERIAL_LEVEL_BY_TIER: Final[dict[str, int]] = {
    "jpt_utama": 5,
    "jpt_madya": 5,
    "jpt_pratama": 4,
    "administrator": 3,
    "pengawas": 2,
    "pelaksana": 1,
    "ahli_utama": 4,
    "ahli_madya": 3,
    "ahli_muda": 2,
    "ahli_pertama": 1,
    "penyelia": 2,
    "mahir": 2,
    "terampil": 1,
    "pemula": 1,
}

COMPETENCY_TYPES: Final = ("manajerial", "sosial_kultural", "teknis")
MAX_LEVEL: Final = 5

#: Organisational priority themes programmes and competencies are tagged with (domain.md 7.2 [A]).
PRIORITY_THEMES: Final = (
    "VOKASI",
    "PENEMPATAN",
    "HI",
    "PENGAWASAN_K3",
    "JAMSOS",
    "PMI",
    "PRODUKTIVITAS",
    "DIGITAL",
    "RB",
    "INKLUSI",
    "PERENCANAAN",
)

UNIT_LEVELS: Final = ("kementerian", "eselon_i", "eselon_ii", "upt", "dinas_provinsi")
ASN_STATUSES: Final = ("PNS", "CPNS", "PPPK")
EMPLOYEE_STATUSES: Final = ("active", "retired", "resigned")
ENROLLMENT_STATUSES: Final = ("registered", "completed", "failed", "withdrawn", "no_show")
ENROLLMENT_SOURCES: Final = ("self", "assigned", "recommended")
ASSESSMENT_METHODS: Final = ("assessment_center", "cat", "uji_kompetensi", "360", "atasan")
MOVE_TYPES: Final = (
    "vertical",
    "horizontal",
    "diagonal",
    "jf_first_appointment",
    "jf_tier",
    "equalisation",
)
ACCREDITATION_GRADES: Final = ("A", "B", "C")

#: Self-paced modalities (completion depends on the learner's own drive and affinity).
SELF_PACED: Final = ("e_learning", "belajar_mandiri", "pjj")

#: Minimum development per PNS per year (PP 11/2017 as amended by PP 17/2020, Art. 203) [S].
MIN_JP_PER_YEAR: Final = 20

#: BPS province codes on the island of Java (DKI, Jabar, Jateng, DIY, Jatim, Banten).
JAVA_PROVINCE_CODES: Final = frozenset({"31", "32", "33", "34", "35", "36"})


def is_java(province_code: str) -> bool:
    """Return True when a BPS province code (two digits, e.g. ``"31"``) lies on Java."""
    return province_code in JAVA_PROVINCE_CODES


#: Decimals of every served score (programmes and positions, service and batch alike).
SCORE_DIGITS: Final = 6
