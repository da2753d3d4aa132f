"""The data contract: every table Jenjang reads, described once.

Each :class:`Table` lists its columns (name, kind, nullability, allowed values, range, reference
to another table), its key, and cross-field rules. Validation (:mod:`recommender.data.validate`),
ingest and the synthetic generator all read these specs; nothing else defines a column.

Raw tables identify people by ``nip`` (18-digit civil-service number) as real exports do; clean
tables carry ``employee_id``, a keyed pseudonym of the NIP (see :mod:`recommender.pseudonym`).
Interactions-only data may use any learner id in ``employee_id``; it is pseudonymised the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

import pandas as pd

from recommender import domain
from recommender.data.normalize import MODALITIES


class Kind(StrEnum):
    """How a raw value is parsed and normalised."""

    STR = "str"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    DATE = "date"
    NIP = "nip"
    PERSON = "person"  # any learner id, pseudonymised like a NIP (interactions-only data)
    GRADE = "grade"
    RATING = "rating"
    MODALITY = "modality"
    SEX = "sex"
    EDUCATION = "education"
    LIST = "list"  # ';'-separated ids


@dataclass(frozen=True)
class Column:
    """One column of a table.

    ``references`` is ``"table.column"``; for a LIST column each element must exist there.
    ``clean_name`` is the name in clean tables when it differs (``nip`` -> ``employee_id``).
    """

    name: str
    kind: Kind = Kind.STR
    required: bool = True
    nullable: bool = False
    allowed: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    references: str | None = None
    clean_name: str | None = None
    description: str = ""

    @property
    def out_name(self) -> str:
        """Name of the column in clean tables."""
        return self.clean_name or self.name


#: A cross-field rule: a name, a message and a function returning a bool mask of bad rows.
RowRule = tuple[str, str, Callable[[pd.DataFrame], "pd.Series[bool]"]]


@dataclass(frozen=True)
class Table:
    """A table of the contract: columns, key (unique together) and cross-field rules."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    rules: tuple[RowRule, ...] = field(default=())

    def column(self, name: str) -> Column:
        """Return the column called ``name``; raises KeyError if the table has none."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"table '{self.name}' has no column '{name}'")

    @property
    def names(self) -> list[str]:
        """Raw column names, in contract order."""
        return [c.name for c in self.columns]


def _before(a: str, b: str) -> Callable[[pd.DataFrame], pd.Series]:
    """Rule: ``b`` must not be earlier than ``a`` (rows where either is missing pass)."""
    return lambda df: (df[b] < df[a]).fillna(False).astype(bool)


def _nip_birth_date_differs(df: pd.DataFrame) -> pd.Series:
    """Rule: the first 8 digits of the NIP are the birth date (YYYYMMDD)."""
    both = df["nip"].notna() & df["birth_date"].notna()
    encoded = df["nip"].where(both).str[:8]
    bad: pd.Series = both & (encoded != df["birth_date"].dt.strftime("%Y%m%d"))
    return bad.astype(bool)


def _nip_sex_differs(df: pd.DataFrame) -> pd.Series:
    """Rule: the 15th digit of the NIP is the sex (1 = L, 2 = P)."""
    both = df["nip"].notna() & df["sex"].notna()
    encoded = df["nip"].where(both).str[14].map({"1": "L", "2": "P"})
    return (both & (encoded != df["sex"])).astype(bool)


LEVEL = {"kind": Kind.INT, "min": 1, "max": domain.MAX_LEVEL}
EMP = Column("nip", Kind.NIP, references="employees.nip", clean_name="employee_id")

UNITS = Table(
    "units",
    "Organisational units: the ministry, echelon I and II units, technical units (UPT) and "
    "provincial manpower offices.",
    (
        Column("unit_id"),
        Column("name"),
        Column("parent_id", nullable=True, references="units.unit_id"),
        Column("level", allowed=domain.UNIT_LEVELS),
        Column("province_code", description="BPS province code, two digits"),
        Column("province"),
    ),
    key=("unit_id",),
)

COMPETENCIES = Table(
    "competencies",
    "Competency dictionary: 8 managerial, Perekat Bangsa and technical competencies, levels 1-5.",
    (
        Column("competency_id"),
        Column("name"),
        Column("name_en", required=False, nullable=True),
        Column("type", allowed=domain.COMPETENCY_TYPES),
        Column("cluster", required=False, nullable=True),
    ),
    key=("competency_id",),
)

POSITIONS = Table(
    "positions",
    "Position catalogue (jabatan). Managerial positions belong to one unit; functional and "
    "pelaksana positions are shared by units (unit_id empty).",
    (
        Column("position_id"),
        Column("title"),
        Column("family", allowed=domain.FAMILIES),
        Column("category", allowed=domain.CATEGORIES),
        Column("tier", allowed=domain.TIERS),
        Column("jf_code", required=False, nullable=True),
        Column("unit_id", nullable=True, references="units.unit_id"),
        Column("min_grade", Kind.GRADE),
        Column("max_grade", Kind.GRADE),
        Column("min_education", Kind.EDUCATION),
        Column(
            "required_training",
            Kind.LIST,
            nullable=True,
            allowed=tuple(MODALITIES),
            description="modality codes of training the post requires",
        ),
        Column("formasi", Kind.INT, min=0, max=1_000_000, description="posts needed (ABK)"),
        Column("retirement_age", Kind.INT, min=50, max=70),
    ),
    key=("position_id",),
)

POSITION_REQUIREMENTS = Table(
    "position_requirements",
    "Competency standard of each position: required level and weight per competency.",
    (
        Column("position_id", references="positions.position_id"),
        Column("competency_id", references="competencies.competency_id"),
        Column("required_level", **LEVEL),  # type: ignore[arg-type]
        Column("weight", Kind.FLOAT, min=0.0, max=10.0),
    ),
    key=("position_id", "competency_id"),
)

PROGRAMS = Table(
    "programs",
    "Training catalogue: classical and non-classical programmes with JP, cost and accreditation.",
    (
        Column("program_id"),
        Column("title"),
        Column("description", required=False, nullable=True),
        Column("modality", Kind.MODALITY),
        Column("classical", Kind.BOOL),
        Column("jp", Kind.INT, min=1, max=2000),
        Column("duration_days", Kind.INT, min=1, max=400),
        Column("cost_idr", Kind.INT, min=0, max=500_000_000),
        Column("provider"),
        Column("lan_accredited", Kind.BOOL),
        Column("accreditation_grade", nullable=True, allowed=domain.ACCREDITATION_GRADES),
        Column("target_tiers", Kind.LIST, allowed=domain.TIERS),
        Column("prerequisites", Kind.LIST, nullable=True, references="programs.program_id"),
        Column("capacity_per_batch", Kind.INT, min=1, max=100_000),
        Column("priority_tags", Kind.LIST, nullable=True, allowed=domain.PRIORITY_THEMES),
        Column("active_from", Kind.INT, min=1990, max=2100),
        Column("active_to", Kind.INT, nullable=True, min=1990, max=2100),
    ),
    key=("program_id",),
    rules=(
        ("active_period", "active_to is before active_from", _before("active_from", "active_to")),
    ),
)

PROGRAM_COMPETENCIES = Table(
    "program_competencies",
    "Competencies a programme develops, the level it brings participants to, and expected gain.",
    (
        Column("program_id", references="programs.program_id"),
        Column("competency_id", references="competencies.competency_id"),
        Column("target_level", **LEVEL),  # type: ignore[arg-type]
        Column("expected_gain", Kind.FLOAT, min=0.0, max=2.0),
    ),
    key=("program_id", "competency_id"),
)

SESSIONS = Table(
    "sessions",
    "Scheduled batches (angkatan) of programmes, with seats.",
    (
        Column("session_id"),
        Column("program_id", references="programs.program_id"),
        Column("start_date", Kind.DATE),
        Column("end_date", Kind.DATE),
        Column("seats", Kind.INT, min=1, max=100_000),
    ),
    key=("session_id",),
    rules=(("session_dates", "end_date is before start_date", _before("start_date", "end_date")),),
)

PRIORITIES = Table(
    "priorities",
    "Organisational priorities per year (RPJMN / Renstra themes) linked to competencies.",
    (
        Column("year", Kind.INT, min=1990, max=2100),
        Column("theme", allowed=domain.PRIORITY_THEMES),
        Column("competency_id", references="competencies.competency_id"),
        Column("weight", Kind.FLOAT, min=0.0, max=1.0),
    ),
    key=("year", "theme", "competency_id"),
)

EMPLOYEES = Table(
    "employees",
    "Employees (master data) as of the export date. Raw exports carry the NIP; clean tables the "
    "pseudonym.",
    (
        Column("nip", Kind.NIP, clean_name="employee_id"),
        Column("name", required=False, nullable=True),
        Column("sex", Kind.SEX),
        Column("birth_date", Kind.DATE),
        Column("education", Kind.EDUCATION),
        Column("grade", Kind.GRADE),
        Column("grade_date", Kind.DATE),
        Column("asn_status", allowed=domain.ASN_STATUSES),
        Column("position_id", references="positions.position_id"),
        Column("unit_id", references="units.unit_id"),
        Column("hire_date", Kind.DATE),
        Column("position_start_date", Kind.DATE),
        Column("status", allowed=domain.EMPLOYEE_STATUSES),
        Column("end_date", Kind.DATE, nullable=True),
    ),
    key=("nip",),
    rules=(
        ("hired_after_birth", "hire_date is before birth_date", _before("birth_date", "hire_date")),
        (
            "position_after_hire",
            "position_start_date is before hire_date",
            _before("hire_date", "position_start_date"),
        ),
        ("end_after_hire", "end_date is before hire_date", _before("hire_date", "end_date")),
        ("nip_birth_date", "birth_date differs from the NIP", _nip_birth_date_differs),
        ("nip_sex", "sex differs from the NIP", _nip_sex_differs),
    ),
)

ASSESSMENTS = Table(
    "assessments",
    "Competency assessments: one row per employee, competency and date.",
    (
        EMP,
        Column("competency_id", references="competencies.competency_id"),
        Column("level", **LEVEL),  # type: ignore[arg-type]
        Column("assessed_on", Kind.DATE),
        Column("method", allowed=domain.ASSESSMENT_METHODS),
    ),
    key=("nip", "competency_id", "assessed_on"),
)

APPRAISALS = Table(
    "appraisals",
    "Annual performance appraisal (predikat kinerja, PermenPANRB 6/2022).",
    (EMP, Column("year", Kind.INT, min=1990, max=2100), Column("rating", Kind.RATING)),
    key=("nip", "year"),
)

TALENT_BOX = Table(
    "talent_box",
    "Talent mapping per year: performance and potential scores and the 9-box cell.",
    (
        EMP,
        Column("year", Kind.INT, min=1990, max=2100),
        Column("performance_score", Kind.FLOAT, min=0.0, max=100.0),
        Column("potential_score", Kind.FLOAT, nullable=True, min=0.0, max=100.0),
        Column("box", Kind.INT, min=1, max=9),
    ),
    key=("nip", "year"),
)

ENROLLMENTS = Table(
    "enrollments",
    "Participation in programmes, with outcome.",
    (
        Column("enrollment_id"),
        EMP,
        Column("program_id", references="programs.program_id"),
        Column("session_id", nullable=True, references="sessions.session_id"),
        Column("start_date", Kind.DATE),
        Column("end_date", Kind.DATE),
        Column("status", allowed=domain.ENROLLMENT_STATUSES),
        Column("jp_credited", Kind.INT, nullable=True, min=0, max=2000),
        Column("pre_test", Kind.FLOAT, nullable=True, min=0.0, max=100.0),
        Column("post_test", Kind.FLOAT, nullable=True, min=0.0, max=100.0),
        Column("satisfaction", Kind.INT, nullable=True, min=1, max=5),
        Column("source", allowed=domain.ENROLLMENT_SOURCES),
        Column(
            "behaviour_change_score",
            Kind.FLOAT,
            required=False,
            nullable=True,
            min=1.0,
            max=5.0,
            description="supervisor-rated behaviour change at work 3-6 months after the end "
            "(mean of five 1-5 items; empty when not evaluated); optional column",
        ),
    ),
    key=("enrollment_id",),
    rules=(
        ("enrollment_dates", "end_date is before start_date", _before("start_date", "end_date")),
    ),
)

CAREER_MOVES = Table(
    "career_moves",
    "Career moves: every move between positions or units, with its kind.",
    (
        EMP,
        Column("from_position_id", references="positions.position_id"),
        Column("to_position_id", references="positions.position_id"),
        Column("from_unit_id", references="units.unit_id"),
        Column("to_unit_id", references="units.unit_id"),
        Column("move_date", Kind.DATE),
        Column("move_type", allowed=domain.MOVE_TYPES),
    ),
    key=("nip", "move_date", "to_position_id"),
)

POSITION_HISTORY = Table(
    "position_history",
    "Position history (riwayat jabatan, the shape SIASN exports): one row per post a person "
    "held, with its start (TMT jabatan); includes the post held when the other histories begin "
    "and earlier posts where known. Optional: without it, the start of the current post is "
    "derived from career_moves and censored at the first recorded move (docs/data-contract.md).",
    (
        EMP,
        Column("position_id", references="positions.position_id"),
        Column("unit_id", references="units.unit_id"),
        Column("start_date", Kind.DATE, description="TMT jabatan: the day the post began"),
        Column(
            "decree_number",
            required=False,
            nullable=True,
            description="number of the appointment decree (SK); optional",
        ),
    ),
    key=("nip", "start_date", "position_id"),
)

RANK_HISTORY = Table(
    "rank_history",
    "Grade promotions (riwayat pangkat).",
    (
        EMP,
        Column("from_grade", Kind.GRADE),
        Column("to_grade", Kind.GRADE),
        Column("effective_date", Kind.DATE),
    ),
    key=("nip", "effective_date"),
)

INTERACTIONS = Table(
    "interactions",
    "Interactions-only data (an LMS log): learner, programme, time and strength.",
    (
        Column("employee_id", Kind.PERSON),
        Column("program_id"),
        Column("ts", Kind.DATE),
        Column("strength", Kind.FLOAT, min=0.0, max=1e9),
    ),
    key=("employee_id", "program_id", "ts"),
)

#: Every table, parents before children (the order in which references are checked).
TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        UNITS,
        COMPETENCIES,
        POSITIONS,
        POSITION_REQUIREMENTS,
        PROGRAMS,
        PROGRAM_COMPETENCIES,
        SESSIONS,
        PRIORITIES,
        EMPLOYEES,
        ASSESSMENTS,
        APPRAISALS,
        TALENT_BOX,
        ENROLLMENTS,
        CAREER_MOVES,
        POSITION_HISTORY,
        RANK_HISTORY,
        INTERACTIONS,
    )
}

#: Tables read when present and never required (older exports lack them).
OPTIONAL_TABLES = ("interactions", "position_history")
#: Which tables each kind of data set needs. ``full`` is what the demo organisation provides.
PROFILES: dict[str, tuple[str, ...]] = {
    "full": tuple(t for t in TABLES if t not in OPTIONAL_TABLES),
    "interactions": ("interactions",),
    "standards": ("competencies", "positions", "position_requirements"),
}
