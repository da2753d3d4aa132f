"""The ranking policy: every person sees some of what they can reach (issue 18, part 1).

A ranker orders each person's candidates by score. The policy keeps that order, except that
when fewer than ``min(m, guarantee)`` *flagged* candidates (positions: advancing and attainable;
programmes: closing a gap of the likely next post) are in the person's top ``k`` (``m``: the
person's number of flagged candidates), the best-scored flagged candidates below the top ``k``
move into it, each replacing the lowest-ranked unflagged candidate of the top ``k``. Everything
else keeps its relative order: the new top ``k`` is the old one with the replaced candidates
swapped for the moved ones, in score order (so the moved ones sit at its bottom), and the
replaced candidates lead the rest.

With ``spread`` (positions use 3, :mod:`recommender.careers.policy`) the moved candidates are
placed higher: the j-th best flagged candidate (j = 1..``min(m, guarantee, k)``) must be at rank
``spread * j`` or better (3, 6, 9 in a top 10), capped so the later ones still fit in the top
``k`` (:func:`deadlines`). A flagged candidate ranked below its deadline is inserted at the
deadline and the candidates it passes shift down by one; every other candidate keeps its
relative order, ties included. The count guarantee follows (the last deadline is at most
``k``). Without ``spread`` the deadline of the j-th is ``k - min(m, guarantee, k) + j``, which is
the bottom placement above.

One function, :func:`policy_scores`, vectorised over many people; the service (one person), the
batch and the evaluation (everyone) call it alike, so the evaluation measures the served order.
Ties keep the input order, as the stable sorts of the service and of
:func:`training.metrics.ranked` do. :func:`policy_cut` says which ``k`` and ``guarantee`` an
answer of ``k`` items uses.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

#: The policy's defaults (issue 18): at least min(m, 3) flagged candidates in the top 10.
POLICY_TOP = 10
POLICY_GUARANTEE = 3


def policy_cut(
    *, k: int, top: int = POLICY_TOP, guarantee: int = POLICY_GUARANTEE
) -> tuple[int, int]:
    """The (``k``, ``guarantee``) the policy uses for an answer of ``k`` items.

    An answer of ``top`` items or more uses the policy's definition (``guarantee`` in the first
    ``top``; the answer is a prefix of that order). A shorter answer keeps the nearest share in
    its own top ``k``: ``guarantee * k / top`` rounded half up (with the defaults: 0 of 1, 1 of
    2-4, 2 of 5-8, 3 of 9-10), so a default answer of 5 shows something reachable and a single
    best guess (e.g. the plan's likely next post) stays the ranker's. Raises ValueError for
    ``k`` or ``top`` below 1 or a negative ``guarantee``.
    """
    if k < 1 or top < 1 or guarantee < 0:
        raise ValueError(f"need k >= 1, top >= 1, guarantee >= 0; got {k}, {top}, {guarantee}")
    if k >= top:
        return top, guarantee
    return k, min(k, math.floor(guarantee * k / top + 0.5))


def _checked(
    group: np.ndarray,
    score: np.ndarray,
    flagged: np.ndarray,
    k: int,
    guarantee: int,
    spread: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``score`` as float and ``flagged`` as bool arrays; raises ValueError (unequal lengths, a
    non-finite score, ``k`` < 1, ``guarantee`` < 0, ``spread`` < 1)."""
    if spread is not None and spread < 1:
        raise ValueError(f"need spread >= 1 (or None), got {spread}")
    score = np.asarray(score, dtype=float)
    flagged = np.asarray(flagged, dtype=bool)
    n = len(score)
    if len(group) != n or len(flagged) != n:
        raise ValueError(
            f"group, score, flagged differ in length: {len(group)}, {n}, {len(flagged)}"
        )
    if k < 1 or guarantee < 0:
        raise ValueError(f"need k >= 1 and guarantee >= 0, got k={k}, guarantee={guarantee}")
    if not np.isfinite(score).all():
        raise ValueError("score holds NaN or infinite values")
    return score, flagged


def _sorted_groups(codes: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Input rows by group, then descending score, then input order; and the group starts."""
    n = len(score)
    order = np.lexsort((np.arange(n), -score, codes))
    g = codes[order]
    starts = np.r_[0, np.flatnonzero(np.diff(g)) + 1] if n else np.zeros(0, int)
    return order, starts


def _layout(
    group: np.ndarray, score: np.ndarray, flagged: np.ndarray, k: int, guarantee: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The rows sorted for the policy (``n`` > 0): (group codes in first-appearance order,
    the sort order of :func:`_sorted_groups`, group starts and sizes over the sorted rows, the
    sorted flags, and each group's ``need``: min(flagged rows, ``guarantee``, ``k``))."""
    codes = pd.factorize(np.asarray(group), sort=False)[0]
    order, starts = _sorted_groups(codes, score)
    sizes = np.diff(np.r_[starts, len(score)])
    f = flagged[order]
    need = np.minimum(np.add.reduceat(f.astype(int), starts), min(guarantee, k))
    return codes, order, starts, sizes, f, need


def _within(values: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Inclusive running count of ``values`` (bool, sorted rows) within each group."""
    c = np.cumsum(values)
    base = np.repeat(c[starts] - values[starts], sizes)
    out: np.ndarray = c - base
    return out


def _moves(
    f: np.ndarray, top: np.ndarray, starts: np.ndarray, sizes: np.ndarray, need: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(promote, demote) masks over the sorted rows for a per-group ``need``."""
    have = np.add.reduceat((f & top).astype(int), starts)
    deficit = np.repeat(np.maximum(need - have, 0), sizes)
    have_r = np.repeat(have, sizes)
    # flagged rows below the top, best first: rank among flagged rows is have, have+1, ...
    promote = f & ~top & (_within(f, starts, sizes) <= have_r + deficit)
    spare = ~f & top  # unflagged rows of the top, replaced from the bottom up
    after = np.repeat(np.add.reduceat(spare.astype(int), starts), sizes) - _within(
        spare, starts, sizes
    )
    demote = spare & (after < deficit)
    return promote, demote


def policy_scores(
    *,
    group: np.ndarray,
    score: np.ndarray,
    flagged: np.ndarray,
    k: int = POLICY_TOP,
    guarantee: int = POLICY_GUARANTEE,
    spread: int | None = None,
) -> np.ndarray:
    """Scores whose descending order within each group is the policy order (module docstring).

    ``group`` (n,): the person of each row, any hashable values; rows of one group need not be
    contiguous. ``score`` (n,) finite floats, ``flagged`` (n,) bools. The order of a group is
    the descending score with ties in input order (a stable sort); its top ``k`` is the first
    ``k`` of that order. ``spread`` None: the moved rows sit at the bottom of the top ``k``;
    an int: the spread placement (module docstring: the j-th flagged row at rank at most
    :func:`deadlines`). Returns float (n,), aligned with the input: equal to ``score`` for
    every row of a group that needs no move. In a group that does, without ``spread`` the rows
    of the new top ``k`` keep their score and the others get values strictly below the group's
    new top ``k`` with their order and ties kept; with ``spread`` the rows ahead of the first
    moved row keep their score and the others, from that rank on, get strictly decreasing
    values below them, one per rank (so a moved row's value is not its score: serve the
    ranker's score beside the policy order). Exact while ``|score| < 1e12``. Sorting the result
    descending and stably within a group gives the policy order. Raises ValueError for arrays
    of unequal length, a non-finite score, ``k`` < 1, ``guarantee`` < 0 or ``spread`` < 1.
    """
    score, flagged = _checked(group, score, flagged, k, guarantee, spread)
    n = len(score)
    out = score.copy()
    if n == 0 or guarantee == 0:
        return out
    codes, order, starts, sizes, f, need = _layout(group, score, flagged, k, guarantee)
    s = score[order]
    if spread is None:
        s = _bottom(s, f, codes[order], starts, sizes, need, k)
    else:
        s = _spread(s, f, codes[order], starts, sizes, need, k, spread)
    out[order] = s
    return out


def _bottom(
    s: np.ndarray,
    f: np.ndarray,
    g: np.ndarray,
    starts: np.ndarray,
    sizes: np.ndarray,
    need: np.ndarray,
    k: int,
) -> np.ndarray:
    """Policy values of the sorted rows (``s`` scores, ``f`` flags, ``g`` group codes) with the
    moved rows at the bottom of the top ``k``; ``s`` when no group needs a move."""
    pos = np.arange(len(s)) - np.repeat(starts, sizes)
    top = pos < k
    promote, demote = _moves(f, top, starts, sizes, need)
    touched = np.repeat(np.add.reduceat(promote.astype(int), starts) > 0, sizes)
    if not touched.any():
        return s
    s = s.copy()
    new_top = (top & ~demote) | promote
    floor = np.minimum.reduceat(np.where(new_top, s, np.inf), starts)
    floor = np.repeat(floor - np.abs(floor) - 1.0, sizes)  # strictly below the new top
    idx = np.flatnonzero(touched & ~new_top)
    s[idx] = floor[idx] - _dense_rank(s[idx], g[idx])
    return s


def _pinned(
    f: np.ndarray,
    starts: np.ndarray,
    sizes: np.ndarray,
    need: np.ndarray,
    k: int,
    spread: int | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Over the sorted rows: (pinned: the group's best ``need`` flagged rows; their flagged
    rank j (1-based, 0 elsewhere); their deadline, the 1-based rank they must reach: the
    :func:`deadlines` of j, ``k`` - ``need`` + j without ``spread``)."""
    j = np.where(f, _within(f, starts, sizes), 0)
    need_r = np.repeat(need, sizes)
    pinned = f & (j <= need_r)
    latest = k - need_r + j  # room for the later pinned rows in the top k
    deadline = latest if spread is None else np.minimum(spread * j, latest)
    return pinned, j, np.where(pinned, deadline, 0)


def _spread(
    s: np.ndarray,
    f: np.ndarray,
    g: np.ndarray,
    starts: np.ndarray,
    sizes: np.ndarray,
    need: np.ndarray,
    k: int,
    spread: int,
) -> np.ndarray:
    """Policy values of the sorted rows (as :func:`_bottom`) with the spread placement: the
    j-th pinned row goes to rank min(its rank, its deadline) and the other rows fill the
    remaining ranks in their order (an insertion that shifts the rows it passes down by one)."""
    n = len(s)
    pos = np.arange(n) - np.repeat(starts, sizes)  # 0-based rank in the ranker's order
    pinned, j, deadline = _pinned(f, starts, sizes, need, k, spread)
    moved = pinned & (pos + 1 > deadline)
    if not moved.any():
        return s
    # a pinned row ends at rank p (1-based) with p - j other rows ahead of it: it sorts just
    # before the other row of that count; the other rows keep their order
    rest = _within(~pinned, starts, sizes) - 1
    key = np.where(pinned, np.minimum(pos + 1, deadline) - j - 0.5, rest)
    new = np.lexsort((key, g))  # g is sorted: groups stay in place, stable ties
    first = np.minimum.reduceat(np.where(moved, deadline - 1, n), starts)  # 0-based rank
    first_r = np.repeat(first, sizes)
    ranked = s[new]
    keep = pos < first_r  # ranks ahead of the first moved row: unchanged rows
    base = np.maximum.reduceat(np.where(keep, -np.inf, ranked), starts)  # no prefix: the max
    prefix = np.minimum.reduceat(np.where(keep, ranked, np.inf), starts)
    base = np.where(np.isfinite(prefix), prefix, base)
    floor = np.repeat(base - np.abs(base) - 1.0, sizes)
    touched = np.repeat(first < n, sizes)
    values = np.where(touched & ~keep, floor - (pos - first_r), ranked)
    out = np.empty(n)
    out[new] = values
    return out


def _dense_rank(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """0-based dense rank of ``values`` (sorted descending within each run of ``groups``)."""
    if len(values) == 0:
        return np.zeros(0)
    first = np.r_[True, groups[1:] != groups[:-1]]
    step = first | np.r_[True, values[1:] != values[:-1]]
    dense = np.cumsum(step)
    base = np.maximum.accumulate(np.where(first, dense, 0))
    out: np.ndarray = (dense - base).astype(float)
    return out


def deadlines(*, need: int, k: int = POLICY_TOP, spread: int | None = None) -> list[int]:
    """The 1-based rank the j-th best flagged row (j = 1..``need``) must reach in a group that
    guarantees ``need`` flagged rows in its top ``k``: ``min(spread * j, k - need + j)`` (the
    second term leaves room for the later ones, so an answer shorter than ``spread * need``
    caps the last deadlines at its end: ``k`` 5, ``need`` 2, ``spread`` 3 gives [3, 5]);
    without ``spread``, ``k - need + j`` (the bottom of the top ``k``). Raises ValueError for
    ``need`` outside [0, ``k``] or ``spread`` < 1."""
    if not 0 <= need <= k or (spread is not None and spread < 1):
        raise ValueError(f"need 0 <= need <= k and spread >= 1; got {need}, {k}, {spread}")
    return [
        k - need + j if spread is None else min(spread * j, k - need + j)
        for j in range(1, need + 1)
    ]


def guarantee_met(
    *,
    group: np.ndarray,
    score: np.ndarray,
    flagged: np.ndarray,
    k: int = POLICY_TOP,
    guarantee: int = POLICY_GUARANTEE,
    spread: int | None = None,
) -> np.ndarray:
    """Whether each group's order by ``score`` (descending, ties in input order) already is the
    policy's: its top ``k`` holds at least ``min(m, guarantee, k)`` flagged rows (``m``: the
    group's flagged rows) and, with ``spread``, the j-th of them is at rank
    :func:`deadlines` j or better. Arrays as :func:`policy_scores`. Returns bool (n_groups,),
    one entry per distinct ``group`` value in order of first appearance. Raises ValueError as
    :func:`policy_scores`."""
    score, flagged = _checked(group, score, flagged, k, guarantee, spread)
    n = len(score)
    if n == 0:
        return np.zeros(0, dtype=bool)
    _codes, _order, starts, sizes, f, need = _layout(group, score, flagged, k, guarantee)
    pos = np.arange(n) - np.repeat(starts, sizes)
    pinned, _, deadline = _pinned(f, starts, sizes, need, k, spread)
    late = np.add.reduceat((pinned & (pos + 1 > deadline)).astype(int), starts)
    out: np.ndarray = late == 0  # sorted groups are in code order, codes in first appearance
    return out
