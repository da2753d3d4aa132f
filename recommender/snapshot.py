"""Point-in-time state of the organisation: everything known strictly before a date ``at``.

Training builds one snapshot per decision date; serving builds one for "now". Both use this
module, so a feature can never see the future: every event table is filtered on its date
``< at`` before anything is computed (tested in ``tests/model/test_point_in_time.py``).

Shapes: ``people`` has one row per employee active on ``at`` (index ``employee_id``; ratings
as scores 0-4: ``last_rating`` and ``rating_1`` .. ``rating_3`` for the years before ``at``;
``years_in_position`` and ``years_in_grade``, censored as :func:`start_from_moves` says);
``levels`` is people x competencies (last assessed level, NaN if never assessed);
``completed`` and ``taken`` are people x programmes booleans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from recommender import domain
from recommender.data.normalize import EDUCATION_LEVELS, GRADES
from recommender.domain import SELF_PACED
from recommender.memo import Memoised

RATING_SCORE = {"Sangat Baik": 4, "Baik": 3, "Butuh Perbaikan": 2, "Kurang": 1, "Sangat Kurang": 0}
EDUCATION_RANK = {e: i for i, e in enumerate(EDUCATION_LEVELS)}


@dataclass
class Snapshot(Memoised):
    """State as of ``at``; see the module docstring for shapes. ``cache`` holds arrays derived
    once for fast per-person work (see :class:`recommender.memo.Memoised`)."""

    at: pd.Timestamp
    people: pd.DataFrame
    levels: np.ndarray
    completed: np.ndarray
    taken: np.ndarray
    competencies: pd.Index
    programs: pd.Index
    cache: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def row(self, employee_id: str) -> int:
        """Row of ``employee_id`` in the matrices; raises KeyError if not active on ``at``."""
        loc = self.people.index.get_loc(employee_id)
        if not isinstance(loc, int):
            raise KeyError(employee_id)
        return loc


def _as_of(
    changes: pd.DataFrame, at: pd.Timestamp, date: str, before: str, after: str, current: pd.Series
) -> pd.Series:
    """Value on ``at``: the ``after`` value of the last change before ``at``, else the
    ``before`` value of the first change on or after ``at``, else the current value."""
    past = changes[changes[date] < at].sort_values(date).groupby("employee_id")[after].last()
    future = changes[changes[date] >= at].sort_values(date).groupby("employee_id")[before].first()
    out = current.copy()
    out.update(future.reindex(out.index).dropna())
    out.update(past.reindex(out.index).dropna())
    return out


def post_from_history(
    history: pd.DataFrame, people: pd.Index, at: pd.Timestamp
) -> tuple[pd.DataFrame, pd.Series]:
    """The post held on ``at`` from the position history (riwayat jabatan): for each of
    ``people``, the last row starting before ``at``. Returns (position_id and unit_id, index
    ``people``; NaN without such a row) and its start date (NaT without such a row: the history
    begins after ``at``, so the tenure is unknown, the same for people who move later and people
    who do not). Rows starting on the same day keep their file order (the later row wins)."""
    past = history[(history["start_date"] < at) & history["employee_id"].isin(people)]
    last = past.sort_values("start_date", kind="stable").groupby("employee_id").last()
    last = last.reindex(people)
    return last[["position_id", "unit_id"]], pd.to_datetime(last["start_date"])


def _renamed(changes: pd.DataFrame | None, date: str) -> pd.DataFrame | None:
    """``changes`` with its date column named ``move_date`` (None stays None)."""
    return None if changes is None else changes.rename(columns={date: "move_date"})


def start_from_moves(
    moves: pd.DataFrame | None,
    emp: pd.DataFrame,
    at: pd.Timestamp,
    export: str = "position_start_date",
    window: pd.Timestamp | None = None,
) -> pd.Series:
    """Start of the post held on ``at`` for data without a position history (older exports),
    index ``emp.index``: the last move before ``at``; without one, the later of the hire date
    and the first recorded move of the whole table (the window start), because the export's
    ``position_start_date`` is a fact of the export date (for someone who moves later it is the
    start of a later post). Tenure is thus censored at the window start for people who move
    later and people who do not alike; NaT where that date is not before ``at``. Without a
    career_moves table, ``position_start_date`` where it is before ``at``, else NaT. The same
    rule gives the start of the grade from rank_history (``export="grade_date"``, the changes'
    date column renamed ``move_date``). ``window``: the window start of the whole table when
    ``moves`` holds only some people's rows (a batch partition, :func:`history_windows`); by
    default the first date of ``moves``."""
    if moves is None or moves.empty:
        start = emp[export]
        out: pd.Series = start.where(start < at)
        return out
    window = moves["move_date"].min() if window is None else window
    last = moves[moves["move_date"] < at].groupby("employee_id")["move_date"].max()
    floor = emp["hire_date"].where(emp["hire_date"] > window, window)
    start = last.reindex(emp.index).fillna(floor)
    out = start.where(start < at)
    return out


#: History tables whose first date is the censoring floor of :func:`start_from_moves`.
WINDOW_DATES = {"career_moves": "move_date", "rank_history": "effective_date"}


def history_windows(*, tables: dict[str, pd.DataFrame]) -> dict[str, pd.Timestamp]:
    """The window start (first date) of each history table of :data:`WINDOW_DATES` that
    ``tables`` holds with rows: pass it to :func:`build_snapshot` for a subset of the people
    (a batch partition), so tenure is censored at the organisation's window start, not the
    subset's."""
    return {
        name: pd.Timestamp(tables[name][col].min())
        for name, col in WINDOW_DATES.items()
        if name in tables and len(tables[name])
    }


