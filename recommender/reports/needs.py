"""The organisation training-needs report of one unit (design.md 3 F) and its CSV/XLSX exports.

Pure computation over a :class:`recommender.state.World` and the yearly plans of the unit's
people (``Service.plan`` dicts): who has which competency gap, weighted by the year's
organisational priorities; the cohorts the plans add up to (programme, participants, batches,
JP, cost) against a budget; and 20-JP compliance (realised this year so far, last year, and
realised + planned). No web code, no I/O; the figures are explained in ``docs/needs-report.md``.
The report record is :mod:`recommender.reports.needs_model`, the CSV/XLSX writers
:mod:`recommender.reports.needs_export` (both importable from here).

Scope: *direct staff only* — people active on the snapshot date whose ``unit_id`` is exactly
the unit, not the units below it. The report never carries names or NIPs, only the keyed
pseudonym ``employee_id``.

Public API::

    NeedsReport, UnknownUnitError
    build_needs(world, unit_id, plans, *, budget, extra_completions=None,
                previous_completions=None) -> NeedsReport
    unit_employees(world, unit_id) -> list[str]
    jp_realised(world, employee_ids, year=None, extra_completions=None) -> pd.Series
    default_budget(headcount, per_employee=DEFAULT_BUDGET_PER_EMPLOYEE) -> float
    to_csv(report, lang="id") -> str
    to_xlsx(report, lang="id") -> bytes
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from recommender.domain import MIN_JP_PER_YEAR
from recommender.reports.needs_export import LANGUAGES, SUMMARY_KEYS, to_csv, to_xlsx
from recommender.reports.needs_model import (
    COHORT_COLUMNS,
    EMPLOYEE_COLUMNS,
    NeedsReport,
    UnknownUnitError,
)

if TYPE_CHECKING:
    from recommender.state import World

#: Assumed yearly development budget per employee, IDR (an assumption, not a regulation): about
#: 20 JP of classical training at the catalogue's typical 250,000 IDR per JP, plus a margin.
#: The HR page lets the user type the unit's real budget instead.
DEFAULT_BUDGET_PER_EMPLOYEE: Final = 6_000_000.0
#: Batch size used when a programme has no (or a non-positive) ``capacity_per_batch``: the
#: usual classroom batch of LAN programmes. The catalogue normally fills the column.
DEFAULT_CAPACITY: Final = 30


# ------------------------------------------------------------------------------ the unit


def _check_unit(world: World, unit_id: str) -> str:
    """The unit's name; raises UnknownUnitError when ``unit_id`` is not in ``units``."""
    units = world.tables["units"]
    found = units.loc[units["unit_id"] == unit_id, "name"]
    if found.empty:
        raise UnknownUnitError(unit_id)
    name = found.iloc[0]
    return str(name) if isinstance(name, str) else unit_id


def _staff(world: World, unit_id: str) -> pd.DataFrame:
    """Snapshot rows (``world.snap.people``) of the unit's direct staff, by employee id."""
    people = world.snap.people
    return people[people["unit_id"] == unit_id].sort_index()


def unit_employees(world: World, unit_id: str) -> list[str]:
    """Employee ids (pseudonyms) of the people active on the snapshot date whose unit is
    exactly ``unit_id`` (direct staff, not sub-units), sorted: whose plans the report needs.

    Raises UnknownUnitError for a unit that does not exist (an existing unit without staff
    gives ``[]``).
    """
    _check_unit(world, unit_id)
    return [str(e) for e in _staff(world, unit_id).index]


def default_budget(headcount: int, per_employee: float = DEFAULT_BUDGET_PER_EMPLOYEE) -> float:
    """A unit's assumed yearly budget, IDR: ``headcount x per_employee``.

    Raises ValueError for a negative headcount or amount.
    """
    if headcount < 0 or not per_employee >= 0:
        raise ValueError("headcount and per_employee must be >= 0")
    return float(headcount) * float(per_employee)


# ------------------------------------------------------------------------------ gaps


