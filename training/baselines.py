"""Baselines, scored on exactly the same candidates as the model (names used in all output).

- ``popularity``: enrolments in the programme over the last two years, everyone.
- ``popularity_position``: share of people in the same position who took it.
- ``gap_rule``: priority-weighted coverage of the current and target-position gaps — what a
  manual training-needs analysis does today.
- ``item_knn``: item-based k-nearest neighbours on co-enrolment (cosine, top 20 neighbours).

Ties are broken by global popularity, then by candidate order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BASELINES: dict[str, str] = {
    "popularity": "pop_global",
    "popularity_position": "pop_position",
    "gap_rule": "gap_rule",
    "item_knn": "item_knn",
}


def baseline_scores(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Score of every baseline for every candidate row of ``frame``."""
    tie = 1e-6 * frame["pop_global"].to_numpy(float) / (1 + frame["pop_global"].max())
    out = {}
    for name, column in BASELINES.items():
        values = np.nan_to_num(frame[column].to_numpy(float))
        out[name] = values + (tie if name != "popularity" else 0.0)
    return out