def _people(
    tables: dict[str, pd.DataFrame],
    at: pd.Timestamp,
    windows: dict[str, pd.Timestamp] | None = None,
) -> pd.DataFrame:
    emp = tables["employees"].set_index("employee_id")
    active = (emp["hire_date"] < at) & (emp["end_date"].isna() | (emp["end_date"] >= at))
    emp = emp[active]
    moves = tables.get("career_moves", pd.DataFrame(columns=["employee_id", "move_date"]))
    moves = moves[moves["employee_id"].isin(emp.index)]
    out = pd.DataFrame(index=emp.index)
    for col in ("position_id", "unit_id"):
        out[col] = _as_of(moves, at, "move_date", f"from_{col}", f"to_{col}", emp[col])
    ranks = tables.get("rank_history", pd.DataFrame(columns=["employee_id", "effective_date"]))
    out["grade"] = _as_of(
        ranks[ranks["employee_id"].isin(emp.index)],
        at,
        "effective_date",
        "from_grade",
        "to_grade",
        emp["grade"],
    )
    history = tables.get("position_history")
    if history is not None:
        post, start = post_from_history(history, emp.index, at)
        known = post["position_id"].notna()
        out.loc[known, "position_id"] = post.loc[known, "position_id"]
        out.loc[known, "unit_id"] = post.loc[known, "unit_id"]
    else:
        start = start_from_moves(
            tables.get("career_moves"), emp, at, window=(windows or {}).get("career_moves")
        )
    out["years_in_position"] = (at - start).dt.days / 365.25
    grade_start = start_from_moves(
        _renamed(tables.get("rank_history"), "effective_date"),
        emp,
        at,
        export="grade_date",
        window=(windows or {}).get("rank_history"),
    )
    out["years_in_grade"] = (at - grade_start).dt.days / 365.25
    out["years_of_service"] = (at - emp["hire_date"]).dt.days / 365.25
    out["age"] = at.year - emp["birth_year"]
    out["female"] = (emp["sex"] == "P").astype(int)
    out["education_rank"] = emp["education"].map(EDUCATION_RANK)
    out["grade_rank"] = out["grade"].map({g: i for i, g in enumerate(GRADES)})
    return out


