"""The ranking policy for next positions: posts a person can reach get a share of the top.

A candidate post is *flagged* (:func:`attainable_advancing`) when it is advancing (a higher tier:
``tier_step > 0``) and attainable: the career pattern lets the person move there now or within
the horizon (:mod:`recommender.careers.horizon`, :data:`HORIZON_MONTHS` months; the same verdict
answer items carry as ``eligible_within_horizon``). :func:`served_scores` applies
:func:`recommender.ranking_policy.policy_scores` with the person as the group: at least
``min(m, 3)`` flagged posts in the top 10 (a shorter answer scales the guarantee:
:func:`recommender.ranking_policy.policy_cut`). Aspirational posts (advancing, not attainable
yet) are not removed: they keep their place unless a flagged post takes it, and each keeps its
verdict with a horizon and, when path options are given, its path to eligible.

``next_positions`` (service and batch) and the careers evaluation call the same functions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommender.careers.horizon import HORIZON_MONTHS, Horizons, horizons
from recommender.careers.rules import RuleSet
from recommender.ranking_policy import policy_cut, policy_scores


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
    """Scores whose descending stable order within each ``group`` (n,) is the served order of
    an answer of ``k`` positions: :func:`~recommender.ranking_policy.policy_scores` with
    :func:`~recommender.ranking_policy.policy_cut` of ``k``. ``score`` (n,) finite, ``flagged``
    (n,) from :func:`attainable_advancing`. Returns float (n,). Raises ValueError for unequal
    lengths, a non-finite score or ``k`` < 1."""
    top, guarantee = policy_cut(k=k)
    return policy_scores(group=group, score=score, flagged=flagged, k=top, guarantee=guarantee)