def priority_weights(
    priorities: pd.DataFrame | None, competencies: pd.Index, year: int
) -> tuple[np.ndarray, int | None]:
    """Priority weight per competency (float, aligned with ``competencies``: the highest
    weight over the themes) of ``year``, or of the latest earlier year in ``priorities`` when
    ``year`` has none; and the year used (None with all zeros when no year <= ``year``)."""
    out = np.zeros(len(competencies))
    if priorities is None or priorities.empty:
        return out, None
    years = pd.to_numeric(priorities["year"], errors="coerce").astype(float).to_numpy()
    earlier = years[years <= year]
    if earlier.size == 0:
        return out, None
    used = int(earlier.max())
    best = priorities[years == used].groupby("competency_id")["weight"].max()
    idx = competencies.get_indexer(pd.Index(best.index))
    values = best.to_numpy(float)
    out[idx[idx >= 0]] = values[idx >= 0]
    return out, used


@dataclass(frozen=True)
class _Gaps:
    competencies: list[tuple[str, str]]
    rows: list[tuple[str, str, int]]
    people_with_gap: np.ndarray
    weighted_gap: np.ndarray
    unassessed: int


def _gaps(world: World, staff: pd.DataFrame, priority: np.ndarray) -> _Gaps:
    """Heatmap of the unit from the snapshot levels and the catalogue standards.

    A person whose position is not in the catalogue has no requirement (no gap, not
    unassessed) but still counts in the row of that position."""
    snap, cat = world.snap, world.cat
    n_comp = len(snap.competencies)
    levels = snap.levels[snap.people.index.get_indexer(staff.index)].astype(float)
    pos_index = pd.Index(cat.positions["position_id"])
    prow = pos_index.get_indexer(pd.Index(staff["position_id"]))
    known = prow >= 0
    req = np.zeros((len(staff), n_comp))
    weight = np.zeros((len(staff), n_comp))
    req[known] = cat.req[prow[known]]
    weight[known] = cat.req_weight[prow[known]]
    required = req > 0
    assessed = ~np.isnan(levels)
    has_gap = required & assessed & (np.nan_to_num(levels) < req)
    size = np.where(has_gap, req - np.nan_to_num(levels), 0.0) * weight * (1.0 + priority)
    unassessed = int((required & ~assessed).any(axis=1).sum())

    positions = staff["position_id"].astype(str)
    counts = positions.value_counts()
    order = sorted(counts.index, key=lambda p: (-int(counts[p]), p))
    titles = cat.positions.set_index("position_id")["title"]
    rows = [(p, str(titles.get(p, p)), int(counts[p])) for p in order]

    total = size.sum(axis=0)
    comp_ids = [str(c) for c in snap.competencies]
    cols = sorted(np.flatnonzero(has_gap.any(axis=0)), key=lambda c: (-total[c], comp_ids[c]))
    names = world.tables["competencies"].set_index("competency_id")["name"]
    competencies = [(comp_ids[c], str(names.get(comp_ids[c], comp_ids[c]))) for c in cols]

    pwg = np.zeros((len(rows), len(cols)), dtype=np.int64)
    wg = np.zeros((len(rows), len(cols)))
    pos_arr = positions.to_numpy()
    for r, (pid, _, _) in enumerate(rows):
        mine = pos_arr == pid
        pwg[r] = has_gap[mine][:, cols].sum(axis=0)
        wg[r] = size[mine][:, cols].sum(axis=0)
    pwg.flags.writeable = False
    wg.flags.writeable = False
    return _Gaps(competencies, rows, pwg, wg, unassessed)


# ------------------------------------------------------------------------------ JP


def _programmes(world: World) -> pd.DataFrame:
    """The catalogue indexed by ``program_id`` with plain-typed jp, cost, flags, capacity
    (built once per catalogue)."""
    return world.cat.memo(("reports.needs", "programmes"), lambda: _programme_table(world))


def _programme_table(world: World) -> pd.DataFrame:
    p = world.cat.programs.set_index("program_id")
    capacity = pd.to_numeric(p["capacity_per_batch"], errors="coerce").fillna(0).astype(int)
    return pd.DataFrame(
        {
            "title": p["title"].astype(str),
            "modality": p["modality"].astype(str),
            "classical": p["classical"].fillna(True).astype(bool),
            "lan_accredited": p["lan_accredited"].fillna(False).astype(bool),
            "jp": pd.to_numeric(p["jp"], errors="coerce").fillna(0).astype(int),
            "cost": pd.to_numeric(p["cost_idr"], errors="coerce").fillna(0).astype(float),
            "capacity": capacity.where(capacity > 0, DEFAULT_CAPACITY),
        },
        index=p.index.astype(str),
    )


