"""Assemble a :class:`PlanRequest` from the organisation's state and solve it (``plan_for``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import pandas as pd

from recommender.domain import MIN_JP_PER_YEAR
from recommender.plans.model import DEFAULT_MAX_ITEMS, DEFAULT_TIME_LIMIT, Plan, PlanRequest
from recommender.plans.plan import make_plan
from recommender.programs.catalog import Catalog
from recommender.programs.features import eligible
from recommender.snapshot import Snapshot

#: How much a gap of the likely next position counts against one of the current position
#: (the same half weight as the gap rule of the programme candidates).
TARGET_SHARE: Final = 0.5
PLAN_PROGRAM_COLUMNS: Final = ("program_id", "title", "modality", "classical", "jp", "cost_idr")


def seats_left(sessions: pd.DataFrame, enrollments: pd.DataFrame) -> pd.DataFrame:
    """``sessions`` with ``seats_left`` = seats minus the enrolments booked in the session
    that have not taken place yet (status ``registered``), never below 0.

    Past enrolments (completed, failed, withdrawn, no-show) do not hold a seat of a future
    session; a history without live bookings leaves every seat free.
    """
    booked = enrollments[enrollments["status"] == "registered"]
    taken = booked["session_id"].value_counts()
    used = sessions["session_id"].map(taken).fillna(0).to_numpy(float)
    left = np.maximum(sessions["seats"].to_numpy(float) - used, 0)
    return sessions.assign(seats_left=left.astype(int))


def sessions_in_year(sessions: pd.DataFrame, year: int, after: pd.Timestamp) -> pd.DataFrame:
    """Sessions that start in ``year``, on or after ``after`` (one cannot join a session that
    has started), with ``seats_left`` (from ``seats`` when the column is absent)."""
    start = pd.to_datetime(sessions["start_date"])
    keep = (start.dt.year == year) & (start >= after)
    out = sessions[keep.to_numpy()]
    if "seats_left" not in out.columns:
        out = out.assign(seats_left=out["seats"])
    return out.reset_index(drop=True)


def _position_rows(
    snap: Snapshot, cat: Catalog, row: int, likely_target_row: int | None
) -> tuple[int, int]:
    """(current, target) rows of ``cat.positions`` for the person at ``row`` of ``snap``;
    the target is ``likely_target_row`` or, when None, ``cat.next_position`` of the current
    position. Raises ValueError when either is not a row of ``cat.positions``."""
    positions = pd.Index(cat.positions["position_id"])
    pos = int(positions.get_indexer(pd.Index([snap.people["position_id"].iloc[row]]))[0])
    if pos < 0:
        raise ValueError("the person's position is not in the catalogue's positions")
    target = int(cat.next_position[pos]) if likely_target_row is None else likely_target_row
    if not 0 <= target < len(positions):
        raise ValueError(f"likely_target_row {target} is not a row of cat.positions")
    return pos, target


def plan_for(
    snap: Snapshot,
    cat: Catalog,
    sessions: pd.DataFrame,
    employee_id: str,
    year: int,
    budget: float | None,
    likely_target_row: int | None = None,
    scores: Mapping[str, float] | pd.Series | None = None,
    language: str = "id",
    *,
    min_jp: int = MIN_JP_PER_YEAR,
    max_items: int = DEFAULT_MAX_ITEMS,
    competency_names: Mapping[str, str] | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
) -> Plan:
    """The yearly plan of ``employee_id`` (active in ``snap``) for ``year``.

    Candidates: programmes eligible for the person in ``year``
    (:func:`recommender.programs.features.eligible`: offered, aimed at their tier, not
    completed, prerequisites met, not assignment-only). Gaps: the current position's standard
    (``cat.req``, ``cat.req_weight``) and the likely next position's, counted at
    :data:`TARGET_SHARE` — ``likely_target_row`` (a row of ``cat.positions``) or, when None,
    ``cat.next_position`` of the current position (no target term when that is the same
    position). Priorities: ``cat.priority_for(year)``. Sessions: those starting in ``year`` on
    or after ``snap.at`` with ``seats_left`` (or ``seats``; see :func:`seats_left`).
    ``scores``: ranker score per programme id (e.g. ``recommend(...)`` as a Series), optional.

    Raises KeyError when the person is not active on the snapshot date, ValueError when their
    position is not in the catalogue or the inputs are inconsistent.
    """
    row = snap.row(employee_id)
    pos, target = _position_rows(snap, cat, row, likely_target_row)
    rows = np.flatnonzero(eligible(snap, cat, year, np.array([row]))[0])
    programs = cat.programs.iloc[rows][list(PLAN_PROGRAM_COLUMNS)].reset_index(drop=True)
    if scores is not None:
        programs["score"] = programs["program_id"].map(pd.Series(scores, dtype=float))
    has_target = target != pos
    request = PlanRequest(
        levels=snap.levels[row].astype(float),
        required=cat.req[pos].astype(float),
        weight=cat.req_weight[pos].astype(float),
        priority=cat.priority_for(year).astype(float),
        competency_ids=[str(c) for c in cat.competencies],
        programs=programs,
        gain=cat.gain[rows].astype(float),
        target=cat.target[rows].astype(float),
        sessions=sessions_in_year(sessions, year, snap.at),
        target_required=cat.req[target].astype(float) if has_target else None,
        target_weight=TARGET_SHARE * cat.req_weight[target].astype(float) if has_target else None,
        budget=budget,
        min_jp=min_jp,
        max_items=max_items,
        year=year,
        language=language,
        competency_names=competency_names,
        time_limit=time_limit,
    )
    return make_plan(request)
