"""The interactions-only LambdaRank model on XuetangX-format files: fitting on the train file.

Training never touches the test file. Inside the train file, the last ``holdout`` interactions of
each learner (in time order, always leaving at least one) are pseudo-targets; features are built
from the earlier part only (:mod:`training.external.xuetangx_features`, with EASE and RP3beta
settings tuned on that same carved slice), LambdaRank is fitted with one query per learner and
early-stopped on a held-out share of learners, whose every untaken course is ranked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recommender.programs.ranker import ProgramRanker
from training.external.xuetangx_collab import K, Tuned
from training.external.xuetangx_data import codes
from training.external.xuetangx_features import (
    FEATURES,
    History,
    baseline_scores,
    candidate_frame,
    pair_features,
)
from training.metrics import query_metrics

#: Below this many fitting rows LightGBM runs on one thread: extra threads only add overhead.
SMALL_FIT = 100_000


@dataclass(frozen=True)
class XuetangxConfig:
    """Settings of a run. ``holdout``: pseudo-targets per learner in the train file;
    ``valid_share``: share of learners kept for early stopping (all their candidates);
    ``train_negatives``: random untaken courses kept per fitting learner (None: all), which
    only makes fitting cheaper: the test always ranks every untaken course."""

    holdout: int = 1
    valid_share: float = 0.15
    train_negatives: int | None = 50
    seed: int = 7
    n_boot: int = 300
    n_estimators: int = 300
    learning_rate: float = 0.1
    num_leaves: int = 31
    min_child_samples: int = 100
    early_stopping_rounds: int = 30
    n_jobs: int = 2


def labels(frame: pd.DataFrame, u: np.ndarray, c: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """1 for candidate rows whose (learner code, course code) is among the pairs ``(u, c)``,
    else 0 (int array, one per row of ``frame``)."""
    hits = np.zeros(shape, dtype=bool)
    ok = (u >= 0) & (c >= 0)
    hits[u[ok], c[ok]] = True
    out: np.ndarray = hits[frame["employee_id"].to_numpy(), frame["program_id"].to_numpy()]
    return out.astype(int)


def _sample_negatives(
    frame: pd.DataFrame, y: np.ndarray, n: int, rng: np.random.Generator
) -> np.ndarray:
    """Mask keeping every positive and ``n`` random negatives per learner (order kept)."""
    draw = pd.Series(rng.random(len(frame)), index=frame.index).where(y == 0)
    pick = draw.groupby(frame["employee_id"].to_numpy()).rank(method="first") <= n
    return (y > 0) | pick.to_numpy()


def _groups(frame: pd.DataFrame) -> np.ndarray:
    """Sizes of consecutive learner groups (``frame`` is sorted by learner)."""
    return frame.groupby("employee_id", sort=False).size().to_numpy()


def _ranker(config: XuetangxConfig, rows: int) -> ProgramRanker:
    return ProgramRanker(
        n_estimators=config.n_estimators,
        learning_rate=config.learning_rate,
        num_leaves=config.num_leaves,
        min_child_samples=config.min_child_samples,
        early_stopping_rounds=config.early_stopping_rounds,
        eval_at=K,
        random_state=config.seed,
        n_jobs=config.n_jobs if rows >= SMALL_FIT else 1,
    )


def _internal(
    ranker: ProgramRanker,
    feats: dict[str, np.ndarray],
    frame: pd.DataFrame,
    relevant: pd.DataFrame,
) -> dict[str, dict[str, float]]:
    """NDCG@10 and Recall@10 of the model and every baseline on the early-stopping learners."""
    scores = {"model": ranker.predict(frame), **baseline_scores(feats, frame)}
    out = {}
    for name, s in scores.items():
        q = query_metrics(frame, relevant, s, ks=(K,))
        out[name] = {
            f"ndcg@{K}": float(q[f"ndcg@{K}"].mean()),
            "recall@10": float(q["recall@10"].mean()),
        }
    return out


def fit_model(
    *,
    hist: History,
    targets: pd.DataFrame,
    learners: pd.Index,
    courses: pd.Index,
    tuned: Tuned,
    config: XuetangxConfig,
) -> tuple[ProgramRanker, dict[str, Any]]:
    """Fit LambdaRank on ``targets`` (the carved pseudo-targets) with features from ``hist``
    (the train file without them); early stopping on ``valid_share`` of the learners. Returns
    the ranker and facts about the fit, including the internal figures (NDCG@10, Recall@10 of
    model and baselines on the early-stopping learners' pseudo-targets). Raises ValueError
    (from LightGBM's wrapper) when the groups do not add up."""
    feats = pair_features(hist, tuned)
    with_target = np.unique(learners.get_indexer(pd.Index(targets["employee_id"])))
    rng = np.random.default_rng(config.seed)
    order = rng.permutation(with_target[with_target >= 0])
    n_valid = max(1, round(config.valid_share * len(order)))
    valid_rows, fit_rows = np.sort(order[:n_valid]), np.sort(order[n_valid:])
    fit_frame = candidate_frame(feats, hist.taken, fit_rows)
    valid_frame = candidate_frame(feats, hist.taken, valid_rows)
    t_u, t_c = codes(targets, learners, courses)
    shape = (len(learners), len(courses))
    fit_y = labels(fit_frame, t_u, t_c, shape)
    if config.train_negatives is not None:
        keep = _sample_negatives(fit_frame, fit_y, config.train_negatives, rng)
        fit_frame, fit_y = fit_frame[keep].reset_index(drop=True), fit_y[keep]
    valid_y = labels(valid_frame, t_u, t_c, shape)
    ranker = _ranker(config, len(fit_frame))
    cols = list(FEATURES)
    ranker.fit(
        fit_frame[cols], fit_y, _groups(fit_frame), valid_frame[cols], valid_y, _groups(valid_frame)
    )
    relevant = pd.DataFrame({"year": 0, "employee_id": t_u, "program_id": t_c, "label": 1})
    relevant = relevant[relevant["employee_id"].isin(valid_rows) & (relevant["program_id"] >= 0)]
    internal = _internal(ranker, feats, valid_frame.assign(label=valid_y), relevant)
    facts = {
        "fit_learners": len(fit_rows),
        "early_stopping_learners": len(valid_rows),
        "pseudo_targets": len(targets),
        "fit_rows": len(fit_frame),
        "best_iteration": ranker.best_iteration_,
        "internal": internal,
        "feature_gain": {k: float(v) for k, v in ranker.feature_importance().items()},
    }
    return ranker, facts
