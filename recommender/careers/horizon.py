"""The career-pattern verdict with a horizon: eligible now, or from which date, and why.

The same rules and the same (person, target) pair columns as
:mod:`recommender.careers.eligibility`; for every applying rule each condition gets the number
of days from the decision date ``at`` until it is met under an explicit projection:

- ``years_in_post`` accrues day by day: met ``(need - has) x 365.25`` days later (the snapshot
  measures tenure in days / 365.25); an unknown tenure is never dated;
- ``rating`` accrues as yearly ratings arrive: the rating of a year is known on 1 January of the
  next year (the snapshot's convention), and each new one pushes the oldest out of the last
  ``rating_years``. Future ratings are assumed equal to the person's last recorded rating
  (``p_last_rating``); with none recorded, or one below the minimum, a failing window is never
  dated;
- ``grade`` accrues by regular promotion (*kenaikan pangkat reguler*, domain.md: at least
  :data:`GRADE_STEP_YEARS` years in rank), one step each, only up to the top grade of the current
  post (``p_max_grade_rank``); years already in the grade come from ``p_years_in_grade`` when the
  pairs carry it, else 0 (the latest date);
- ``credit_points`` (JF tier promotion, domain.md 2.4) accrue at the yearly coefficient of the
  tier times the share of the last recorded rating (Baik 100 %, Sangat Baik 150 %, ...), pro
  rata; unknown points or no rating on record are never dated;
- ``education``, ``training`` (a required course not on record), ``vacancy`` (no open post:
  formasi is not projected) and ``age`` (it only gets worse) do not accrue: a pair failing one is
  never dated. An age cap is also checked at the projected date.

A rule's date is the latest of its conditions' dates; a pair's is the earliest over its applying
rules (0 days = eligible now, which agrees with
:func:`~recommender.careers.eligibility.check_pairs`).
A pair no rule can make eligible by time alone keeps the rule that explains the verdict
(fewest failed conditions), with its conditions' dates where they exist.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recommender.careers.eligibility import (
    AK_PER_YEAR,
    AK_RATING_SHARE,
    CONDITIONS,
    applies,
    check_pairs,
    credit_points,
    credit_points_needed,
    grade_needed,
)
from recommender.careers.eligibility import rule_failures as failures
from recommender.careers.rules import RATINGS, Rule, RuleSet

#: Conditions that time can meet, and those it cannot.
ACCRUING = ("years_in_post", "rating", "grade", "credit_points")
FIXED = tuple(c for c in CONDITIONS if c not in ACCRUING)
#: Years in rank before a regular promotion (domain.md 2.3: at least 4 years).
GRADE_STEP_YEARS = 4.0
#: The horizon the verdict reports by default ("eligible within 12 months").
HORIZON_MONTHS = 12
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class Horizons:
    """Vectorised result, one entry per pair: ``rule`` index into ``RuleSet.rules`` behind the
    date (-1: no rule covers the move), ``days`` from ``at`` until eligible (0 = now, inf = not
    by time alone), ``met_in`` per condition of
    :data:`~recommender.careers.eligibility.CONDITIONS` the days until it is met under ``rule``
    (0 = met now, inf = not by time alone)."""

    at: pd.Timestamp
    rule: np.ndarray
    days: np.ndarray
    met_in: dict[str, np.ndarray]

    @property
    def eligible_now(self) -> np.ndarray:
        """bool (n_pairs,): every condition of some applying rule is met on ``at``."""
        out: np.ndarray = self.days == 0
        return out

    def eligible_by(self) -> np.ndarray:
        """datetime64[D] (n_pairs,): the first day of eligibility, NaT when time alone does not
        make the pair eligible."""
        return _dates(self.at, self.days)

    def within(self, *, months: int = HORIZON_MONTHS) -> np.ndarray:
        """bool (n_pairs,): eligible now or at the latest ``months`` months after ``at``.
        Raises ValueError for a negative ``months``."""
        if months < 0:
            raise ValueError(f"months must be 0 or more, got {months}")
        limit = (self.at + pd.DateOffset(months=months) - self.at).days
        out: np.ndarray = self.days <= limit
        return out


def _dates(at: pd.Timestamp, days: np.ndarray) -> np.ndarray:
    start = np.datetime64(at.normalize().date(), "D")
    finite = np.isfinite(days)
    out = np.full(len(days), np.datetime64("NaT"), dtype="datetime64[D]")
    out[finite] = start + days[finite].astype(np.int64).astype("timedelta64[D]")
    return out


def _column(pairs: pd.DataFrame, name: str, default: float) -> np.ndarray:
    if name in pairs:
        return pairs[name].to_numpy(float)
    return np.full(len(pairs), default)


def _tenure_days(rule: Rule, pairs: pd.DataFrame) -> np.ndarray:
    need = rule.conditions.min_years_in_post
    has = pairs["p_years_in_position"].to_numpy(float)
    with np.errstate(invalid="ignore"):
        wait = np.ceil((need - has) * DAYS_PER_YEAR)
        out: np.ndarray = np.where(has >= need, 0.0, np.where(np.isnan(has), np.inf, wait))
    return out


def _rating_days(rule: Rule, pairs: pd.DataFrame, at: pd.Timestamp) -> np.ndarray:
    """Days until the last ``rating_years`` ratings all reach the minimum, with new ratings
    (known each 1 January) equal to the last recorded one."""
    c = rule.conditions
    n = len(pairs)
    if c.min_rating is None:
        return np.zeros(n)
    need = RATINGS.index(c.min_rating)
    window = [pairs[f"p_rating_{k}"].to_numpy(float) for k in range(1, c.rating_years + 1)]
    future_ok = _column(pairs, "p_last_rating", np.nan) >= need
    out = np.full(n, np.inf)
    for j in range(c.rating_years + 1):  # j new ratings arrived
        ok = np.ones(n, bool) if j == 0 else future_ok.copy()
        for r in window[: c.rating_years - j]:
            ok &= r >= need  # NaN (no rating that year) fails
        day = 0.0 if j == 0 else float((pd.Timestamp(year=at.year + j, month=1, day=1) - at).days)
        out = np.where(np.isinf(out) & ok, day, out)
    return out


def _grade_days(rule: Rule, pairs: pd.DataFrame) -> np.ndarray:
    """Days until regular promotions reach the grade the rule needs (within the current post's
    top grade), one step each :data:`GRADE_STEP_YEARS` years in rank."""
    need = grade_needed(rule, pairs)
    if need is None:
        return np.zeros(len(pairs))
    has = pairs["p_grade_rank"].to_numpy(float)
    top = pairs["p_max_grade_rank"].to_numpy(float)
    in_grade = np.nan_to_num(_column(pairs, "p_years_in_grade", 0.0), nan=0.0)
    with np.errstate(invalid="ignore"):
        steps = np.ceil(need - has)
        years = np.maximum(GRADE_STEP_YEARS - in_grade, 0.0) + GRADE_STEP_YEARS * (steps - 1)
        reachable = (need <= top) & np.isfinite(has)
        out: np.ndarray = np.where(
            has >= need, 0.0, np.where(reachable, np.ceil(years * DAYS_PER_YEAR), np.inf)
        )
    return out


def _credit_days(rule: Rule, pairs: pd.DataFrame) -> np.ndarray:
    """Days until the credit points to the next tier are reached at the person's last recorded
    rating (points accrue pro rata over the year: coefficient x the rating's share)."""
    if not rule.conditions.credit_points:
        return np.zeros(len(pairs))
    need, has = credit_points_needed(pairs), credit_points(pairs)
    last = _column(pairs, "p_last_rating", np.nan)
    share = np.array([*AK_RATING_SHARE, np.nan])[np.where(np.isnan(last), -1, last).astype(int)]
    per_year = pairs["p_tier"].map(AK_PER_YEAR).to_numpy(float) * share
    with np.errstate(invalid="ignore", divide="ignore"):
        wait = np.ceil((need - has) / per_year * DAYS_PER_YEAR)
        out: np.ndarray = np.where(
            has >= need, 0.0, np.where(np.isfinite(wait) & (per_year > 0), wait, np.inf)
        )
    return out


def condition_days(rule: Rule, pairs: pd.DataFrame, at: pd.Timestamp) -> dict[str, np.ndarray]:
    """Per condition of :data:`~recommender.careers.eligibility.CONDITIONS`, float (n_pairs,):
    days from ``at`` until the pair meets it under ``rule`` (0 = now, inf = not by time alone;
    the module docstring gives the projection). Raises KeyError naming a missing column."""
    fails = failures(rule, pairs)
    out = {name: np.where(fails[name], np.inf, 0.0) for name in FIXED}
    out["years_in_post"] = _tenure_days(rule, pairs)
    out["rating"] = _rating_days(rule, pairs, at)
    out["grade"] = _grade_days(rule, pairs)
    out["credit_points"] = _credit_days(rule, pairs)
    return out


def _age_ok_on(rule: Rule, pairs: pd.DataFrame, at: pd.Timestamp, days: np.ndarray) -> np.ndarray:
    """The age cap still holds on the projected date (age = year - birth year, as the
    snapshot counts it)."""
    cap = rule.conditions.max_age
    if cap is None:
        return np.ones(len(pairs), bool)
    years = _dates(at, np.where(np.isfinite(days), days, 0.0)).astype("datetime64[Y]")
    later = years.astype(np.int64) + 1970 - at.year
    out: np.ndarray = pairs["p_age"].to_numpy(float) + later <= cap
    return out


def horizons(rules: RuleSet, pairs: pd.DataFrame, at: pd.Timestamp | str) -> Horizons:
    """The verdict with a horizon for every pair (the columns of
    :mod:`recommender.careers.eligibility`, plus ``p_last_rating`` and optionally
    ``p_years_in_grade``) on the date ``at``. Raises KeyError naming a missing column."""
    at = pd.Timestamp(at).normalize()
    n = len(pairs)
    explain = check_pairs(rules, pairs).rule
    best = np.full(n, np.inf)
    rule = np.full(n, -1)
    met = {name: np.full(n, np.inf) for name in CONDITIONS}
    why = {name: np.full(n, np.inf) for name in CONDITIONS}
    for i, r in enumerate(rules.rules):
        mask = applies(r, pairs)
        if not mask.any():
            continue
        days = condition_days(r, pairs, at)
        total = np.max(np.vstack([days[name] for name in CONDITIONS]), axis=0)
        total = np.where(_age_ok_on(r, pairs, at, total), total, np.inf)
        better = mask & (total < best)
        best[better], rule[better] = total[better], i
        mine = explain == i
        for name in CONDITIONS:
            met[name][better] = days[name][better]
            why[name][mine] = days[name][mine]
    never = ~np.isfinite(best)
    rule = np.where(never, explain, rule)
    for name in CONDITIONS:
        met[name] = np.where(never, why[name], met[name])
    return Horizons(at, rule, best, met)


@dataclass(frozen=True)
class PairHorizon:
    """One pair's horizon: ``eligible_now``; ``eligible_by`` (None when time alone does not make
    it eligible); ``pending``: (condition, date met) of each failed condition that time meets,
    earliest first; ``blocked``: failed conditions that time does not meet (``no_rule`` when
    no rule covers the move); ``within``: eligible at the latest ``months`` months after the
    decision date."""

    eligible_now: bool
    eligible_by: pd.Timestamp | None
    pending: tuple[tuple[str, pd.Timestamp], ...]
    blocked: tuple[str, ...]
    months: int = HORIZON_MONTHS
    within: bool = False


def pair_horizon(h: Horizons, i: int, *, months: int = HORIZON_MONTHS) -> PairHorizon:
    """The horizon of pair ``i`` of ``h`` (``within`` ``months``); raises IndexError outside
    the pairs and ValueError for a negative ``months``."""
    start = h.at.normalize()
    pending = sorted(
        (
            (name, start + pd.Timedelta(days=int(h.met_in[name][i])))
            for name in CONDITIONS
            if 0 < h.met_in[name][i] < np.inf
        ),
        key=lambda p: (p[1], p[0]),
    )
    blocked = tuple(name for name in CONDITIONS if h.met_in[name][i] == np.inf)
    days = h.days[i]
    if h.rule[i] < 0:
        blocked = ("no_rule",)
    elif not np.isfinite(days) and not blocked:
        blocked = ("age",)  # every condition met in time, but past the age cap by then
    by = start + pd.Timedelta(days=int(days)) if np.isfinite(days) else None
    within = bool(h.within(months=months)[i])
    return PairHorizon(bool(days == 0), by, tuple(pending), blocked, months, within)
