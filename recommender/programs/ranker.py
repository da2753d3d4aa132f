"""A small scikit-learn-style estimator around LightGBM's LambdaRank, and its text bundle.

The model is kept in LightGBM's own text format with its SHA-256 and feature list; nothing is
pickled. :class:`ProgramRanker` follows the scikit-learn contract (hyper-parameters stored in
``__init__``, ``fit`` returns ``self``, learned state ends in ``_``) but takes the query groups
that ``LGBMRanker`` needs.
"""

from __future__ import annotations

import hashlib
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError


class ModelIntegrityError(ValueError):
    """Raised when a model file's SHA-256 does not match the expected one."""


def sha256_text(text: str) -> str:
    """Hex SHA-256 of a model text."""
    return hashlib.sha256(text.encode()).hexdigest()


class ProgramRanker(BaseEstimator):  # type: ignore[misc]
    """LambdaRank over candidate programmes; early stopping on validation NDCG@``eval_at``.

    ``fit(X, y, group, eval_X, eval_y, eval_group)``: ``X`` (rows x features, DataFrame),
    ``y`` graded labels 0-3, ``group`` sizes of consecutive query groups. Raises ValueError
    when group sizes do not add up to the rows, or a feature column is missing at predict.
    """

    def __init__(
        self,
        n_estimators: int = 600,
        learning_rate: float = 0.05,
        num_leaves: int = 63,
        min_child_samples: int = 50,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        early_stopping_rounds: int = 30,
        eval_at: int = 10,
        random_state: int = 7,
        n_jobs: int = 2,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.early_stopping_rounds = early_stopping_rounds
        self.eval_at = eval_at
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _lgbm(self) -> lgb.LGBMRanker:
        return lgb.LGBMRanker(
            objective="lambdarank",
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            subsample=self.subsample,
            subsample_freq=1,
            colsample_bytree=self.colsample_bytree,
            random_state=self.random_state,
            n_jobs=self.n_jobs,
            deterministic=True,
            force_row_wise=True,
            verbose=-1,
        )

    def fit(
        self,
        X: pd.DataFrame,
        y: np.ndarray,
        group: np.ndarray,
        eval_X: pd.DataFrame | None = None,
        eval_y: np.ndarray | None = None,
        eval_group: np.ndarray | None = None,
    ) -> ProgramRanker:
        """Fit on query groups; with an evaluation set, stop when NDCG@eval_at stalls."""
        _check_groups(len(X), group, "group")
        model = self._lgbm()
        kwargs: dict[str, Any] = {}
        if eval_X is not None and eval_y is not None and eval_group is not None:
            _check_groups(len(eval_X), eval_group, "eval_group")
            kwargs = {
                "eval_X": (eval_X,),
                "eval_y": (eval_y,),
                "eval_group": [eval_group],
                "eval_at": [self.eval_at],
                "callbacks": [lgb.early_stopping(self.early_stopping_rounds, verbose=False)],
            }
        model.fit(X, y, group=group, **kwargs)
        self.booster_ = model.booster_
        self.feature_names_ = list(X.columns)
        self.best_iteration_ = int(model.best_iteration_ or model.n_estimators)
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Scores (higher is better), one per row. Set ``predict_threads`` (e.g. 1 in the
        service, where each request scores a few hundred rows) to cap LightGBM's threads."""
        booster = self._fitted()
        missing = [f for f in self.feature_names_ if f not in X.columns]
        if missing:
            raise ValueError(f"missing feature column(s): {', '.join(missing)}")
        values = X[self.feature_names_].to_numpy(dtype=np.float64)
        threads = getattr(self, "predict_threads", None)
        extra = {} if threads is None else {"num_threads": threads}
        return np.asarray(booster.predict(values, num_iteration=self.best_iteration_, **extra))

    def predict_matrix(self, X: np.ndarray, columns: list[str]) -> np.ndarray:
        """Scores for a float matrix whose columns are ``columns`` (reordered to the model's
        features without building a DataFrame). Raises ValueError for a missing feature."""
        where = {c: i for i, c in enumerate(columns)}
        missing = [f for f in self.feature_names_ if f not in where]
        if missing:
            raise ValueError(f"missing feature column(s): {', '.join(missing)}")
        order = [where[f] for f in self.feature_names_]
        values = X if order == list(range(X.shape[1])) else X[:, order]
        threads = getattr(self, "predict_threads", None)
        extra = {} if threads is None else {"num_threads": threads}
        booster = self._fitted()
        return np.asarray(booster.predict(values, num_iteration=self.best_iteration_, **extra))

    def _fitted(self) -> lgb.Booster:
        if not hasattr(self, "booster_"):
            raise NotFittedError("ProgramRanker is not fitted yet: call fit() first")
        booster: lgb.Booster = self.booster_
        return booster

    def to_text(self) -> str:
        """The booster in LightGBM's text format (best iteration only)."""
        text: str = self._fitted().model_to_string(num_iteration=self.best_iteration_)
        return text

    @classmethod
    def from_text(cls, text: str, expected_sha256: str | None = None) -> ProgramRanker:
        """Load a booster from its text; verify the SHA-256 first when one is given.

        Raises ModelIntegrityError on a hash mismatch.
        """
        if expected_sha256 is not None and sha256_text(text) != expected_sha256:
            raise ModelIntegrityError("model file SHA-256 does not match: refusing to load it")
        ranker = cls()
        ranker.booster_ = lgb.Booster(model_str=text)
        ranker.feature_names_ = list(ranker.booster_.feature_name())
        ranker.best_iteration_ = int(ranker.booster_.current_iteration())
        return ranker

    def feature_importance(self) -> pd.Series:
        """Total gain per feature, largest first."""
        booster = self._fitted()
        gain = booster.feature_importance("gain", iteration=self.best_iteration_)
        return pd.Series(gain, index=self.feature_names_).sort_values(ascending=False)


def _check_groups(n_rows: int, group: np.ndarray, name: str) -> None:
    total = int(np.sum(group))
    if total != n_rows:
        raise ValueError(f"{name} sizes add up to {total}, but there are {n_rows} rows")
