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

from recommender.programs.advancing import advancing_programmes, next_standard
from recommender.programs.catalog import Catalog
from recommender.ranking_policy import (
    POLICY_GUARANTEE,
    POLICY_TOP,
    guarantee_met,
    policy_scores,
)
from recommender.snapshot import Snapshot
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


def policy_flags(*, frame: pd.DataFrame, snaps: dict[int, tuple[Snapshot, Catalog]]) -> np.ndarray:
    """Whether each candidate row (``year``, ``employee_id``, ``program_id``) closes a gap of
    the person's likely next post (:mod:`recommender.programs.advancing`, the flag the served
    order guarantees), bool (len(frame),). ``snaps``: year -> (snapshot of 1 January, catalogue).
    Raises KeyError for a year not in ``snaps`` or a person or programme outside them."""
    out = np.zeros(len(frame), dtype=bool)
    years = frame["year"].to_numpy()
    for year in np.unique(years):
        at = np.flatnonzero(years == year)
        snap, cat = snaps[int(year)]
        rows = snap.people.index.get_indexer(pd.Index(frame["employee_id"].to_numpy()[at]))
        progs = cat.ids.get_indexer(pd.Index(frame["program_id"].to_numpy()[at]))
        if (rows < 0).any() or (progs < 0).any():
            raise KeyError(f"a {year} candidate is outside the snapshot or the catalogue")
        seen, nxt = next_standard(snap=snap, cat=cat)
        out[at] = advancing_programmes(
            seen=seen, nxt=nxt, target=cat.target, person=rows, programme=progs
        )
    return out


def policy_figures(
    *,
    frame: pd.DataFrame,
    relevant: pd.DataFrame,
    score: np.ndarray,
    flagged: np.ndarray,
    n_boot: int = 300,
) -> dict[str, Any]:
    """The cost of the ranking policy: NDCG@10 of the served order (the policy over each
    query's candidates, top 10, guarantee 3: :mod:`recommender.ranking_policy`) beside the
    unconstrained order of ``score`` (n,) on the same queries; ``flagged`` (n,) from
    :func:`policy_flags`. Returns ``k``, ``guarantee``, ``ndcg@10`` and ``mrr`` (served),
    ``ndcg@10_unconstrained``, ``mrr_unconstrained``, ``ndcg@10_cost`` and ``mrr_cost``
    (relative: 1 - served / unconstrained), ``ndcg@10_diff_ci`` (95 % paired bootstrap interval
    of served - unconstrained), ``queries``, ``queries_reranked`` (share of people whose top 10
    missed the guarantee, all people of the frame) and ``with_advancing`` (share with at least
    one flagged candidate). Raises ValueError for a non-finite score."""
    group = frame.groupby(["year", "employee_id"], sort=False).ngroup().to_numpy()
    served = policy_scores(
        group=group, score=score, flagged=flagged, k=POLICY_TOP, guarantee=POLICY_GUARANTEE
    )
    plain = query_metrics(frame, relevant, score)
    policy = query_metrics(frame, relevant, served).reindex(plain.index)
    met = guarantee_met(group=group, score=score, flagged=flagged)
    out: dict[str, Any] = {
        "k": POLICY_TOP,
        "guarantee": POLICY_GUARANTEE,
        "queries": len(plain),
        "queries_reranked": float(1.0 - met.mean()) if len(met) else 0.0,
        "with_advancing": float(pd.Series(flagged).groupby(group).any().mean()),
    }
    for m in ("ndcg@10", "mrr"):
        before, after = float(plain[m].mean()), float(policy[m].mean())
        out[m], out[f"{m}_unconstrained"] = after, before
        out[f"{m}_cost"] = 1.0 - after / before if before else 0.0
    diff = (policy["ndcg@10"] - plain["ndcg@10"]).to_numpy()
    out["ndcg@10_diff_ci"] = list(bootstrap_ci(diff, n_boot))
    return out
