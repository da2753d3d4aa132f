"""Figures attached to MLflow runs (matplotlib ``Figure`` objects, no GUI backend)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from recommender.programs.features import FEATURES
from recommender.programs.ranker import ProgramRanker
from training.baselines import baseline_scores
from training.datasets import YearFrame, concat
from training.metrics import query_metrics


def to_png(fig: Any) -> bytes:
    """A figure as PNG bytes (for notebooks and reports)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return buf.getvalue()


def groups_figure(results: dict[str, Any], metric: str = "ndcg@10") -> Any:
    """``metric`` of the model by group value, with bootstrap intervals."""
    groups = results["model"]["groups"]
    fig = Figure(figsize=(4 * len(groups), 3.2))
    axes = fig.subplots(1, len(groups), sharey=True)
    for ax, (name, data) in zip(np.atleast_1d(axes), groups.items(), strict=True):
        labels = list(data["values"])
        means = [data["values"][v][metric] for v in labels]
        err = np.array(
            [
                [m - data["values"][v]["ci"][0], data["values"][v]["ci"][1] - m]
                for v, m in zip(labels, means, strict=True)
            ]
        ).T
        ax.bar(labels, means, yerr=err, capsize=4, color="#3b7dd8")
        ax.set_title(f"{name} (parity {data['parity_ratio']:.2f})")
    np.atleast_1d(axes)[0].set_ylabel(f"{metric.upper()}, test")
    fig.tight_layout()
    return fig


def importance_figure(ranker: ProgramRanker, top: int = 20) -> Any:
    """Total gain of the top features."""
    imp = ranker.feature_importance().head(top)[::-1]
    fig = Figure(figsize=(6, 0.3 * len(imp) + 1))
    ax = fig.subplots()
    ax.barh(imp.index, imp.to_numpy(), color="#3b7dd8")
    ax.set_xlabel("total gain")
    fig.tight_layout()
    return fig


def metric_vs_k_figure(ranker: ProgramRanker, frames: list[YearFrame]) -> Any:
    """NDCG@k for k = 1..20, model and baselines, on the test year."""
    df = concat(frames)
    relevant = pd.concat([f.relevant for f in frames], ignore_index=True)
    scores = {"model": ranker.predict(df[list(FEATURES)]), **baseline_scores(df)}
    ks = (1, 3, 5, 10, 15, 20)
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    for name, score in scores.items():
        per_query = query_metrics(df, relevant, score, ks)
        ax.plot(ks, [per_query[f"ndcg@{k}"].mean() for k in ks], marker="o", label=name)
    ax.set_xlabel("k")
    ax.set_ylabel("NDCG@k, test")
    ax.legend()
    fig.tight_layout()
    return fig


def programs_figures(
    results: dict[str, Any], ranker: ProgramRanker, test: list[YearFrame]
) -> dict[str, Any]:
    """All figures of a programmes run, by artifact name."""
    figs = {
        "ndcg_by_group": groups_figure(results),
        "feature_importance": importance_figure(ranker),
        "ndcg_vs_k": metric_vs_k_figure(ranker, test),
    }
    return figs


def hit_vs_k_figure(ranks: dict[str, np.ndarray]) -> Any:
    """Hit@k for k = 1..20 of every ranker, from the rank of the true target per query."""
    ks = np.arange(1, 21)
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    for name, r in ranks.items():
        ax.plot(ks, [(r <= k).mean() for k in ks], marker="o", label=name)
    ax.set_xlabel("k")
    ax.set_ylabel("Hit@k, test")
    ax.legend()
    fig.tight_layout()
    return fig