def _completed(world: World, staff: pd.Index, year: int) -> pd.DataFrame:
    """Completed enrolments of ``staff`` that ended in ``year`` strictly before the
    snapshot date, with ``jp`` = ``jp_credited`` (empty = not credited = 0)."""
    enr = world.tables["enrollments"]
    end = pd.to_datetime(enr["end_date"])
    keep = (
        enr["employee_id"].isin(staff)
        & (enr["status"] == "completed")
        & (end.dt.year == year)
        & (end < world.snap.at)
    )
    out = enr.loc[keep.to_numpy(), ["employee_id", "program_id"]].astype(str)
    jp = pd.to_numeric(enr.loc[keep.to_numpy(), "jp_credited"], errors="coerce")
    return out.assign(jp=jp.fillna(0).astype(int).to_numpy())


def _realised(
    world: World,
    staff: pd.Index,
    year: int,
    progs: pd.DataFrame,
    extra: Mapping[str, Iterable[str]] | None,
) -> tuple[pd.Series, int]:
    """JP realised per person this year so far and the non-classical part of the total.

    Completed enrolments count their ``jp_credited``; an LMS completion in ``extra`` counts
    the catalogue JP once, unless the same person already has a completed enrolment of that
    programme in the window (then the enrolment counts, not the event). Programme ids not in
    the catalogue and people outside ``staff`` in ``extra`` are ignored."""
    done = _completed(world, staff, year)
    rows = [done]
    seen = set(zip(done["employee_id"], done["program_id"], strict=True))
    members = set(staff)
    if extra:
        added: list[tuple[str, str]] = []
        for emp, pids in extra.items():
            if emp not in members:
                continue
            ids = [pids] if isinstance(pids, str) else list(pids)
            for pid in dict.fromkeys(str(p) for p in ids):
                if pid in progs.index and (emp, pid) not in seen:
                    added.append((emp, pid))
                    seen.add((emp, pid))
        if added:
            frame = pd.DataFrame(added, columns=["employee_id", "program_id"])
            rows.append(frame.assign(jp=progs.loc[frame["program_id"], "jp"].to_numpy()))
    every = pd.concat(rows, ignore_index=True)
    per_person = every.groupby("employee_id")["jp"].sum().reindex(staff, fill_value=0)
    classical = every["program_id"].map(progs["classical"]).fillna(True).astype(bool)
    non_classical = int(every.loc[~classical.to_numpy(), "jp"].sum())
    return per_person.astype(int), non_classical


def jp_realised(
    world: World,
    employee_ids: Iterable[str],
    year: int | None = None,
    extra_completions: Mapping[str, Iterable[str]] | None = None,
) -> pd.Series:
    """JP realised per person in ``year`` (default ``world.year``) strictly before the
    snapshot date: completed enrolments' ``jp_credited`` plus LMS completions
    (``extra_completions``: employee id -> programme ids; catalogue JP, once per programme,
    not when the HR record already has that completion in the window), as in
    :func:`build_needs`. Returns an int Series indexed by the given ids (0 for people without
    any, duplicates once); raises nothing for unknown ids (they realise 0)."""
    staff = pd.Index(list(dict.fromkeys(str(e) for e in employee_ids)), dtype=object)
    year = int(world.year) if year is None else int(year)
    per_person, _ = _realised(world, staff, year, _programmes(world), extra_completions)
    return per_person


def _previous_year(
    world: World,
    staff: pd.Index,
    year: int,
    progs: pd.DataFrame,
    extra: Mapping[str, Iterable[str]] | None,
) -> pd.Series:
    """JP realised per person in ``year - 1`` (same rule as this year's: credited enrolments
    plus LMS completions of that year in ``extra``)."""
    per_person, _ = _realised(world, staff, year - 1, progs, extra)
    return per_person


