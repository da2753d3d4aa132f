"""Evaluation of the model and the baselines on the same candidates of one split.

Output shape (``jenjang evaluate programs --json``): ``{"model": {...}, "popularity": {...},
"popularity_pool": {...}, "popularity_position": {...}, "gap_rule": {...}, "item_knn": {...},
"behaviour_formula": {...}, "ease": {...}, "rp3beta": {...}}`` (:mod:`training.baselines`);
each ranker has
``ndcg@5``, ``ndcg@10``, ``recall@10``, ``map@10``, ``mrr``, ``coverage``, ``ndcg@10_by_family``
(``classical``, ``self_paced``, ``workplace``),
``non_classical_jp_share``, ``priority_alignment``, ``ndcg@10_ci`` (bootstrap 95 %), and
``groups`` (NDCG@10 by sex, region and grade group, with intervals and the min/max parity
ratio). The model also has ``vs_<baseline>``: the relative lift of NDCG@10 and the bootstrap
interval of the paired difference.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from training.frames import group_parity
from training.metrics import bootstrap_ci, family_ndcg, query_metrics, top_k_profile

MIN_GROUP_QUERIES = 30
HEADLINE = ("ndcg@5", "ndcg@10", "recall@10", "map@10", "mrr")


def evaluate_ranker(
    frame: pd.DataFrame,
    relevant: pd.DataFrame,
    score: np.ndarray,
    offered: int,
    n_boot: int = 300,
    families: pd.Series | None = None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Headline metrics, top-10 profile, intervals, groups and NDCG@10 by modality family
    (``ndcg@10_by_family``, :func:`training.metrics.family_ndcg`; ``families``: programme ->
    family, else from the frame's ``classical`` and ``self_paced`` columns) for one ranker."""
    per_query = query_metrics(frame, relevant, score)
    result: dict[str, Any] = {m: float(per_query[m].mean()) for m in HEADLINE}
    result.update(top_k_profile(frame, score, offered))
    result["ndcg@10_by_family"] = family_ndcg(
        frame=frame, relevant=relevant, score=score, k=10, families=families
    )
    result["ndcg@10_ci"] = list(bootstrap_ci(per_query["ndcg@10"].to_numpy(), n_boot))
    result["queries"] = len(per_query)
    result["groups"] = group_parity(
        per_query=per_query,
        frame=frame,
        n_boot=n_boot,
        metric="ndcg@10",
        min_queries=MIN_GROUP_QUERIES,
        min_judged=1,
    )
    return result, per_query


def compare(model_q: pd.DataFrame, base_q: pd.DataFrame, n_boot: int = 300) -> dict[str, float]:
    """Relative NDCG@10 lift of the model over a baseline, with the paired bootstrap interval
    of the absolute difference (queries resampled together)."""
    diff = (model_q["ndcg@10"] - base_q["ndcg@10"].reindex(model_q.index)).to_numpy()
    lo, hi = bootstrap_ci(diff, n_boot)
    base = float(base_q["ndcg@10"].mean())
    return {
        "lift": float(model_q["ndcg@10"].mean() / base - 1) if base else float("inf"),
        "diff": float(diff.mean()),
        "diff_ci": [lo, hi],
    }


def evaluate_all(
    frame: pd.DataFrame,
    relevant: pd.DataFrame,
    scores: dict[str, np.ndarray],
    offered: int,
    n_boot: int = 300,
    outside: dict[str, tuple[pd.DataFrame, np.ndarray]] | None = None,
    families: pd.Series | None = None,
) -> dict[str, dict[str, Any]]:
    """Evaluate every ranker in ``scores`` (``model`` first) on the same candidates, and every
    ranker of ``outside`` (name -> its own frame of the same queries and its scores, e.g. the
    whole eligible catalogue) against the same ``relevant`` set; the model's ``vs_<name>``
    pairs the same queries either way. ``families`` as in :func:`evaluate_ranker`."""
    out: dict[str, dict[str, Any]] = {}
    per_query: dict[str, pd.DataFrame] = {}
    for name, score in scores.items():
        out[name], per_query[name] = evaluate_ranker(
            frame, relevant, score, offered, n_boot, families
        )
    for name, (own, score) in (outside or {}).items():
        out[name], per_query[name] = evaluate_ranker(
            own, relevant, score, offered, n_boot, families
        )
    if "model" in scores:
        for name in out:
            if name != "model":
                out["model"][f"vs_{name}"] = compare(per_query["model"], per_query[name], n_boot)
    return out


def best_baseline(results: dict[str, dict[str, Any]], metric: str = "ndcg@10") -> str:
    """Name of the baseline with the highest ``metric``."""
    return max((k for k in results if k != "model"), key=lambda k: results[k][metric])
