"""EASE and RP3beta on XuetangX-format interactions, tuned on a slice carved from the train file.

The baselines the issue asks for (``ease``, ``rp3beta``) come from
:mod:`recommender.programs.collab` on the binary learner x course matrix. Their
hyper-parameters are chosen on the train file only: each learner's last course(s) in the train
file are held out (:func:`training.external.xuetangx_data.split_last`), the models are built on
the rest, every course the learner has not taken there is ranked and NDCG@10 of the held-out
courses decides (ties: the smaller, simpler value first in the grid). The test file plays no
part. The chosen values are then used on the whole train file to rank for the test learners,
and as features of the model (:mod:`training.external.xuetangx_features`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from recommender.programs.collab import ease_weights, rp3beta_weights, scores

K = 10
EASE_GRID: tuple[float, ...] = (1.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0)
RP3_ALPHA: tuple[float, ...] = (0.4, 0.6, 0.8, 1.0, 1.2)
RP3_BETA: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
RP3_TOP_K: tuple[int, ...] = (0, 20, 50, 100)


@dataclass(frozen=True)
class Tuned:
    """Chosen hyper-parameters and their validation NDCG@10 / Recall@10 on the carved slice;
    ``grid`` holds every tried setting with its NDCG@10."""

    ease: dict[str, float]
    rp3beta: dict[str, float]
    validation: dict[str, dict[str, float]]
    grid: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def ease_scores(*, taken: np.ndarray, l2: float) -> np.ndarray:
    """EASE scores (learners, courses) float32 of every course from the boolean ``taken``."""
    x = taken.astype(np.float32)
    return scores(history=x, weights=ease_weights(interactions=x, l2=l2))


def rp3_weights(*, taken: np.ndarray, alpha: float, beta: float, top_k: int) -> np.ndarray:
    """RP3beta item x item weights (courses, courses) from the boolean ``taken``."""
    return rp3beta_weights(
        interactions=taken.astype(np.float32), alpha=alpha, beta=beta, top_k=top_k
    )


def rp3_scores(*, taken: np.ndarray, alpha: float, beta: float, top_k: int) -> np.ndarray:
    """RP3beta scores (learners, courses) float32 of every course from the boolean ``taken``."""
    w = rp3_weights(taken=taken, alpha=alpha, beta=beta, top_k=top_k)
    return scores(history=taken.astype(np.float32), weights=w)


def full_ranking_metrics(
    *, score: np.ndarray, taken: np.ndarray, relevant: np.ndarray, k: int = K
) -> tuple[np.ndarray, np.ndarray]:
    """Per-learner NDCG@k and Recall@k (binary relevance) when every untaken course is ranked
    by ``score`` (ties: lower course index first, as :func:`training.metrics.ranked`). All
    inputs are (learners, courses); learners without a relevant untaken course are left out.
    Returns two float arrays of the same length."""
    rel = relevant & ~taken
    rows = np.flatnonzero(rel.any(axis=1))
    s = np.where(taken[rows], -np.inf, score[rows].astype(np.float64))
    order = np.argsort(-s, axis=1, kind="stable")[:, :k]
    hits = np.take_along_axis(rel[rows], order, axis=1)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    n_rel = rel[rows].sum(axis=1)
    ideal = np.cumsum(discount)[np.minimum(n_rel, k) - 1]
    ndcg = (hits * discount).sum(axis=1) / ideal
    recall = hits.sum(axis=1) / n_rel
    return ndcg, recall


def _score(score: np.ndarray, taken: np.ndarray, relevant: np.ndarray) -> dict[str, float]:
    ndcg, recall = full_ranking_metrics(score=score, taken=taken, relevant=relevant)
    return {"ndcg@10": float(ndcg.mean()), "recall@10": float(recall.mean())}


def _tune_ease(
    taken: np.ndarray, relevant: np.ndarray, grid: list[dict[str, Any]]
) -> tuple[dict[str, float], dict[str, float]]:
    best: tuple[float, dict[str, float], dict[str, float]] | None = None
    for l2 in EASE_GRID:
        figures = _score(ease_scores(taken=taken, l2=l2), taken, relevant)
        grid.append({"l2": l2, **figures})
        if best is None or figures["ndcg@10"] > best[0]:
            best = (figures["ndcg@10"], {"l2": l2}, figures)
    assert best is not None
    return best[1], best[2]


def _tune_rp3(
    taken: np.ndarray, relevant: np.ndarray, grid: list[dict[str, Any]]
) -> tuple[dict[str, float], dict[str, float]]:
    """Coordinate search: ``alpha`` x ``beta`` with every neighbour kept, then ``top_k`` at
    the best pair (the first value of a tie wins, so the full neighbourhood stays on a tie)."""
    best: tuple[float, dict[str, float], dict[str, float]] | None = None
    settings = [(a, b, 0) for a in RP3_ALPHA for b in RP3_BETA]
    for stage in (settings, None):
        if stage is None:
            assert best is not None
            a, b = best[1]["alpha"], best[1]["beta"]
            stage = [(a, b, k) for k in RP3_TOP_K if k > 0]
        for alpha, beta, top_k in stage:
            s = rp3_scores(taken=taken, alpha=alpha, beta=beta, top_k=top_k)
            figures = _score(s, taken, relevant)
            params = {"alpha": alpha, "beta": beta, "top_k": top_k}
            grid.append({**params, **figures})
            if best is None or figures["ndcg@10"] > best[0]:
                best = (figures["ndcg@10"], params, figures)
    assert best is not None
    return best[1], best[2]


def tune(*, taken: np.ndarray, relevant: np.ndarray) -> Tuned:
    """Choose EASE ``l2`` (grid :data:`EASE_GRID`) and RP3beta ``alpha``, ``beta``, ``top_k``
    (:data:`RP3_ALPHA` x :data:`RP3_BETA` with all neighbours, then :data:`RP3_TOP_K`) by
    NDCG@10 of ``relevant`` (held-out courses) when ranking from ``taken`` (the rest of the
    train file); both (learners, courses) boolean. Raises ValueError when no learner has a
    held-out course."""
    if not (relevant & ~taken).any():
        raise ValueError("tuning slice: no learner has a held-out course to rank")
    grid: dict[str, list[dict[str, Any]]] = {"ease": [], "rp3beta": []}
    ease, ease_fig = _tune_ease(taken, relevant, grid["ease"])
    rp3, rp3_fig = _tune_rp3(taken, relevant, grid["rp3beta"])
    return Tuned(
        ease=ease, rp3beta=rp3, validation={"ease": ease_fig, "rp3beta": rp3_fig}, grid=grid
    )