def _planned_pairs(
    plans: Mapping[str, Mapping[str, Any]], staff: pd.Index, year: int, progs: pd.DataFrame
) -> pd.DataFrame:
    """``(employee_id, program_id)`` of every plan item (a programme once per person).

    Raises ValueError for a plan of someone outside the unit's direct staff, a plan of another
    year, an item without ``program_id`` or with a programme not in the catalogue."""
    outside = sorted(set(plans) - set(staff))
    if outside:
        raise ValueError(
            f"{len(outside)} plan(s) are for people who are not direct staff of the unit "
            f"(first: {outside[0]}); pass the plans of unit_employees() only"
        )
    pairs: list[tuple[str, str]] = []
    for emp in staff:
        plan = plans.get(emp)
        if plan is None:
            continue
        if plan.get("year") is not None and int(plan["year"]) != year:
            raise ValueError(f"the plan of {emp} is for {plan['year']}, the report for {year}")
        pids: dict[str, None] = {}
        for item in plan.get("items") or ():
            pid = item.get("program_id")
            if pid is None or str(pid) not in progs.index:
                raise ValueError(f"the plan of {emp} has an item with unknown programme {pid!r}")
            pids[str(pid)] = None
        pairs.extend((emp, pid) for pid in pids)
    return pd.DataFrame(pairs, columns=["employee_id", "program_id"], dtype=str)


