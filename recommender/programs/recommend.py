"""Top-k programmes for one person: candidates -> features -> ranker -> business rules.

The same candidate and feature code as training (:mod:`recommender.programs.features`); the
ranker is anything with ``predict(frame) -> scores`` (a :class:`ProgramRanker`).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pandas as pd

from recommender.programs.catalog import Catalog
from recommender.programs.features import FEATURES, Usage, candidate_frame
from recommender.snapshot import Snapshot


class Scorer(Protocol):
    """What the recommender needs from a model."""

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """One score per candidate row."""
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
    if accredited_only:
        frame = frame[frame["accredited"] == 1.0]
    if modality is not None:
        codes = cat.programs.set_index("program_id")["modality"]
        frame = frame[frame["program_id"].map(codes) == modality]
    if frame.empty:
        return frame.assign(score=[], rank=[])
    frame = frame.assign(score=scorer.predict(frame[list(FEATURES)]))
    frame = frame.sort_values("score", ascending=False, kind="stable").head(k)
    return frame.assign(rank=np.arange(1, len(frame) + 1)).reset_index(drop=True)
