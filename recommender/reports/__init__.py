"""Organisation-level reports (design.md 3 F): pure computations over the served organisation
and their CSV/XLSX exports; the HR web page renders them. See ``docs/needs-report.md``.

Public API::

    NeedsReport, UnknownUnitError
    build_needs(world, unit_id, plans, *, budget, extra_completions=None) -> NeedsReport
    unit_employees(world, unit_id) -> list[str]
    jp_realised(world, employee_ids, year=None, extra_completions=None) -> pd.Series
    default_budget(headcount, per_employee=DEFAULT_BUDGET_PER_EMPLOYEE) -> float
    to_csv(report, lang="id") -> str
    to_xlsx(report, lang="id") -> bytes
"""

from recommender.reports.needs import (
    COHORT_COLUMNS,
    DEFAULT_BUDGET_PER_EMPLOYEE,
    DEFAULT_CAPACITY,
    EMPLOYEE_COLUMNS,
    SUMMARY_KEYS,
    NeedsReport,
    UnknownUnitError,
    build_needs,
    default_budget,
    jp_realised,
    priority_weights,
    to_csv,
    to_xlsx,
    unit_employees,
)

__all__ = [
    "COHORT_COLUMNS",
    "DEFAULT_BUDGET_PER_EMPLOYEE",
    "DEFAULT_CAPACITY",
    "EMPLOYEE_COLUMNS",
    "SUMMARY_KEYS",
    "NeedsReport",
    "UnknownUnitError",
    "build_needs",
    "default_budget",
    "jp_realised",
    "priority_weights",
    "to_csv",
    "to_xlsx",
    "unit_employees",
]
