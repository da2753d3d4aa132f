"""The plan as a small mixed-integer programme (scipy.optimize.milp / HiGHS), and the diagnosis
when no plan fits.

Variables: one binary x_o per option o (a programme in one of its sessions, or "any time" for a
session-free programme; :mod:`recommender.plans.options`) and, per gap competency k, the levels
closed toward the current position z_k in [0, g_k] and toward the likely next position z'_k in
[0, g'_k].

Objective (maximised)::

    sum_k (1 + priority_k) * (w_k * z_k + w'_k * z'_k)                  priority-weighted gap closed
  + sum_o x_o * (RANK_WEIGHT * (s_o - 1) - COST_TIE * cost_o / max cost)  ranker and cost tie-breaks

with w, w' the weights of the current and of the likely next position's standard (the caller
scales w'; :func:`~recommender.plans.build.plan_for` uses half), delta, tau, g as in
:mod:`recommender.plans.options`, max cost the dearest option's cost, and s_o the ranker score
scaled to 0-1 over the candidates (1 = best; 1 for all when there are no scores). The bonus
is written as a penalty below the best-ranked candidate so that it orders programmes without
ever rewarding an item for being there: an item with no gap to close enters the plan only to
meet a constraint (JP, non-classical).

Gap closed, linearised per programme: z_k <= sum_o delta_ok x_o (own raises add up),
z_k <= g_k (not beyond the gap) and z_k <= max over chosen o of tau_ok (not beyond the highest
target level taken; written without extra variables as, for each ceiling L < g_k among the
tau_ok: z_k - sum_{o: tau_ok > L} (g_k - L) x_o <= L); the same for z'_k. This is exact for a
single programme per competency and an upper bound of the effect model otherwise (each step of
the effect model adds at most its own delta and never goes above the highest target taken). It
caps the total at the highest target level taken, not each programme at its own: from level 2,
two courses each adding 0.3 up to level 2.5 and one adding 0.1 up to level 4 close 0.7 in the
bound but 0.6 in the effect model. The effect model also depends on the order (a course up to
3 taken after one up to 4 adds nothing); the bound is never below the best order, while the plan's
items follow the calendar. The plan's reported ``gap_closed`` applies the effect model exactly,
in the order of the items.

Constraints: sum jp_o x_o >= min_jp; sum cost_o x_o <= budget (when set); sum x_o <= max_items;
at most one option per programme; options sharing a day at most one (overlapping sessions); at
least one non-classical option when some non-classical option fits the budget on its own (if
no plan then exists, the plan is solved again without it and says so). Options exist only for
sessions with seats left, so seats > 0 holds by construction.

Infeasible: the reason is diagnosed with two more small programmes — the cheapest way to
``min_jp`` without the budget (then "the budget cannot reach 20 JP: the cheapest way is ... at
Rp ...") and, when even that fails, the most JP the calendar and ``max_items`` allow.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Final

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from recommender.plans.model import Checked
from recommender.plans.options import Options, overlap_groups

RANK_WEIGHT: Final = 0.2
COST_TIE: Final = 0.01
MIP_REL_GAP: Final = 1e-7
#: Costs enter the constraints in millions of rupiah (numerically tidier).
MONEY: Final = 1e6
_EPS: Final = 1e-9


@dataclass
class Rows:
    """Sparse constraint rows lb <= A x <= ub, collected one at a time."""

    n_vars: int
    cols: list[np.ndarray] = field(default_factory=list)
    vals: list[np.ndarray] = field(default_factory=list)
    lb: list[float] = field(default_factory=list)
    ub: list[float] = field(default_factory=list)

    def add(self, cols: np.ndarray, vals: np.ndarray | float, lb: float, ub: float) -> None:
        """Append the row ``lb <= sum vals * x[cols] <= ub``."""
        cols = np.asarray(cols, dtype=int)
        self.cols.append(cols)
        self.vals.append(np.broadcast_to(np.asarray(vals, dtype=float), cols.shape).copy())
        self.lb.append(lb)
        self.ub.append(ub)

    def constraint(self) -> LinearConstraint | None:
        """The rows as one LinearConstraint (None when there are none)."""
        if not self.cols:
            return None
        row = np.repeat(np.arange(len(self.cols)), [len(c) for c in self.cols])
        a = sparse.csr_array(
            (np.concatenate(self.vals), (row, np.concatenate(self.cols))),
            shape=(len(self.cols), self.n_vars),
        )
        return LinearConstraint(a, np.array(self.lb), np.array(self.ub))


@dataclass(frozen=True)
class Result:
    """Outcome of one solver call: chosen option indices (None when no solution), status
    (``optimal``, ``time_limit``, ``infeasible`` or ``failed``), objective, seconds, message."""

    chosen: np.ndarray | None
    status: str
    objective: float
    seconds: float
    message: str


def structure(opts: Options, n_vars: int, max_items: int) -> Rows:
    """Rows every model shares: at most ``max_items`` options, one per programme, one per set
    of options sharing a day."""
    rows = Rows(n_vars)
    o = len(opts)
    rows.add(np.arange(o), 1.0, 0.0, float(max_items))
    for r in np.unique(opts.row):
        same = np.flatnonzero(opts.row == r)
        if len(same) > 1:
            rows.add(same, 1.0, 0.0, 1.0)
    for group in overlap_groups(opts):
        rows.add(group, 1.0, 0.0, 1.0)
    return rows


def _ceiling_rows(rows: Rows, col: int, gap: float, tau: np.ndarray) -> None:
    """z <= max tau over chosen options, for one z column (see module docstring)."""
    for level in np.unique(np.concatenate([[0.0], tau])):
        if level >= gap - _EPS:
            continue
        above = np.flatnonzero(tau > level + _EPS)
        rows.add(
            np.concatenate([[col], above]),
            np.concatenate([[1.0], np.full(len(above), -(gap - level))]),
            -np.inf,
            float(level),
        )


def _gap_rows(rows: Rows, opts: Options) -> None:
    """z_k <= sum delta x and the ceiling rows, for z (current) and z' (next position)."""
    o, k = len(opts), len(opts.comps)
    for j in range(k):
        touching = np.flatnonzero(opts.delta[:, j] > 0)
        for col, gap, tau in (
            (o + j, opts.gap[j], opts.tau[:, j]),
            (o + k + j, opts.gap_t[j], opts.tau_t[:, j]),
        ):
            if gap <= 0:
                continue
            rows.add(
                np.concatenate([[col], touching]),
                np.concatenate([[1.0], -opts.delta[touching, j]]),
                -np.inf,
                0.0,
            )
            _ceiling_rows(rows, col, gap, tau)


