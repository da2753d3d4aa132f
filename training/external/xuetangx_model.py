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
    """Settings of a run. ``holdout``, ``holdout_share``, ``min_past``: the carved slice
    (:func:`training.external.xuetangx_data.split_last`; ``min_past = 2`` carves only
    learners with 3 or more train courses, like the test learners, whose history has 2 or
    more);
    ``folds``: models fitted, each early-stopped on its fold of the learners (all their
    candidates) and fitted on the others; the test score is their mean;
    ``train_negatives``: random untaken courses kept per fitting learner (None: all), which
    only makes fitting cheaper: the test always ranks every untaken course."""

    holdout: int = 1
    holdout_share: float = 0.0
    min_past: int = 2
    folds: int = 5
    train_negatives: int | None = 100
    seed: int = 7
    n_boot: int = 300
    n_estimators: int = 300
    learning_rate: float = 0.05
    num_leaves: int = 7
    min_child_samples: int = 300
    early_stopping_rounds: int = 50
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
    model_score: np.ndarray,
    feats: dict[str, np.ndarray],
    frame: pd.DataFrame,
    relevant: pd.DataFrame,
) -> dict[str, dict[str, float]]:
    """NDCG@10 and Recall@10 of the model (``model_score``: out-of-fold) and every baseline
    on the candidates of ``frame``."""
    scores = {"model": model_score, **baseline_scores(feats, frame)}
    out = {}
    for name, s in scores.items():
        q = query_metrics(frame, relevant, s, ks=(K,))
        out[name] = {
            f"ndcg@{K}": float(q[f"ndcg@{K}"].mean()),
            "recall@10": float(q["recall@10"].mean()),
        }
    return out


@dataclass(frozen=True)
class Ensemble:
    """The fold models; :meth:`predict` averages their scores (one per row of the frame)."""

    rankers: tuple[ProgramRanker, ...]

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Mean score of the fold models for every row of ``frame`` (needs :data:`FEATURES`)."""
        return np.mean([r.predict(frame[list(FEATURES)]) for r in self.rankers], axis=0)


def _fit_fold(
    frame: pd.DataFrame,
    y: np.ndarray,
    valid: np.ndarray,
    config: XuetangxConfig,
    rng: np.random.Generator,
) -> ProgramRanker:
    """One fold: fit on the learners outside ``valid`` (negatives sampled when configured),
    early-stop on the learners in ``valid`` (every untaken course)."""
    in_valid = np.isin(frame["employee_id"].to_numpy(), valid)
    fit_frame, fit_y = frame[~in_valid], y[~in_valid]
    if config.train_negatives is not None:
        keep = _sample_negatives(fit_frame, fit_y, config.train_negatives, rng)
        fit_frame, fit_y = fit_frame[keep], fit_y[keep]
    valid_frame, valid_y = frame[in_valid], y[in_valid]
    ranker = _ranker(config, len(fit_frame))
    cols = list(FEATURES)
    ranker.fit(
        fit_frame[cols], fit_y, _groups(fit_frame), valid_frame[cols], valid_y, _groups(valid_frame)
    )
    return ranker


def fit_model(
    *,
    hist: History,
    targets: pd.DataFrame,
    learners: pd.Index,
    courses: pd.Index,
    tuned: Tuned,
    config: XuetangxConfig,
) -> tuple[Ensemble, dict[str, Any]]:
    """Fit ``config.folds`` LambdaRank models on ``targets`` (the carved pseudo-targets) with
    features from ``hist`` (the train file without them): the learners with a target are cut
    into folds, each model is fitted on the others and early-stopped on its fold. Returns the
    ensemble (mean score) and facts about the fit, including the internal figures (NDCG@10,
    Recall@10 of the out-of-fold model scores and of every baseline, over all learners with a
    target). Raises ValueError when fewer learners than folds have a target."""
    feats = pair_features(hist, tuned)
    with_target = np.unique(learners.get_indexer(pd.Index(targets["employee_id"])))
    with_target = with_target[with_target >= 0]
    if len(with_target) < max(config.folds, 2):
        raise ValueError(f"{len(with_target)} learners with a pseudo-target, need {config.folds}")
    rng = np.random.default_rng(config.seed)
    fold_of = rng.permutation(len(with_target)) % config.folds
    frame = candidate_frame(feats, hist.taken, with_target)
    t_u, t_c = codes(targets, learners, courses)
    y = labels(frame, t_u, t_c, (len(learners), len(courses)))
    oof = np.zeros(len(frame))
    rankers = []
    for fold in range(config.folds):
        valid = with_target[fold_of == fold]
        ranker = _fit_fold(frame, y, valid, config, rng)
        in_valid = np.isin(frame["employee_id"].to_numpy(), valid)
        oof[in_valid] = ranker.predict(frame.loc[in_valid, list(FEATURES)])
        rankers.append(ranker)
    relevant = pd.DataFrame({"year": 0, "employee_id": t_u, "program_id": t_c, "label": 1})
    relevant = relevant[(relevant["employee_id"] >= 0) & (relevant["program_id"] >= 0)]
    internal = _internal(oof, feats, frame.assign(label=y), relevant)
    gains = pd.DataFrame([r.feature_importance() for r in rankers]).mean()
    facts = {
        "folds": config.folds,
        "learners_with_target": len(with_target),
        "pseudo_targets": len(targets),
        "candidate_rows": len(frame),
        "best_iterations": [r.best_iteration_ for r in rankers],
        "internal": internal,
        "feature_gain": {k: float(v) for k, v in gains.items()},
    }
    return Ensemble(tuple(rankers)), facts
