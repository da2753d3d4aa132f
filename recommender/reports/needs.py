"""The organisation training-needs report of one unit (design.md 3 F) and its CSV/XLSX exports.

Pure computation over a :class:`recommender.service.World` and the yearly plans of the unit's
people (``Service.plan`` dicts): who has which competency gap, weighted by the year's
organisational priorities; the cohorts the plans add up to (programme, participants, batches,
JP, cost) against a budget; and 20-JP compliance (realised this year so far, last year, and
realised + planned). No web code, no I/O; the figures are explained in ``docs/needs-report.md``.

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

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from recommender.domain import MIN_JP_PER_YEAR

if TYPE_CHECKING:
    from recommender.service import World

#: Assumed yearly development budget per employee, IDR (an assumption, not a regulation): about
#: 20 JP of classical training at the catalogue's typical 250,000 IDR per JP, plus a margin.
#: The HR page lets the user type the unit's real budget instead.
DEFAULT_BUDGET_PER_EMPLOYEE: Final = 6_000_000.0
#: Batch size used when a programme has no (or a non-positive) ``capacity_per_batch``: the
#: usual classroom batch of LAN programmes. The catalogue normally fills the column.
DEFAULT_CAPACITY: Final = 30
LANGUAGES: Final = ("id", "en")

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
    cohorts = _cohorts(pairs, progs)
    planned_jp = pairs["program_id"].map(progs["jp"]).astype(int)
    jp_planned = planned_jp.groupby(pairs["employee_id"]).sum().reindex(staff, fill_value=0)
    nc_planned = int(planned_jp[~pairs["program_id"].map(progs["classical"]).astype(bool)].sum())
    realised, nc_realised = _realised(world, staff, year, progs, extra_completions)
    jp_previous = _previous_year(world, staff, year, progs, previous_completions)

    total_cost = float(cohorts["cost_total"].sum())
    total_jp = int(cohorts["jp_total"].sum())
    meets_planned = (realised + jp_planned) >= MIN_JP_PER_YEAR
    titles = world.cat.positions.set_index("position_id")["title"]
    pos = staff_frame["position_id"].astype(str)
    employees = pd.DataFrame(
        {
            "employee_id": staff.to_numpy(str),
            "position_id": pos.to_numpy(str),
            "position_title": [str(titles.get(p, p)) for p in pos],
            "jp_previous_year": jp_previous.to_numpy(np.int64),
            "jp_realised": realised.to_numpy(np.int64),
            "jp_planned": jp_planned.to_numpy(np.int64),
            "meets_20_planned": meets_planned.to_numpy(bool),
        }
    )
    n = len(staff)
    return NeedsReport(
        unit_id=unit_id,
        unit_name=unit_name,
        year=year,
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
        compliance_realised=_share(int((realised >= MIN_JP_PER_YEAR).sum()), n),
        compliance_previous_year=_share(int((jp_previous >= MIN_JP_PER_YEAR).sum()), n),
        compliance_planned=_share(int(meets_planned.sum()), n),
        non_classical_share_planned=_share(nc_planned, total_jp),
        non_classical_share_realised=_share(nc_realised, int(realised.sum())),
        employees=employees,
    )


# ------------------------------------------------------------------------------ exports

_LABELS: Final[dict[str, dict[str, str]]] = {
    "sheet_summary": {"id": "Ringkasan", "en": "Summary"},
    "sheet_cohorts": {"id": "Kohort", "en": "Cohorts"},
    "sheet_gaps": {"id": "Kesenjangan", "en": "Gaps"},
    "sheet_employees": {"id": "Pegawai", "en": "Employees"},
    "total": {"id": "JUMLAH", "en": "TOTAL"},
    "yes": {"id": "ya", "en": "yes"},
    "no": {"id": "tidak", "en": "no"},
    "figure": {"id": "Ukuran", "en": "Figure"},
    "value": {"id": "Nilai", "en": "Value"},
    # cohort columns
    "program_id": {"id": "ID program", "en": "Programme ID"},
    "title": {"id": "Judul program", "en": "Programme title"},
    "modality": {"id": "Modalitas", "en": "Modality"},
    "classical": {"id": "Klasikal", "en": "Classical"},
    "lan_accredited": {"id": "Terakreditasi LAN", "en": "LAN accredited"},
    "participants": {"id": "Peserta", "en": "Participants"},
    "batches": {"id": "Angkatan", "en": "Batches"},
    "jp": {"id": "JP per peserta", "en": "JP per participant"},
    "jp_total": {"id": "Jumlah JP", "en": "Total JP"},
    "cost_per_participant": {"id": "Biaya per peserta (Rp)", "en": "Cost per participant (IDR)"},
    "cost_total": {"id": "Jumlah biaya (Rp)", "en": "Total cost (IDR)"},
    # employee columns
    "employee_id": {"id": "ID pegawai (pseudonim)", "en": "Employee ID (pseudonym)"},
    "position_id": {"id": "ID jabatan", "en": "Position ID"},
    "position_title": {"id": "Jabatan", "en": "Position"},
    "jp_previous_year": {"id": "JP tahun lalu", "en": "JP last year"},
    "jp_realised": {"id": "JP terealisasi", "en": "JP realised"},
    "jp_planned": {"id": "JP direncanakan", "en": "JP planned"},
    "meets_20_planned": {"id": "Memenuhi 20 JP (rencana)", "en": "Meets 20 JP (planned)"},
    # summary figures
    "unit_id": {"id": "ID unit", "en": "Unit ID"},
    "unit_name": {"id": "Unit", "en": "Unit"},
    "year": {"id": "Tahun", "en": "Year"},
    "as_of": {"id": "Per tanggal", "en": "As of"},
    "headcount": {"id": "Jumlah pegawai", "en": "Headcount"},
    "budget": {"id": "Anggaran (Rp)", "en": "Budget (IDR)"},
    "total_cost": {"id": "Jumlah biaya (Rp)", "en": "Total cost (IDR)"},
    "remaining_budget": {"id": "Sisa anggaran (Rp)", "en": "Remaining budget (IDR)"},
    "over_budget": {"id": "Melebihi anggaran", "en": "Over budget"},
    "total_participants": {"id": "Jumlah peserta", "en": "Total participants"},
    "total_jp": {"id": "Jumlah JP direncanakan", "en": "Total JP planned"},
    "compliance_realised": {
        "id": "Pegawai >= 20 JP terealisasi",
        "en": "Employees >= 20 JP realised",
    },
    "compliance_previous_year": {
        "id": "Pegawai >= 20 JP tahun lalu",
        "en": "Employees >= 20 JP last year",
    },
    "compliance_planned": {
        "id": "Pegawai >= 20 JP (realisasi + rencana)",
        "en": "Employees >= 20 JP (realised + planned)",
    },
    "non_classical_share_planned": {
        "id": "Porsi JP nonklasikal (rencana)",
        "en": "Non-classical JP share (planned)",
    },
    "non_classical_share_realised": {
        "id": "Porsi JP nonklasikal (realisasi)",
        "en": "Non-classical JP share (realised)",
    },
    "unassessed": {
        "id": "Pegawai belum diases pada kompetensi wajib",
        "en": "People not assessed on a required competency",
    },
    "priority_year": {"id": "Tahun prioritas", "en": "Priority year"},
    # gaps sheet
    "gap_people": {"id": "Jumlah pegawai dengan kesenjangan", "en": "People with a gap"},
    "gap_weighted": {
        "id": "Kesenjangan tertimbang (bobot x prioritas)",
        "en": "Weighted gap (weight x priority)",
    },
    "people": {"id": "Pegawai", "en": "People"},
    "competency_name": {"id": "(nama kompetensi)", "en": "(competency name)"},
}

#: Summary figures in the order of the CSV summary block and the summary sheet.
SUMMARY_KEYS: Final = (
    "unit_id",
    "unit_name",
    "year",
    "as_of",
    "headcount",
    "budget",
    "total_cost",
    "remaining_budget",
    "over_budget",
    "total_participants",
    "total_jp",
    "compliance_realised",
    "compliance_previous_year",
    "compliance_planned",
    "non_classical_share_planned",
    "non_classical_share_realised",
    "unassessed",
    "priority_year",
)
_SHARES: Final = frozenset(k for k in SUMMARY_KEYS if k.startswith(("compliance", "non_")))
_MONEY: Final = frozenset(
    {"budget", "total_cost", "remaining_budget", "cost_per_participant", "cost_total"}
)


def _words(lang: str) -> dict[str, str]:
    """Labels in ``lang``; ValueError for a language other than ``"id"`` or ``"en"``."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}, got {lang!r}")
    return {key: texts[lang] for key, texts in _LABELS.items()}


