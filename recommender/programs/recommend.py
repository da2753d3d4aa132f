"""Top-k programmes for one person: candidates -> features -> ranker -> business rules.

The same candidate and feature code as training (:mod:`recommender.programs.features`); the
ranker is anything with ``predict(frame) -> scores`` (a :class:`ProgramRanker`).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pandas as pd

from recommender.programs.catalog import Catalog
from recommender.programs.features import Usage, candidate_frame
from recommender.snapshot import Snapshot


class Scorer(Protocol):
    """What the recommender needs from a model."""

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """One score per candidate row; ``X`` has (at least) the :data:`FEATURES` columns."""
        ...


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
    row = snap.row(employee_id)
    frame = candidate_frame(
        snap, cat, usage, year, rows=np.array([row]), max_candidates=max(150, k)
    )
    keep = np.ones(len(frame), dtype=bool)
    if accredited_only:
        keep &= frame["accredited"].to_numpy() == 1.0
    if modality is not None:
        of = cat.memo(
            "modality_of", lambda: dict(zip(cat.ids, cat.programs["modality"], strict=True))
        )
        keep &= np.array([of.get(p) == modality for p in frame["program_id"]], dtype=bool)
    if not keep.all():
        frame = frame[keep]
    if frame.empty:
        return frame.assign(score=[], rank=[])
    score = np.asarray(scorer.predict(frame), dtype=float)  # the scorer picks FEATURES
    top = np.argsort(-score, kind="stable")[:k]
    out = frame.iloc[top].reset_index(drop=True)
    return out.assign(score=score[top], rank=np.arange(1, len(top) + 1))