def _attach_positions(people: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    pos = tables["positions"].set_index("position_id")
    units = tables["units"].set_index("unit_id")
    people["tier"] = people["position_id"].map(pos["tier"])
    people["family"] = people["position_id"].map(pos["family"])
    people["tier_level"] = people["tier"].map(domain.TIER_LEVEL)
    province = people["unit_id"].map(units["province_code"]).astype(str)
    people["java"] = province.isin(domain.JAVA_PROVINCE_CODES).astype(int)
    return people


def _appraisal(
    people: pd.DataFrame, tables: dict[str, pd.DataFrame], at: pd.Timestamp
) -> pd.DataFrame:
    appr = tables.get("appraisals")
    # a year's rating is known once the year is over
    if appr is not None:
        known = appr[appr["year"] < at.year].sort_values("year")
        last = known.groupby("employee_id")["rating"].last().map(RATING_SCORE)
        people["last_rating"] = last.reindex(people.index)
        # rating_k: score of year at.year - k (NaN when that year has no rating)
        for k in (1, 2, 3):
            year = known[known["year"] == at.year - k].set_index("employee_id")["rating"]
            people[f"rating_{k}"] = year.map(RATING_SCORE).reindex(people.index)
    box = tables.get("talent_box")
    if box is not None:
        known = box[box["year"] < at.year].sort_values("year")
        people["talent_box"] = known.groupby("employee_id")["box"].last().reindex(people.index)
    return people


def _levels(
    tables: dict[str, pd.DataFrame], people: pd.Index, comps: pd.Index, at: pd.Timestamp
) -> np.ndarray:
    out = np.full((len(people), len(comps)), np.nan, dtype=np.float32)
    ass = tables.get("assessments")
    if ass is None:
        return out
    ass = ass[(ass["assessed_on"] < at) & ass["employee_id"].isin(people)]
    last = ass.sort_values("assessed_on").drop_duplicates(
        ["employee_id", "competency_id"], keep="last"
    )
    rows = people.get_indexer(pd.Index(last["employee_id"]))
    cols = comps.get_indexer(pd.Index(last["competency_id"]))
    out[rows, cols] = last["level"].to_numpy(np.float32)
    return out


def _enrolments(
    tables: dict[str, pd.DataFrame], people: pd.Index, progs: pd.Index, at: pd.Timestamp
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    enr = tables["enrollments"]
    enr = enr[(enr["end_date"] < at) & enr["employee_id"].isin(people)]
    enr = enr[enr["program_id"].isin(progs)]
    rows = people.get_indexer(pd.Index(enr["employee_id"]))
    cols = progs.get_indexer(pd.Index(enr["program_id"]))
    taken = np.zeros((len(people), len(progs)), dtype=bool)
    completed = taken.copy()
    taken[rows, cols] = True
    done = (enr["status"] == "completed").to_numpy()
    completed[rows[done], cols[done]] = True
    return taken, completed, enr


def _history(
    people: pd.DataFrame, enr: pd.DataFrame, programs: pd.DataFrame, at: pd.Timestamp
) -> pd.DataFrame:
    mod = enr["program_id"].map(programs.set_index("program_id")["modality"])
    enr = enr.assign(done=enr["status"] == "completed", self_paced=mod.isin(SELF_PACED))
    g = enr.groupby("employee_id")
    people["n_enrolments"] = g.size().reindex(people.index).fillna(0)
    people["completion_rate"] = g["done"].mean().reindex(people.index)
    sp = enr[enr["self_paced"]].groupby("employee_id")["done"]
    people["self_paced_completion"] = sp.mean().reindex(people.index)
    people["n_self_paced"] = sp.size().reindex(people.index).fillna(0)
    recent = enr[enr["done"] & (enr["end_date"] >= at - pd.Timedelta(days=365))]
    people["jp_last_year"] = (
        recent.groupby("employee_id")["jp_credited"].sum().reindex(people.index).fillna(0)
    )
    return people


def build_snapshot(
    tables: dict[str, pd.DataFrame],
    at: pd.Timestamp | str,
    windows: dict[str, pd.Timestamp] | None = None,
) -> Snapshot:
    """State of every employee active on ``at`` from the clean tables, using only the past.

    ``tables`` needs employees, positions, units, programs and enrollments; assessments,
    appraisals, talent_box, career_moves and rank_history are used when present. ``windows``
    (:func:`history_windows` of the whole organisation) when ``tables`` hold only some
    people's rows; by default the tables' own first dates.
    """
    at = pd.Timestamp(at)
    people = _attach_positions(_people(tables, at, windows), tables)
    people = _appraisal(people, tables, at)
    comps = pd.Index(tables["competencies"]["competency_id"])
    progs = pd.Index(tables["programs"]["program_id"])
    taken, completed, enr = _enrolments(tables, people.index, progs, at)
    people = _history(people, enr, tables["programs"], at)
    return Snapshot(
        at, people, _levels(tables, people.index, comps, at), completed, taken, comps, progs
    )
