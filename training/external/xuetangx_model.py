"""The interactions-only LightGBM ranker on XuetangX-format files: fitting on the train file.

Training never touches the test file. Inside the train file, the last ``holdout`` interactions of
each learner (in time order, always leaving at least one) are pseudo-targets; features are built
from the earlier part only (:mod:`training.external.xuetangx_features`, with EASE and RP3beta
settings tuned on that same carved slice), LightGBM (objective ``binary`` by default: on the
carved slice it beat ``lambdarank``) is fitted with one query per learner and
early-stopped on a held-out share of learners, whose every untaken course is ranked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

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
    only makes fitting cheaper: the test always ranks every untaken course;
    ``carving_groups``: the carved learners are cut into this many groups and each group's
    history is the train file less that group's targets only (closer to the test-time
    matrices; :func:`training.external.xuetangx.grouped_carvings`);
    ``extra_carvings`` / ``prefix_carvings``: more fitting queries (a random course, or the
    course ``1..n`` steps before the last, as target); ``shared_stop``: every fold model stops
    at the round where the folds' mean validation NDCG@10 peaks; ``blend_grid``: weights of
    the RP3beta rank share tried in a blend with the model (chosen out of fold; empty: none)."""

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
    extra_carvings: int = 0
    prefix_carvings: int = 0
    prefix_min_past: int = 2
    objective: str = "binary"
    feature_fraction: float = 0.8
    lambda_l2: float = 0.0
    n_jobs: int = 2
    shared_stop: bool = False
    carving_groups: int = 5
    blend_grid: tuple[float, ...] = ()


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
    """Sizes of consecutive query groups (``query`` when present, else ``employee_id``)."""
    key = frame["query" if "query" in frame else "employee_id"].to_numpy()
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1], True])
    return np.diff(starts)


@dataclass(frozen=True)
class FoldModel:
    """One fitted LightGBM booster, the iteration early stopping chose and the validation
    NDCG@10 after every round (``curve``)."""

    booster: lgb.Booster
    best_iteration: int
    curve: tuple[float, ...] = ()

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Scores (higher is better), one per row of ``frame`` (needs :data:`FEATURES`)."""
        values = frame[list(FEATURES)].to_numpy(dtype=np.float64)
        return np.asarray(self.booster.predict(values, num_iteration=self.best_iteration))

    def feature_importance(self) -> dict[str, float]:
        """Total gain per feature name."""
        gains = self.booster.feature_importance(importance_type="gain")
        return dict(zip(FEATURES, (float(g) for g in gains), strict=True))


def _params(config: XuetangxConfig, rows: int) -> dict[str, Any]:
    return {
        "objective": config.objective,
        "metric": "ndcg",
        "eval_at": [K],
        "learning_rate": config.learning_rate,
        "num_leaves": config.num_leaves,
        "min_data_in_leaf": config.min_child_samples,
        "feature_fraction": config.feature_fraction,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": config.lambda_l2,
        "seed": config.seed,
        "num_threads": config.n_jobs if rows >= SMALL_FIT else 1,
        "deterministic": True,
        "force_row_wise": True,
        "verbose": -1,
    }


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

    rankers: tuple[FoldModel, ...]
    blend: float = 0.0

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Mean score of the fold models for every row of ``frame`` (needs :data:`FEATURES`);
        with ``blend > 0``, :func:`blended` with the RP3beta rank share."""
        out: np.ndarray = np.mean([r.predict(frame) for r in self.rankers], axis=0)
        return blended(out, frame, self.blend) if self.blend > 0 else out


def blended(score: np.ndarray, frame: pd.DataFrame, weight: float) -> np.ndarray:
    """``score``'s rank share within each learner of ``frame`` (sorted by learner; 1 = best)
    plus ``weight`` x the ``rp3_rank`` column: one float per row."""
    share = pd.Series(score).groupby(frame["employee_id"].to_numpy()).rank(pct=True)
    out: np.ndarray = share.to_numpy() + weight * frame["rp3_rank"].to_numpy(float)
    return out


