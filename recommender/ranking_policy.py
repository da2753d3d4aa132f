"""The ranking policy: every person sees some of what they can reach (issue 18, part 1).

A ranker orders each person's candidates by score. The policy keeps that order, except that
when fewer than ``min(m, guarantee)`` *flagged* candidates (positions: advancing and attainable;
programmes: closing a gap of the likely next post) are in the person's top ``k`` (``m``: the
person's number of flagged candidates), the best-scored flagged candidates below the top ``k``
move into it, each replacing the lowest-ranked unflagged candidate of the top ``k``. Everything
else keeps its relative order: the new top ``k`` is the old one with the replaced candidates
swapped for the moved ones, in score order (so the moved ones sit at its bottom), and the
replaced candidates lead the rest.

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
    group: np.ndarray, score: np.ndarray, flagged: np.ndarray, k: int, guarantee: int
) -> tuple[np.ndarray, np.ndarray]:
    """``score`` as float and ``flagged`` as bool arrays; raises ValueError (unequal lengths, a
    non-finite score, ``k`` < 1, ``guarantee`` < 0)."""
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
) -> np.ndarray:
    """Scores whose descending order within each group is the policy order (module docstring).

    ``group`` (n,): the person of each row, any hashable values; rows of one group need not be
    contiguous. ``score`` (n,) finite floats, ``flagged`` (n,) bools. The order of a group is
    the descending score with ties in input order (a stable sort); its top ``k`` is the first
    ``k`` of that order. Returns float (n,), aligned with the input: equal to ``score`` for
    every row of a group that needs no move; in a group that does, the rows of the new top ``k``
    keep their score and the others get values strictly below the group's new top ``k`` with
    their order and ties kept (exact while ``|score| < 1e12``). Sorting the result descending
    and stably within a group gives the policy order. Raises ValueError for arrays of unequal
    length, a non-finite score, ``k`` < 1 or ``guarantee`` < 0.
    """
    score, flagged = _checked(group, score, flagged, k, guarantee)
    n = len(score)
    out = score.copy()
    if n == 0 or guarantee == 0:
        return out
    codes = pd.factorize(np.asarray(group), sort=False)[0]
    order, starts = _sorted_groups(codes, score)
    sizes = np.diff(np.r_[starts, n])
    pos = np.arange(n) - np.repeat(starts, sizes)
    f, s = flagged[order], score[order]
    top = pos < k
    need = np.minimum(np.add.reduceat(f.astype(int), starts), min(guarantee, k))
    promote, demote = _moves(f, top, starts, sizes, need)
    touched = np.repeat(np.add.reduceat(promote.astype(int), starts) > 0, sizes)
    if not touched.any():
        return out
    new_top = (top & ~demote) | promote
    floor = np.minimum.reduceat(np.where(new_top, s, np.inf), starts)
    floor = np.repeat(floor - np.abs(floor) - 1.0, sizes)  # strictly below the new top
    below = touched & ~new_top
    idx = np.flatnonzero(below)
    s[idx] = floor[idx] - _dense_rank(s[idx], codes[order][idx])
    out[order] = s
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


def guarantee_met(
    *,
    group: np.ndarray,
    score: np.ndarray,
    flagged: np.ndarray,
    k: int = POLICY_TOP,
    guarantee: int = POLICY_GUARANTEE,
) -> np.ndarray:
    """Whether each group's top ``k`` by ``score`` (descending, ties in input order) holds at
    least ``min(m, guarantee, k)`` flagged rows (``m``: the group's flagged rows): the check the
    policy makes true. Arrays as :func:`policy_scores`. Returns bool (n_groups,), one entry per
    distinct ``group`` value in order of first appearance. Raises ValueError as
    :func:`policy_scores`."""
    score, flagged = _checked(group, score, flagged, k, guarantee)
    n = len(score)
    if n == 0:
        return np.zeros(0, dtype=bool)
    codes = pd.factorize(np.asarray(group), sort=False)[0]
    order, starts = _sorted_groups(codes, score)
    sizes = np.diff(np.r_[starts, n])
    top = (np.arange(n) - np.repeat(starts, sizes)) < k
    f = flagged[order]
    have = np.add.reduceat((f & top).astype(int), starts)
    need = np.minimum(np.add.reduceat(f.astype(int), starts), min(guarantee, k))
    out: np.ndarray = have >= need  # sorted groups are in code order, codes in first appearance
    return out
