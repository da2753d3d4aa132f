"""Inputs and outputs of the yearly development plan (plain arrays and frames).

A :class:`PlanRequest` holds one person's situation for one year without the rest of the
organisation, so a plan can be built and tested from a handful of numbers; :func:`check`
turns it into aligned float arrays or raises ValueError. A :class:`Plan` is the answer: items
with their reasons, totals, and ``problems`` (why the plan is empty) or ``notes`` (remarks on a
plan that stands).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from recommender.domain import MIN_JP_PER_YEAR
from recommender.plans.texts import LANGUAGES

PROGRAM_COLUMNS = ("program_id", "title", "modality", "classical", "jp", "cost_idr")
SESSION_COLUMNS = ("session_id", "program_id", "start_date", "end_date")
DEFAULT_MAX_ITEMS = 6
DEFAULT_TIME_LIMIT = 5.0


@dataclass(frozen=True)
class PlanRequest:
    """One person, one year: what a plan is built from.

    Shapes (C competencies, n candidate programmes):

    - ``levels`` (C,) last assessed level, NaN = never assessed (not projected);
    - ``required``, ``weight`` (C,) the current position's standard (0 = not required);
    - ``target_required``, ``target_weight`` (C,) the most likely next position's standard,
      already scaled by how much it should count (both None = no target);
    - ``priority`` (C,) the year's priority weight per competency, 0-1;
    - ``competency_ids`` (C,) and optional ``competency_names`` (id -> name) for the reasons;
    - ``programs`` n rows: ``program_id`` (unique), ``title``, ``modality``, ``classical``
      (bool), ``jp`` (>= 0), ``cost_idr`` (>= 0) and optionally ``score`` (ranker score,
      higher = better; NaN = unscored);
    - ``gain``, ``target`` (n, C) the programmes' expected gain and target level;
    - ``sessions`` the sessions of the year that may be booked: ``session_id`` (unique),
      ``program_id``, ``start_date``, ``end_date`` and ``seats_left`` (or ``seats``); sessions
      of programmes not in ``programs`` are ignored;
    - ``budget`` IDR (None = unlimited), ``min_jp``, ``max_items``, ``time_limit`` (seconds
      per solver call), ``year`` (for the words only), ``language`` ``"id"`` or ``"en"``.
    """

    levels: np.ndarray
    required: np.ndarray
    weight: np.ndarray
    priority: np.ndarray
    competency_ids: Sequence[str]
    programs: pd.DataFrame
    gain: np.ndarray
    target: np.ndarray
    sessions: pd.DataFrame
    target_required: np.ndarray | None = None
    target_weight: np.ndarray | None = None
    budget: float | None = None
    min_jp: int = MIN_JP_PER_YEAR
    max_items: int = DEFAULT_MAX_ITEMS
    year: int | None = None
    language: str = "id"
    competency_names: Mapping[str, str] | None = None
    time_limit: float = DEFAULT_TIME_LIMIT


@dataclass(frozen=True)
class Raise:
    """A competency an item raises in the projection: ``from_level`` -> ``to_level``, and the
    levels the current and the likely next position require (None = not in that standard)."""

    competency_id: str
    name: str
    from_level: float
    to_level: float
    required: float | None
    target_required: float | None


@dataclass(frozen=True)
class PlanItem:
    """One programme of the plan, with its session (None for a session-free programme taken
    any time: then no dates) and why it is there (``reason``, in the plan's language)."""

    program_id: str
    title: str
    modality: str
    classical: bool
    jp: int
    cost_idr: float
    session_id: str | None
    start_date: dt.date | None
    end_date: dt.date | None
    raises: tuple[Raise, ...]
    reason: str
    score: float | None = None


@dataclass(frozen=True)
class Plan:
    """A yearly development plan.

    ``items`` in the order to take them (dated sessions by start date, then session-free
    programmes); ``total_jp``, ``total_cost``; ``gap_closed`` the priority-weighted levels
    closed under the effect model in that order (the objective's gap term, computed exactly);
    ``meets_20_jp`` total JP >= the legal 20 JP; ``has_non_classical``; ``problems`` say why
    there are no items (empty when there is a plan); ``notes`` remarks on a plan that stands;
    ``status`` ``"optimal"``, ``"time_limit"`` (a plan, not proven best) or ``"infeasible"``;
    ``objective`` the solver's (linearised) objective; ``solve_seconds`` wall time of the solver
    calls.
    """

    items: tuple[PlanItem, ...]
    total_jp: int
    total_cost: float
    gap_closed: float
    meets_20_jp: bool
    has_non_classical: bool
    problems: tuple[str, ...]
    language: str
    notes: tuple[str, ...] = ()
    status: str = "optimal"
    objective: float = 0.0
    min_jp: int = MIN_JP_PER_YEAR
    budget: float | None = None
    solve_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (dates as ISO strings; ``extra`` left out)."""
        out = asdict(self)
        out.pop("extra")
        for item in out["items"]:
            for key in ("start_date", "end_date"):
                if item[key] is not None:
                    item[key] = item[key].isoformat()
        return out


@dataclass(frozen=True)
class Checked:
    """A request as aligned float arrays (see :class:`PlanRequest` for shapes); ``tgt_*`` are
    zeros when there is no target; ``score`` NaN where unscored; ``sessions`` keeps only the
    candidates' sessions, with ``seats_left`` and ``row`` (candidate row)."""

    req: PlanRequest
    levels: np.ndarray
    required: np.ndarray
    weight: np.ndarray
    tgt_required: np.ndarray
    tgt_weight: np.ndarray
    priority: np.ndarray
    gain: np.ndarray
    target: np.ndarray
    jp: np.ndarray
    cost: np.ndarray
    classical: np.ndarray
    score: np.ndarray
    sessions: pd.DataFrame


def _vector(name: str, x: np.ndarray | None, n: int) -> np.ndarray:
    """``x`` as a float vector of length ``n`` (zeros for None); ValueError otherwise."""
    if x is None:
        return np.zeros(n)
    arr = np.asarray(x, dtype=float)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {arr.shape}")
    return arr


def _numbers(frame: pd.DataFrame, col: str) -> np.ndarray:
    """A non-negative numeric column; ValueError for missing or negative values."""
    values = pd.to_numeric(frame[col], errors="coerce").to_numpy(float, na_value=np.nan)
    if np.isnan(values).any() or (values < 0).any():
        raise ValueError(f"programs.{col} must be a number >= 0 in every row")
    return values


def _check_limits(req: PlanRequest) -> None:
    """ValueError for an unknown language or a negative / zero limit."""
    if req.language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, got {req.language!r}")
    if req.budget is not None and not req.budget >= 0:
        raise ValueError("budget must be >= 0 (or None for no limit)")
    if req.min_jp < 0 or req.max_items < 1 or not req.time_limit > 0:
        raise ValueError("min_jp must be >= 0, max_items >= 1 and time_limit > 0")


def _check_sessions(req: PlanRequest, ids: pd.Index) -> pd.DataFrame:
    """Sessions of the candidates with ``seats_left`` and ``row``; ValueError if malformed."""
    s = req.sessions
    seats = "seats_left" if "seats_left" in s.columns else "seats"
    missing = [c for c in (*SESSION_COLUMNS, seats) if c not in s.columns]
    if missing:
        raise ValueError(f"sessions is missing columns {missing} (and seats_left or seats)")
    if s["session_id"].duplicated().any():
        raise ValueError("sessions.session_id must be unique")
    start, end = pd.to_datetime(s["start_date"]), pd.to_datetime(s["end_date"])
    if start.isna().any() or end.isna().any() or (end < start).any():
        raise ValueError("every session needs a start_date and an end_date on or after it")
    row = ids.get_indexer(pd.Index(s["program_id"]))
    left = pd.to_numeric(s[seats], errors="coerce").fillna(0).to_numpy(float)
    out = pd.DataFrame(
        {
            "session_id": s["session_id"].astype(str).to_numpy(),
            "row": row,
            "start": start.dt.normalize().to_numpy(),
            "end": end.dt.normalize().to_numpy(),
            "seats_left": left,
        }
    )
    return out[out["row"] >= 0].reset_index(drop=True)


def check(req: PlanRequest) -> Checked:
    """Validate ``req`` and align it; raises ValueError on inconsistent shapes, missing or
    duplicated ids, missing columns, negative JP or cost, bad dates, limits or language."""
    _check_limits(req)
    c = len(req.competency_ids)
    levels = _vector("levels", req.levels, c)
    vectors = {
        name: _vector(name, getattr(req, name), c) for name in ("required", "weight", "priority")
    }
    if (req.target_required is None) != (req.target_weight is None):
        raise ValueError("target_required and target_weight go together (both or neither)")
    p = req.programs
    missing = [col for col in PROGRAM_COLUMNS if col not in p.columns]
    if missing:
        raise ValueError(f"programs is missing columns {missing}")
    ids = pd.Index(p["program_id"].astype(str))
    if ids.has_duplicates:
        raise ValueError("programs.program_id must be unique")
    gain, target = np.asarray(req.gain, dtype=float), np.asarray(req.target, dtype=float)
    if gain.shape != (len(p), c) or target.shape != (len(p), c):
        raise ValueError(
            f"gain and target must be programmes x competencies {(len(p), c)}, "
            f"got {gain.shape} and {target.shape}"
        )
    score = (
        pd.to_numeric(p["score"], errors="coerce").to_numpy(float, na_value=np.nan)
        if "score" in p.columns
        else np.full(len(p), np.nan)
    )
    return Checked(
        req,
        levels,
        vectors["required"],
        vectors["weight"],
        _vector("target_required", req.target_required, c),
        _vector("target_weight", req.target_weight, c),
        vectors["priority"],
        gain,
        target,
        _numbers(p, "jp"),
        _numbers(p, "cost_idr"),
        p["classical"].astype(bool).to_numpy(),
        score,
        _check_sessions(req, ids),
    )
