"""The training-needs report's record (:class:`NeedsReport`), its table columns and the error
of an unknown unit: what :mod:`recommender.reports.needs` computes and
:mod:`recommender.reports.needs_export` writes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

COHORT_COLUMNS: Final = (
    "program_id",
    "title",
    "modality",
    "classical",
    "lan_accredited",
    "participants",
    "batches",
    "jp",
    "jp_total",
    "cost_per_participant",
    "cost_total",
)
EMPLOYEE_COLUMNS: Final = (
    "employee_id",
    "position_id",
    "position_title",
    "jp_previous_year",
    "jp_realised",
    "jp_planned",
    "meets_20_planned",
)


class UnknownUnitError(KeyError):
    """The unit id is not in the ``units`` table (the message names the id)."""

    def __init__(self, unit_id: str) -> None:
        super().__init__(unit_id)
        self.unit_id = unit_id

    def __str__(self) -> str:
        return f"unknown unit: {self.unit_id!r}"


@dataclass(frozen=True, eq=False)
class NeedsReport:
    """The training-needs report of one unit for one year (figures: ``docs/needs-report.md``).

    ``eq=False``: the report holds arrays and frames, so it compares by identity and is not
    hashable. Arrays are read-only.

    Identity: ``unit_id``, ``unit_name``, ``year`` (the snapshot's year), ``as_of`` (snapshot
    date: "so far" means strictly before it), ``headcount`` (active direct staff: people whose
    ``unit_id`` is exactly this unit), ``budget`` (IDR).

    Heatmap (R positions x K competencies): ``competencies`` K ``(competency_id, name)``, only
    competencies where somebody has a gap, by total weighted gap descending (then id);
    ``rows`` R ``(position_id, title, people)`` the positions held in the unit, by people
    descending (then id); ``people_with_gap`` int (R, K) people whose last assessed level is
    below their position's required level; ``weighted_gap`` float (R, K) the sum over those
    people of (required - level) x requirement weight x (1 + priority weight);
    ``priority_year`` the year of ``priorities`` used (the report year, else the latest earlier
    year; None when there is none: then every priority weight is 0); ``unassessed`` people with
    at least one required competency never assessed (each person once).

    Plans: ``cohorts`` one row per planned programme (columns :data:`COHORT_COLUMNS`),
    participants descending then ``program_id``; ``total_participants`` (programme places),
    ``total_jp``, ``total_cost`` (sums of the cohorts), ``remaining_budget`` (budget - total
    cost; negative = over), ``over_budget``.

    Compliance (shares 0-1 of ``headcount``; 0.0 when the headcount is 0):
    ``compliance_realised`` >= 20 JP realised this year so far, ``compliance_previous_year``
    >= 20 JP completed in ``year - 1``, ``compliance_planned`` realised + planned >= 20 JP;
    ``non_classical_share_planned`` / ``non_classical_share_realised`` non-classical JP over
    all JP (0.0 when there is no JP).

    ``employees`` one row per person (columns :data:`EMPLOYEE_COLUMNS`, by ``employee_id``,
    the pseudonym): no names, no NIPs.
    """

    unit_id: str
    unit_name: str
    year: int
    as_of: dt.date
    headcount: int
    budget: float
    priority_year: int | None
    competencies: list[tuple[str, str]]
    rows: list[tuple[str, str, int]]
    people_with_gap: np.ndarray
    weighted_gap: np.ndarray
    unassessed: int
    cohorts: pd.DataFrame
    total_participants: int
    total_jp: int
    total_cost: float
    remaining_budget: float
    over_budget: bool
    compliance_realised: float
    compliance_previous_year: float
    compliance_planned: float
    non_classical_share_planned: float
    non_classical_share_realised: float
    employees: pd.DataFrame

    @property
    def jp_realised(self) -> pd.Series:
        """JP realised this year so far per employee (index ``employee_id``)."""
        out: pd.Series = self.employees.set_index("employee_id")["jp_realised"]
        return out
