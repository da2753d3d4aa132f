"""Top-k programmes for one person: candidates -> features -> ranker -> business rules.

The same candidate and feature code as training (:mod:`recommender.programs.features`); the
ranker is anything with ``predict(frame) -> scores`` (a :class:`ProgramRanker`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from recommender.programs.advancing import advancing_for
from recommender.programs.catalog import Catalog
from recommender.programs.features import FEATURES, Candidates, Usage, candidate_arrays
from recommender.ranking_policy import policy_cut, policy_scores
from recommender.snapshot import Snapshot


class Scorer(Protocol):
    """What the recommender needs from a model."""

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """One score per candidate row; ``X`` has (at least) the :data:`FEATURES` columns."""
        ...


@dataclass(frozen=True)
class Ranked:
    """The top candidates, best first: ``candidates`` (arrays) and their ``score`` (k,)."""

    candidates: Candidates
    score: np.ndarray

    def frame(self) -> pd.DataFrame:
        """``employee_id``, ``program_id``, the features, ``score`` and ``rank`` (1 = best)."""
        return self.candidates.frame().assign(
            score=self.score, rank=np.arange(1, len(self.score) + 1)
        )


def top_programs(
    snap: Snapshot,
    cat: Catalog,
    usage: Usage,
    scorer: Scorer,
    employee_id: str,
    year: int,
    k: int = 10,
    accredited_only: bool = False,
    modality: str | None = None,
) -> Ranked:
    """The top ``k`` programmes for ``employee_id`` as arrays (the service's fast path; see
    :func:`recommend`), in the served order: the ranker's order with the ranking policy applied
    over all candidates before the cut (:func:`_served`); ``score`` stays the ranker's score.
    Raises KeyError when the person is not active on the snapshot date."""
    row = snap.row(employee_id)
    cands = candidate_arrays(snap, cat, usage, year, np.array([row]), max(150, k))
    keep = np.ones(len(cands.program_ids), dtype=bool)
    if accredited_only:
        keep &= cands.X[:, FEATURES.index("accredited")] == 1.0
    if modality is not None:
        of = cat.memo(
            "modality_of", lambda: dict(zip(cat.ids, cat.programs["modality"], strict=True))
        )
        keep &= np.array([of.get(p) == modality for p in cands.program_ids], dtype=bool)
    X = cands.X[keep]
    if len(X) == 0:
        return Ranked(Candidates(cands.employee_ids[keep], cands.program_ids[keep], X), np.empty(0))
    matrix = getattr(scorer, "predict_matrix", None)
    if matrix is not None:  # the ranker scores the feature matrix directly (FEATURES order)
        score = np.asarray(matrix(X, list(FEATURES)), dtype=float)
    else:
        score = np.asarray(scorer.predict(pd.DataFrame(X, columns=list(FEATURES))), dtype=float)
    top = np.argsort(-_served(snap, cat, row, cands.program_ids[keep], score, k), kind="stable")[:k]
    chosen = Candidates(cands.employee_ids[keep][top], cands.program_ids[keep][top], X[top])
    return Ranked(chosen, score[top])


def _served(
    snap: Snapshot, cat: Catalog, row: int, program_ids: np.ndarray, score: np.ndarray, k: int
) -> np.ndarray:
    """Scores in the served order: the ranking policy over all the person's candidates, with
    programmes that close a gap of the likely next post guaranteed a share of the top ``k``
    (:func:`recommender.ranking_policy.policy_cut`)."""
    flagged = advancing_for(snap=snap, cat=cat, row=row, program_ids=program_ids)
    top, guarantee = policy_cut(k=k)
    return policy_scores(
        group=np.zeros(len(score), dtype=int),
        score=score,
        flagged=flagged,
        k=top,
        guarantee=guarantee,
    )


def recommend(
    snap: Snapshot,
    cat: Catalog,
    usage: Usage,
    scorer: Scorer,
    employee_id: str,
    year: int,
    k: int = 10,
    accredited_only: bool = False,
    modality: str | None = None,
) -> pd.DataFrame:
    """Ranked programmes for ``employee_id`` (active in the snapshot) for ``year``.

    Returns at most ``k`` rows: ``program_id``, ``score``, ``rank`` and the features (for
    reasons). Raises KeyError when the person is not active on the snapshot date.
    """
    return top_programs(
        snap, cat, usage, scorer, employee_id, year, k, accredited_only, modality
    ).frame()