def run(
    c: np.ndarray,
    n_binary: int,
    upper: np.ndarray,
    rows: Rows,
    time_limit: float,
) -> Result:
    """Minimise ``c @ v`` with v[:n_binary] binary and the rest continuous in [0, upper]."""
    integrality = np.zeros(len(c))
    integrality[:n_binary] = 1
    bounds_ub = np.concatenate([np.ones(n_binary), upper])
    cons = rows.constraint()
    start = time.perf_counter()
    res = milp(
        c,
        integrality=integrality,
        bounds=Bounds(np.zeros(len(c)), bounds_ub),
        constraints=[] if cons is None else [cons],
        options={"time_limit": time_limit, "mip_rel_gap": MIP_REL_GAP},
    )
    seconds = time.perf_counter() - start
    status = {0: "optimal", 1: "time_limit", 2: "infeasible"}.get(int(res.status), "failed")
    if res.x is None:
        return Result(None, status, float("nan"), seconds, str(res.message))
    chosen = np.flatnonzero(np.asarray(res.x)[:n_binary] > 0.5)
    return Result(chosen, status, float(-res.fun), seconds, str(res.message))


def solve_plan(ck: Checked, opts: Options, bonus: np.ndarray, require_nc: bool) -> Result:
    """The plan model (module docstring); ``bonus`` (O,) scaled ranker scores."""
    o, k = len(opts), len(opts.comps)
    scale = max(float(opts.cost.max(initial=0.0)), 1.0)
    c = np.concatenate(
        [
            -(RANK_WEIGHT * (bonus - 1.0) - COST_TIE * opts.cost / scale),
            -opts.value,
            -opts.value_t,
        ]
    )
    rows = structure(opts, len(c), ck.req.max_items)
    x = np.arange(o)
    if ck.req.min_jp > 0:
        rows.add(x, opts.jp, float(ck.req.min_jp), np.inf)
    if ck.req.budget is not None:
        rows.add(x, opts.cost / MONEY, -np.inf, ck.req.budget / MONEY + _EPS)
    if require_nc:
        rows.add(np.flatnonzero(~opts.classical), 1.0, 1.0, np.inf)
    _gap_rows(rows, opts)
    upper = np.concatenate([opts.gap, opts.gap_t]) if k else np.zeros(0)
    return run(c, o, upper, rows, ck.req.time_limit)


def cheapest(ck: Checked, opts: Options) -> Result:
    """The cheapest set of options reaching ``min_jp`` (no budget, no non-classical rule);
    fewer items among equally cheap ones. ``objective`` is minus the cost in millions."""
    c = opts.cost / MONEY + 1e-6
    rows = structure(opts, len(c), ck.req.max_items)
    rows.add(np.arange(len(opts)), opts.jp, float(ck.req.min_jp), np.inf)
    return run(c, len(opts), np.zeros(0), rows, ck.req.time_limit)


def most_jp(ck: Checked, opts: Options) -> Result:
    """The most JP any set of options reaches within ``max_items`` and the calendar
    (``objective`` = that JP)."""
    c = -opts.jp.astype(float)
    rows = structure(opts, len(c), ck.req.max_items)
    return run(c, len(opts), np.zeros(0), rows, ck.req.time_limit)