def _cohorts(pairs: pd.DataFrame, progs: pd.DataFrame) -> pd.DataFrame:
    """One row per planned programme (:data:`COHORT_COLUMNS`), participants desc, then id."""
    count = pairs["program_id"].value_counts()
    info = progs.loc[count.index.astype(str)]
    participants = count.to_numpy(np.int64)
    capacity = info["capacity"].to_numpy(np.int64)
    jp = info["jp"].to_numpy(np.int64)
    cost = info["cost"].to_numpy(float)
    out = pd.DataFrame(
        {
            "program_id": count.index.astype(str),
            "title": info["title"].to_numpy(str),
            "modality": info["modality"].to_numpy(str),
            "classical": info["classical"].to_numpy(bool),
            "lan_accredited": info["lan_accredited"].to_numpy(bool),
            "participants": participants,
            "batches": -(-participants // capacity),
            "jp": jp,
            "jp_total": participants * jp,
            "cost_per_participant": cost,
            "cost_total": participants * cost,
        }
    )
    out = out.sort_values(["participants", "program_id"], ascending=[False, True])
    return out.reset_index(drop=True)


def _share(part: float, whole: float) -> float:
    return float(part / whole) if whole > 0 else 0.0


@dataclass(frozen=True)
class _Jp:
    """JP per person of the staff (int Series indexed by employee id) and the non-classical
    parts of the totals."""

    planned: pd.Series
    realised: pd.Series
    previous: pd.Series
    nc_planned: int
    nc_realised: int

    @property
    def meets_planned(self) -> pd.Series:
        """Realised + planned >= :data:`MIN_JP_PER_YEAR` per person (bool Series)."""
        out: pd.Series = (self.realised + self.planned) >= MIN_JP_PER_YEAR
        return out


def _jp(
    world: World,
    staff: pd.Index,
    year: int,
    progs: pd.DataFrame,
    pairs: pd.DataFrame,
    extra: Mapping[str, Iterable[str]] | None,
    previous: Mapping[str, Iterable[str]] | None,
) -> _Jp:
    """Planned (from the plan ``pairs`` of :func:`_planned_pairs`), realised (with ``extra``
    LMS completions) and last year's (with ``previous``) JP of ``staff``."""
    planned_jp = pairs["program_id"].map(progs["jp"]).astype(int)
    jp_planned = planned_jp.groupby(pairs["employee_id"]).sum().reindex(staff, fill_value=0)
    nc_planned = int(planned_jp[~pairs["program_id"].map(progs["classical"]).astype(bool)].sum())
    realised, nc_realised = _realised(world, staff, year, progs, extra)
    jp_previous = _previous_year(world, staff, year, progs, previous)
    return _Jp(jp_planned, realised, jp_previous, nc_planned, nc_realised)


def _employee_table(
    world: World, staff: pd.Index, staff_frame: pd.DataFrame, jp: _Jp
) -> pd.DataFrame:
    """One row per person of ``staff`` (ids of the rows of ``staff_frame``;
    :data:`EMPLOYEE_COLUMNS`)."""
    titles = world.cat.positions.set_index("position_id")["title"]
    pos = staff_frame["position_id"].astype(str)
    return pd.DataFrame(
        {
            "employee_id": staff.to_numpy(str),
            "position_id": pos.to_numpy(str),
            "position_title": [str(titles.get(p, p)) for p in pos],
            "jp_previous_year": jp.previous.to_numpy(np.int64),
            "jp_realised": jp.realised.to_numpy(np.int64),
            "jp_planned": jp.planned.to_numpy(np.int64),
            "meets_20_planned": jp.meets_planned.to_numpy(bool),
        }
    )


# ------------------------------------------------------------------------------ the report


def build_needs(
    world: World,
    unit_id: str,
    plans: Mapping[str, Mapping[str, Any]],
    *,
    budget: float,
    extra_completions: Mapping[str, Iterable[str]] | None = None,
    previous_completions: Mapping[str, Iterable[str]] | None = None,
) -> NeedsReport:
    """The training-needs report of ``unit_id`` (direct staff) for ``world.year``.

    ``plans`` maps employee id -> plan dict as returned by ``Service.plan`` (``items`` with
    ``program_id``; ``year`` when present must be ``world.year``); people of the unit missing
    from ``plans`` plan 0 JP. Per-participant JP, cost, capacity and flags come from the
    catalogue. ``budget`` IDR (e.g. :func:`default_budget`). ``extra_completions`` maps
    employee id -> programme ids completed this year according to LMS events (for example the
    stored ``complete``/``pass`` events); each counts the catalogue JP once, and not at all
    when the HR record already has that completion in the window; ``previous_completions`` the
    same for ``year - 1`` (used for last year's compliance).

    Raises UnknownUnitError (a KeyError) for a unit not in ``units``; ValueError for a
    negative budget, a plan of someone outside the unit, a plan of another year or an item
    whose programme is not in the catalogue.
    """
    unit_name = _check_unit(world, unit_id)
    if not budget >= 0:
        raise ValueError("budget must be >= 0")
    year = int(world.year)
    staff_frame = _staff(world, unit_id)
    staff = pd.Index([str(e) for e in staff_frame.index])
    progs = _programmes(world)

    priority, priority_year = priority_weights(
        world.tables.get("priorities"), world.snap.competencies, year
    )
    gaps = _gaps(world, staff_frame, priority)

    pairs = _planned_pairs(plans, staff, year, progs)
    jp = _jp(world, staff, year, progs, pairs, extra_completions, previous_completions)
    employees = _employee_table(world, staff, staff_frame, jp)
    return _report(
        world,
        unit_id,
        unit_name,
        budget,
        priority_year,
        gaps,
        _cohorts(pairs, progs),
        jp,
        employees,
    )


def _report(
    world: World,
    unit_id: str,
    unit_name: str,
    budget: float,
    priority_year: int | None,
    gaps: _Gaps,
    cohorts: pd.DataFrame,
    jp: _Jp,
    employees: pd.DataFrame,
) -> NeedsReport:
    """The :class:`NeedsReport` of the computed parts: totals of the ``cohorts``, budget and
    compliance shares (of the headcount ``len(employees)``)."""
    total_cost = float(cohorts["cost_total"].sum())
    total_jp = int(cohorts["jp_total"].sum())
    n = len(employees)
    return NeedsReport(
        unit_id=unit_id,
        unit_name=unit_name,
        year=int(world.year),
        as_of=world.snap.at.date(),
        headcount=n,
        budget=float(budget),
        priority_year=priority_year,
        competencies=gaps.competencies,
        rows=gaps.rows,
        people_with_gap=gaps.people_with_gap,
        weighted_gap=gaps.weighted_gap,
        unassessed=gaps.unassessed,
        cohorts=cohorts,
        total_participants=int(cohorts["participants"].sum()),
        total_jp=total_jp,
        total_cost=total_cost,
        remaining_budget=float(budget) - total_cost,
        over_budget=total_cost > budget,
        compliance_realised=_share(int((jp.realised >= MIN_JP_PER_YEAR).sum()), n),
        compliance_previous_year=_share(int((jp.previous >= MIN_JP_PER_YEAR).sum()), n),
        compliance_planned=_share(int(jp.meets_planned.sum()), n),
        non_classical_share_planned=_share(jp.nc_planned, total_jp),
        non_classical_share_realised=_share(jp.nc_realised, int(jp.realised.sum())),
        employees=employees,
    )


__all__ = [
    "COHORT_COLUMNS",
    "DEFAULT_BUDGET_PER_EMPLOYEE",
    "DEFAULT_CAPACITY",
    "EMPLOYEE_COLUMNS",
    "LANGUAGES",
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