def _choose_blend(
    oof: np.ndarray, frame: pd.DataFrame, relevant: pd.DataFrame, grid: Sequence[float]
) -> float:
    """The weight of ``grid`` (0 = no blend, always tried first) whose blend of the
    out-of-fold scores has the best NDCG@10 on ``frame``."""
    best, best_ndcg = 0.0, float(query_metrics(frame, relevant, oof, ks=(K,))[f"ndcg@{K}"].mean())
    for w in grid:
        if w > 0:
            q = query_metrics(frame, relevant, blended(oof, frame, w), ks=(K,))
            if float(q[f"ndcg@{K}"].mean()) > best_ndcg:
                best, best_ndcg = w, float(q[f"ndcg@{K}"].mean())
    return best


def _fit_fold(
    fit: tuple[pd.DataFrame, np.ndarray],
    valid: tuple[pd.DataFrame, np.ndarray],
    config: XuetangxConfig,
    rng: np.random.Generator,
) -> FoldModel:
    """One fold: fit on ``fit`` (frame, labels; negatives sampled when configured),
    early-stop on NDCG@10 of ``valid`` (every untaken course). Frames are sorted by query."""
    fit_frame, fit_y = fit
    if config.train_negatives is not None:
        keep = _sample_negatives(fit_frame, fit_y, config.train_negatives, rng)
        fit_frame, fit_y = fit_frame[keep], fit_y[keep]
    valid_frame, valid_y = valid
    cols = list(FEATURES)
    train_set = lgb.Dataset(
        fit_frame[cols].to_numpy(np.float64), fit_y, group=_groups(fit_frame), feature_name=cols
    )
    valid_set = lgb.Dataset(
        valid_frame[cols].to_numpy(np.float64),
        valid_y,
        group=_groups(valid_frame),
        reference=train_set,
    )
    curve: dict[str, Any] = {}
    callbacks = [lgb.record_evaluation(curve)]
    if not config.shared_stop:
        callbacks.append(lgb.early_stopping(config.early_stopping_rounds, verbose=False))
    booster = lgb.train(
        _params(config, len(fit_frame)),
        train_set,
        num_boost_round=config.n_estimators,
        valid_sets=[valid_set],
        callbacks=callbacks,
    )
    best = int(booster.best_iteration or config.n_estimators)
    return FoldModel(booster, best, tuple(curve["valid_0"][f"ndcg@{K}"]))


def _cross_fit(
    frame: pd.DataFrame,
    y: np.ndarray,
    every: tuple[pd.DataFrame, np.ndarray],
    config: XuetangxConfig,
) -> tuple[list[FoldModel], np.ndarray]:
    """The fold models and their out-of-fold scores on ``frame`` (the first carving, labels
    ``y``); ``every`` holds the fitting rows of all carvings. With ``config.shared_stop`` every
    model stops at the round where the mean of the folds' validation NDCG@10 peaks."""
    rng = np.random.default_rng(config.seed)
    queries = np.unique(frame["employee_id"].to_numpy())
    fold_of = pd.Series(rng.permutation(len(queries)) % config.folds, index=queries)
    rankers, masks = [], []
    for fold in range(config.folds):
        valid = queries[fold_of.to_numpy() == fold]
        in_valid = np.isin(frame["employee_id"].to_numpy(), valid)
        out = ~np.isin(every[0]["employee_id"].to_numpy(), valid)
        fit = (every[0][out], every[1][out])
        rankers.append(_fit_fold(fit, (frame[in_valid], y[in_valid]), config, rng))
        masks.append(in_valid)
    if config.shared_stop:
        length = min(len(r.curve) for r in rankers)
        mean = np.mean([r.curve[:length] for r in rankers], axis=0)
        best = int(np.argmax(mean)) + 1
        rankers = [FoldModel(r.booster, best, r.curve) for r in rankers]
    oof = np.zeros(len(frame))
    for model, in_valid in zip(rankers, masks, strict=True):
        oof[in_valid] = model.predict(frame.loc[in_valid])
    return rankers, oof


