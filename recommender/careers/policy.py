"""The ranking policy for next positions: posts a person can reach get a share of the top.

A candidate post is *flagged* (:func:`attainable_advancing`) when it is advancing (a higher tier:
``tier_step > 0``) and attainable: the career pattern lets the person move there now or within
the horizon (:mod:`recommender.careers.horizon`, :data:`HORIZON_MONTHS` months; the same verdict
answer items carry as ``eligible_within_horizon``). :func:`served_scores` applies
:func:`recommender.ranking_policy.policy_scores` with the person as the group: at least
``min(m, 3)`` flagged posts in the top 10 (a shorter answer scales the guarantee:
:func:`recommender.ranking_policy.policy_cut`), spread over the top rather than at its bottom
(:data:`SPREAD`: the j-th best flagged post at rank 3j or better, ranks 3, 6 and 9 of a top
10; an answer of 5 keeps 2 of them at ranks 3 and 5: the deadlines are capped so the later
ones fit, :func:`recommender.ranking_policy.deadlines`). A flagged post below its deadline is
inserted there and the posts it passes shift down by one; the others keep the ranker's order.
Aspirational posts (advancing, not attainable yet) are not removed: they keep their relative
place, and each keeps its verdict with a horizon and, when path options are given, its path to
eligible.

The order is the policy's; the score an answer item carries stays the ranker's, so a post the
policy moved up can show a lower score than the one below it (the values of
:func:`served_scores` only order the rows). ``next_positions`` (service and batch), the careers
evaluation and the careers fairness measure call the same functions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommender.careers.horizon import HORIZON_MONTHS, Horizons, horizons
from recommender.careers.rules import RuleSet
from recommender.ranking_policy import guarantee_met, policy_cut, policy_scores

#: Positions: the j-th best attainable advancing post at rank SPREAD * j or better (issue 18:
#: attainable posts ahead of aspirational ones, not at the bottom of the top 10).
SPREAD = 3


def attainable_advancing(
    *,
    rules: RuleSet,
    frame: pd.DataFrame,
    at: pd.Timestamp | str,
    months: int = HORIZON_MONTHS,
    found: Horizons | None = None,
) -> np.ndarray:
    """bool (n,): each candidate row of ``frame`` is advancing and eligible within ``months``.

    ``frame``: a candidate frame of
    :func:`~recommender.careers.features.candidate_frame` built with ``detail=True`` (the pair
    columns the horizon reads), decided on ``at`` (the snapshot date); ``found``: the frame's
    :func:`~recommender.careers.horizon.horizons` when the caller has them already (the service
    reuses them for the answer items). Raises KeyError naming a missing column and ValueError
    for a negative ``months``.
    """
    if len(frame) == 0:
        return np.zeros(0, dtype=bool)
    advancing = frame["tier_step"].to_numpy(float) > 0
    found = horizons(rules, frame, at) if found is None else found
    within = found.within(months=months)
    out: np.ndarray = advancing & within
    return out


def served_scores(
    *, group: np.ndarray, score: np.ndarray, flagged: np.ndarray, k: int
) -> np.ndarray:
    """Values whose descending stable order within each ``group`` (n,) is the served order of
    an answer of ``k`` positions: :func:`~recommender.ranking_policy.policy_scores` with
    :func:`~recommender.ranking_policy.policy_cut` of ``k`` and ``spread`` :data:`SPREAD`.
    ``score`` (n,) finite, ``flagged`` (n,) from :func:`attainable_advancing`. Returns float
    (n,): ``score`` for a person whose order needs no move, order keys below the unchanged
    prefix otherwise (not scores to show). Raises ValueError for unequal lengths, a non-finite
    score or ``k`` < 1."""
    top, guarantee = policy_cut(k=k)
    return policy_scores(
        group=group, score=score, flagged=flagged, k=top, guarantee=guarantee, spread=SPREAD
    )


def served_met(*, group: np.ndarray, score: np.ndarray, flagged: np.ndarray, k: int) -> np.ndarray:
    """bool (n_groups,), groups in order of first appearance: the ranker's order of ``score``
    already is the served order of an answer of ``k`` positions (no post moves:
    :func:`~recommender.ranking_policy.guarantee_met` with the arguments of
    :func:`served_scores`). Arrays as :func:`served_scores`; raises ValueError as it does."""
    top, guarantee = policy_cut(k=k)
    return guarantee_met(
        group=group, score=score, flagged=flagged, k=top, guarantee=guarantee, spread=SPREAD
    )