#: Text starting with one of these is read as a formula by spreadsheet programs.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _plain(value: Any, money: bool = False) -> Any:
    """numpy scalars as Python scalars; a whole IDR amount (``money``) as int; text that a
    spreadsheet would take for a formula gets a leading apostrophe."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    if money and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _cohort_table(report: NeedsReport, words: dict[str, str]) -> list[list[Any]]:
    """Header, one row per cohort and the total row (booleans kept as bool)."""
    table: list[list[Any]] = [[words[c] for c in COHORT_COLUMNS]]
    for rec in report.cohorts.itertuples(index=False):
        table.append([_plain(v, c in _MONEY) for c, v in zip(COHORT_COLUMNS, rec, strict=True)])
    total: list[Any] = [words["total"]] + [None] * (len(COHORT_COLUMNS) - 1)
    for col in ("participants", "batches", "jp_total", "cost_total"):
        total[COHORT_COLUMNS.index(col)] = _plain(report.cohorts[col].sum(), col in _MONEY)
    table.append(total)
    return table


def _summary(report: NeedsReport) -> list[tuple[str, Any]]:
    """``(key, value)`` of every summary figure, values as Python scalars."""
    return [(key, _plain(getattr(report, key), key in _MONEY)) for key in SUMMARY_KEYS]


def _csv_cell(value: Any, words: dict[str, str]) -> Any:
    if isinstance(value, bool):
        return words["yes"] if value else words["no"]
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(round(value, 6))
    return value


def to_csv(report: NeedsReport, lang: str = "id") -> str:
    """The report as CSV text (comma-separated, ``\\r\\n`` lines, UTF-8 safe, ``csv`` module).

    Layout: block 1 is the cohort table: a header row (labels in ``lang``), one row per cohort
    in report order, and a last row whose first cell is ``JUMLAH`` (``id``) or ``TOTAL``
    (``en``) with the sums of participants, batches, total JP and total cost (the other cells
    empty) — equal to ``total_participants``, ``total_jp`` and ``total_cost``. Then one empty
    line. Block 2 is the summary: a header row (``Ukuran,Nilai`` / ``Figure,Value``) and one row
    per figure of :data:`SUMMARY_KEYS` (label, value). Numbers are plain (``.`` decimal
    point, no thousands separator; whole IDR amounts as integers, shares 0-1 with up to 6
    decimals); booleans ``ya``/``tidak`` or ``yes``/``no``; a missing value is empty.

    Raises ValueError for an unknown ``lang``.
    """
    words = _words(lang)
    buf = io.StringIO()
    writer = csv.writer(buf)
    for row in _cohort_table(report, words):
        writer.writerow([_csv_cell(v, words) for v in row])
    writer.writerow([])
    writer.writerow([words["figure"], words["value"]])
    for key, value in _summary(report):
        if isinstance(value, dt.date):
            value = value.isoformat()
        writer.writerow([words[key], _csv_cell(value, words)])
    return buf.getvalue()


def _heat(value: float, top: float) -> str:
    """White (0) to red (``top``) as an RRGGBB fill colour."""
    t = 0.0 if top <= 0 else min(max(value / top, 0.0), 1.0)
    other = round(255 - t * (255 - 99))
    return f"FF{other:02X}{other:02X}"


def _write_table(ws: Any, start: int, table: Sequence[Sequence[Any]], bold: Any) -> None:
    for r, row in enumerate(table, start=start):
        for c, value in enumerate(row, start=1):
            ws.cell(row=r, column=c, value=value)
    for cell in ws[start]:
        cell.font = bold


def _format_columns(ws: Any, headers: Sequence[str], first: int, last: int) -> None:
    """Number formats by column key and reasonable widths."""
    for c, key in enumerate(headers, start=1):
        fmt = "#,##0" if key in _MONEY else "0.0%" if key in _SHARES else None
        if fmt:
            for r in range(first, last + 1):
                ws.cell(row=r, column=c).number_format = fmt
        width = 40 if key in ("title", "position_title") else 16
        ws.column_dimensions[ws.cell(row=1, column=c).column_letter].width = width


def _gap_block(
    ws: Any, start: int, title: str, report: NeedsReport, values: np.ndarray, words: dict[str, str]
) -> int:
    """One heatmap block at row ``start``; returns the next free row."""
    from openpyxl.styles import Font, PatternFill

    bold = Font(bold=True)
    ws.cell(row=start, column=1, value=title).font = bold
    header = [words["position_id"], words["position_title"], words["people"]]
    header += [cid for cid, _ in report.competencies]
    names = ["", words["competency_name"], None] + [name for _, name in report.competencies]
    _write_table(ws, start + 1, [header, names], bold)
    top = float(report.weighted_gap.max()) if report.weighted_gap.size else 0.0
    for i, (pid, ptitle, people) in enumerate(report.rows):
        r = start + 3 + i
        for c, value in enumerate([pid, ptitle, people], start=1):
            ws.cell(row=r, column=c, value=value)
        for k in range(len(report.competencies)):
            cell = ws.cell(row=r, column=4 + k, value=_plain(values[i, k]))
            if values.dtype.kind == "f":
                cell.number_format = "0.00"
            colour = _heat(float(report.weighted_gap[i, k]), top)
            cell.fill = PatternFill(start_color=colour, end_color=colour, fill_type="solid")
    return start + 3 + len(report.rows) + 1


def to_xlsx(report: NeedsReport, lang: str = "id") -> bytes:
    """The report as an XLSX workbook (openpyxl); values are numbers, never formulas.

    Sheets (names in ``lang``): ``Ringkasan``/``Summary`` — label in column A, value in B, one
    row per :data:`SUMMARY_KEYS` after a header row (shares as fractions formatted as %, IDR as
    whole numbers, ``as_of`` a date, ``over_budget`` a boolean); ``Kohort``/``Cohorts`` — the
    cohort table as in :func:`to_csv` (header, cohorts, ``JUMLAH``/``TOTAL`` row with numeric
    sums); ``Kesenjangan``/``Gaps`` — two blocks, people with a gap then weighted gap, each a
    title row, a header row (position id, title, people, competency ids), a row of competency
    names and one row per position, cells filled white-to-red by weighted gap;
    ``Pegawai``/``Employees`` — :data:`EMPLOYEE_COLUMNS` with a header row.

    Raises ValueError for an unknown ``lang``.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    words = _words(lang)
    bold = Font(bold=True)
    wb = Workbook()
    ws = wb.active
    ws.title = words["sheet_summary"]
    rows: list[list[Any]] = [[words["figure"], words["value"]]]
    rows += [[words[key], value] for key, value in _summary(report)]
    _write_table(ws, 1, rows, bold)
    for r, (key, _) in enumerate(_summary(report), start=2):
        if key in _MONEY or key in _SHARES:
            ws.cell(row=r, column=2).number_format = "#,##0" if key in _MONEY else "0.0%"
        elif key == "as_of":
            ws.cell(row=r, column=2).number_format = "yyyy-mm-dd"
    ws.column_dimensions["A"].width = 44
    ws.column_dimensions["B"].width = 40

    ws = wb.create_sheet(words["sheet_cohorts"])
    table = _cohort_table(report, words)
    _write_table(ws, 1, table, bold)
    for cell in ws[len(table)]:
        cell.font = bold
    _format_columns(ws, COHORT_COLUMNS, 2, len(table))
    ws.freeze_panes = "A2"

    ws = wb.create_sheet(words["sheet_gaps"])
    nxt = _gap_block(ws, 1, words["gap_people"], report, report.people_with_gap, words)
    _gap_block(ws, nxt, words["gap_weighted"], report, report.weighted_gap, words)
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 40

    ws = wb.create_sheet(words["sheet_employees"])
    emp: list[list[Any]] = [[words[c] for c in EMPLOYEE_COLUMNS]]
    emp += [[_plain(v) for v in rec] for rec in report.employees.itertuples(index=False)]
    _write_table(ws, 1, emp, bold)
    _format_columns(ws, EMPLOYEE_COLUMNS, 2, len(emp))
    ws.freeze_panes = "A2"

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


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