def _carving(
    hist: History, targets: pd.DataFrame, learners: pd.Index, courses: pd.Index, tuned: Tuned
) -> tuple[pd.DataFrame, np.ndarray, dict[str, np.ndarray]]:
    """Candidates (every untaken course of every learner with a target), their labels and the
    feature matrices of one carving of the train file."""
    feats = pair_features(hist, tuned)
    rows = np.unique(learners.get_indexer(pd.Index(targets["employee_id"])))
    frame = candidate_frame(feats, hist.taken, rows[rows >= 0])
    t_u, t_c = codes(targets, learners, courses)
    return frame, labels(frame, t_u, t_c, (len(learners), len(courses))), feats


def fit_model(
    *,
    carvings: Sequence[tuple[History, pd.DataFrame]],
    learners: pd.Index,
    courses: pd.Index,
    tuned: Tuned,
    config: XuetangxConfig,
    scored: int = 1,
) -> tuple[Ensemble, dict[str, Any]]:
    """Fit ``config.folds`` LightGBM models on the carvings of the train file, each a
    (history without the targets, targets) pair; the first ``scored`` carvings (each
    learner's last course; several when the learners are cut into groups, each carving
    holding one group's targets, disjoint learners) also early-stop and are scored, the others
    only add fitting queries. The learners of the scored carvings are cut into folds; each
    model is fitted on the queries of the other learners (every carving) and early-stopped on
    its fold. Returns the ensemble (mean score) and facts about the fit, with the internal
    figures (NDCG@10, Recall@10 of the out-of-fold model scores and of every baseline on the
    scored carvings). Raises ValueError when fewer learners than folds have a target."""
    parts = [_carving(h, t, learners, courses, tuned) for h, t in carvings]
    for i, part in enumerate(parts):
        part[0]["query"] = part[0]["employee_id"] + i * len(learners)
    frame = pd.concat([p[0] for p in parts[:scored]], ignore_index=True)
    y = np.concatenate([p[1] for p in parts[:scored]])
    feats = parts[0][2]
    queries = np.unique(frame["employee_id"].to_numpy())
    if len(queries) < max(config.folds, 2):
        raise ValueError(f"{len(queries)} learners with a pseudo-target, need {config.folds}")
    every = pd.concat([p[0] for p in parts], ignore_index=True)
    every_y = np.concatenate([p[1] for p in parts])
    rankers, oof = _cross_fit(frame, y, (every, every_y), config)
    targets = pd.concat([t for _, t in carvings[:scored]], ignore_index=True)
    t_u, t_c = codes(targets, learners, courses)
    relevant = pd.DataFrame({"year": 0, "employee_id": t_u, "program_id": t_c, "label": 1})
    relevant = relevant[(relevant["employee_id"] >= 0) & (relevant["program_id"] >= 0)]
    blend = _choose_blend(oof, frame.assign(label=y), relevant, config.blend_grid)
    if blend > 0:
        oof = blended(oof, frame, blend)
    internal = _internal(oof, feats, frame.assign(label=y), relevant)
    gains = pd.DataFrame([r.feature_importance() for r in rankers]).mean()
    facts = {
        "folds": config.folds,
        "carvings": len(carvings),
        "learners_with_target": len(queries),
        "pseudo_targets": len(targets),
        "candidate_rows": len(every),
        "best_iterations": [r.best_iteration for r in rankers],
        "internal": internal,
        "blend_rp3_rank": blend,
        "feature_gain": {k: float(v) for k, v in gains.items()},
    }
    return Ensemble(tuple(rankers), blend), facts
